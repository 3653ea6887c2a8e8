/**
 * BTF kind numbers, exactly as in the kernel's `include/uapi/linux/btf.h` (`BTF_KIND_*`).
 *
 * Every {@link BtfType} carries one of these in `kind`; switch on it to narrow the type.
 *
 * @example
 * ```ts
 * const t = btf.typeById(id);
 * if (t.kind === BtfKind.Struct) console.log(t.members.length);
 * ```
 */
export const BtfKind = {
  /** `BTF_KIND_UNKN`: only type id 0, `void`. */
  Void: 0,
  Int: 1,
  Ptr: 2,
  Array: 3,
  Struct: 4,
  Union: 5,
  Enum: 6,
  Fwd: 7,
  Typedef: 8,
  Volatile: 9,
  Const: 10,
  Restrict: 11,
  Func: 12,
  FuncProto: 13,
  Var: 14,
  Datasec: 15,
  Float: 16,
  DeclTag: 17,
  TypeTag: 18,
  Enum64: 19,
} as const;

/** A BTF kind number (0..19). */
export type BtfKind = (typeof BtfKind)[keyof typeof BtfKind];

/** The highest kind number this package understands (`BTF_KIND_MAX`). */
export const BTF_KIND_MAX = 19;

/** Upper-case kind names as the kernel and bpftool print them (`"STRUCT"`, `"FUNC_PROTO"`), indexed by kind. */
export const KIND_NAMES: readonly string[] = [
  "UNKN",
  "INT",
  "PTR",
  "ARRAY",
  "STRUCT",
  "UNION",
  "ENUM",
  "FWD",
  "TYPEDEF",
  "VOLATILE",
  "CONST",
  "RESTRICT",
  "FUNC",
  "FUNC_PROTO",
  "VAR",
  "DATASEC",
  "FLOAT",
  "DECL_TAG",
  "TYPE_TAG",
  "ENUM64",
];

/**
 * The bpftool name of a kind, e.g. `kindName(BtfKind.FuncProto) === "FUNC_PROTO"`; `"UNKNOWN(n)"` past the table.
 */
export function kindName(kind: number): string {
  return KIND_NAMES[kind] ?? `UNKNOWN(${kind})`;
}

/** `BTF_INT_*` encoding flags of an {@link BtfInt}: bits that may be combined. */
export const IntEncoding = {
  /** No flag: an unsigned integer. */
  None: 0,
  Signed: 1,
  Char: 2,
  Bool: 4,
} as const;

/** Linkage of a `FUNC` (`BTF_FUNC_*`). */
export const FuncLinkage = {
  Static: 0,
  Global: 1,
  Extern: 2,
} as const;

/** Linkage of a `VAR` (`BTF_VAR_*`). */
export const VarLinkage = {
  Static: 0,
  GlobalAllocated: 1,
  GlobalExtern: 2,
} as const;

/** The BTF magic number, `0xeb9f`; its byte order in a blob tells the blob's byte order. */
export const BTF_MAGIC = 0xeb9f;
/** The only BTF version there is. */
export const BTF_VERSION = 1;
