/**
 * The BTF type model: one plain, read-only object per kind, discriminated by `kind` (a {@link BtfKind}).
 *
 * References to other types are **type ids** (numbers), never object pointers: look them up with
 * `btf.typeById(id)`. Id 0 is `void`. Names are decoded strings; `""` means anonymous.
 *
 * @packageDocumentation
 */
import type { BtfKind } from "./kinds.js";

/** Fields every type has. */
export interface BtfTypeCommon {
  /** The type id (0 = void). For split BTF, ids continue after the base's. */
  readonly id: number;
  /** The name, `""` when anonymous. */
  readonly name: string;
}

/** Type id 0. */
export interface BtfVoid extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Void;
}

/** `BTF_KIND_INT`. */
export interface BtfInt extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Int;
  /** Size in bytes. */
  readonly size: number;
  /** `BTF_INT_ENCODING`: a combination of {@link IntEncoding} flags (signed, char, bool). */
  readonly encoding: number;
  /** `BTF_INT_OFFSET`: bit offset of the value inside the storage (legacy bitfields; almost always 0). */
  readonly offset: number;
  /** `BTF_INT_BITS`: number of value bits. */
  readonly bits: number;
}

/** `BTF_KIND_PTR`. */
export interface BtfPtr extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Ptr;
  /** Pointee type id. */
  readonly type: number;
}

/** `BTF_KIND_ARRAY`. */
export interface BtfArray extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Array;
  /** Element type id. */
  readonly elemType: number;
  /** Index type id (usually an int). */
  readonly indexType: number;
  /** Number of elements. */
  readonly nelems: number;
}

/** A member of a struct or union. */
export interface BtfMember {
  /** Member name, `""` for an anonymous struct/union member. */
  readonly name: string;
  /** Member type id. */
  readonly type: number;
  /** Offset from the start of the aggregate, in bits. */
  readonly bitOffset: number;
  /**
   * Bitfield width in bits when the aggregate has `kindFlag` set; 0 for a plain member. Without `kindFlag`,
   * a bitfield is expressed by an INT member type whose `bits` is narrower than its size (see
   * `Btf.memberLayout`).
   */
  readonly bitfieldSize: number;
}

/** `BTF_KIND_STRUCT` or `BTF_KIND_UNION`. */
export interface BtfComposite<K extends typeof BtfKind.Struct | typeof BtfKind.Union> extends BtfTypeCommon {
  readonly kind: K;
  /** Size in bytes. */
  readonly size: number;
  /** The `kind_flag` bit: member offsets carry a bitfield size in their top 8 bits. */
  readonly kindFlag: boolean;
  readonly members: readonly BtfMember[];
}

/** `BTF_KIND_STRUCT`. */
export type BtfStruct = BtfComposite<typeof BtfKind.Struct>;
/** `BTF_KIND_UNION`. */
export type BtfUnion = BtfComposite<typeof BtfKind.Union>;

/** One enumerator of a 32-bit enum. */
export interface BtfEnumValue {
  readonly name: string;
  /** The value: read as signed when the enum is `signed`, unsigned otherwise. */
  readonly value: number;
}

/** `BTF_KIND_ENUM`: 32-bit values (size may be 1, 2, 4 or 8 bytes). */
export interface BtfEnum extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Enum;
  /** Size in bytes. */
  readonly size: number;
  /** `kind_flag`: values are signed. */
  readonly signed: boolean;
  readonly values: readonly BtfEnumValue[];
}

/** One enumerator of a 64-bit enum. */
export interface BtfEnum64Value {
  readonly name: string;
  /** The value, always a bigint: negative only when the enum is `signed`. */
  readonly value: bigint;
}

/** `BTF_KIND_ENUM64`: 64-bit values. */
export interface BtfEnum64 extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Enum64;
  /** Size in bytes. */
  readonly size: number;
  /** `kind_flag`: values are signed. */
  readonly signed: boolean;
  readonly values: readonly BtfEnum64Value[];
}

/** `BTF_KIND_FWD`: a forward declaration of a struct or (with `union`) a union. */
export interface BtfFwd extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Fwd;
  /** `kind_flag`: it declares a union rather than a struct. */
  readonly union: boolean;
}

/** `BTF_KIND_TYPEDEF`. */
export interface BtfTypedef extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Typedef;
  readonly type: number;
}

/** `BTF_KIND_VOLATILE`. */
export interface BtfVolatile extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Volatile;
  readonly type: number;
}

/** `BTF_KIND_CONST`. */
export interface BtfConst extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Const;
  readonly type: number;
}

/** `BTF_KIND_RESTRICT`. */
export interface BtfRestrict extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Restrict;
  readonly type: number;
}

/** `BTF_KIND_FUNC`: a function; its signature is the FUNC_PROTO `type`. */
export interface BtfFunc extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Func;
  /** The FUNC_PROTO type id. */
  readonly type: number;
  /** A {@link FuncLinkage} value (static, global, extern). */
  readonly linkage: number;
}

/** A parameter of a function prototype. */
export interface BtfParam {
  /** Parameter name, `""` when unnamed. */
  readonly name: string;
  /** Type id; a last parameter with type 0 and no name marks a variadic function (`...`). */
  readonly type: number;
}

/** `BTF_KIND_FUNC_PROTO`. */
export interface BtfFuncProto extends BtfTypeCommon {
  readonly kind: typeof BtfKind.FuncProto;
  /** Return type id (0 = void). */
  readonly returnType: number;
  readonly params: readonly BtfParam[];
}

/** `BTF_KIND_VAR`: a global or static variable, listed in a DATASEC. */
export interface BtfVar extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Var;
  readonly type: number;
  /** A {@link VarLinkage} value. */
  readonly linkage: number;
}

/** One variable (or function, for `.ksyms`) inside a data section. */
export interface BtfVarSecinfo {
  /** The VAR (or FUNC) type id. */
  readonly type: number;
  /** Byte offset inside the section. */
  readonly offset: number;
  /** Size in bytes. */
  readonly size: number;
}

/** `BTF_KIND_DATASEC`: an ELF data section such as `.data`, `.bss`, `.rodata`, `.maps`. */
export interface BtfDatasec extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Datasec;
  /** Section size in bytes (0 in an object file before the loader fills it in). */
  readonly size: number;
  readonly vars: readonly BtfVarSecinfo[];
}

/** `BTF_KIND_FLOAT`. */
export interface BtfFloat extends BtfTypeCommon {
  readonly kind: typeof BtfKind.Float;
  /** Size in bytes. */
  readonly size: number;
}

/** `BTF_KIND_DECL_TAG`: `__attribute__((btf_decl_tag("name")))` on a type, member or parameter. */
export interface BtfDeclTag extends BtfTypeCommon {
  readonly kind: typeof BtfKind.DeclTag;
  /** The tagged type id. */
  readonly type: number;
  /** -1 when the tag applies to the type itself; else the member or parameter index. */
  readonly componentIdx: number;
  /** `kind_flag` (kernel ≥ 6.14): the tag is a plain C attribute rather than a BTF tag. */
  readonly attribute: boolean;
}

/** `BTF_KIND_TYPE_TAG`: `__attribute__((btf_type_tag("name")))` on a pointee. */
export interface BtfTypeTag extends BtfTypeCommon {
  readonly kind: typeof BtfKind.TypeTag;
  readonly type: number;
  /** `kind_flag` (kernel ≥ 6.14): the tag is a plain C attribute rather than a BTF tag. */
  readonly attribute: boolean;
}

/** Any BTF type; narrow on `kind`. */
export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfPtr
  | BtfArray
  | BtfStruct
  | BtfUnion
  | BtfEnum
  | BtfFwd
  | BtfTypedef
  | BtfVolatile
  | BtfConst
  | BtfRestrict
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag
  | BtfTypeTag
  | BtfEnum64;

/** Kinds that only qualify or rename another type: `resolve()` skips them. */
export type BtfQualifier = BtfTypedef | BtfVolatile | BtfConst | BtfRestrict | BtfTypeTag;

/** A type of the given kind, e.g. `BtfTypeOf<typeof BtfKind.Struct>` is {@link BtfStruct}. */
export type BtfTypeOf<K extends BtfKind> = Extract<BtfType, { kind: K }>;

/**
 * A type as handed to the builder: a {@link BtfType} without its id (the builder assigns it).
 */
export type BtfTypeInit = BtfType extends infer T ? (T extends BtfType ? Omit<T, "id"> : never) : never;
