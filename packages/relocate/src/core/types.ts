/**
 * The view of BTF that CO-RE needs, kept structural so that relocation does not depend on how a BTF
 * model stores its types: `@ebpf/btf`'s model is adapted to it (see `fromBtf`), and tests can build
 * types by hand.
 */

import { BtfKind, essentialName, essentialNameLength, KIND_NAMES } from "@ebpf/btf";

/** BTF kinds (uapi `linux/btf.h`): `@ebpf/btf`'s, the one definition. */
export { BtfKind };

/** Lower-case name of a BTF kind, as libbpf prints it. */
export const kindName = (kind: number): string => KIND_NAMES[kind]?.toLowerCase() ?? `kind${kind}`;

/** `BTF_INT_SIGNED` bit of an int's encoding. */
export const BTF_INT_SIGNED = 1;

/** A struct/union member. */
export interface CoreMember {
  name: string;
  type: number;
  /** Offset of the member in bits from the start of the composite. */
  bitOffset: number;
  /** Bitfield size in bits, 0 when not a bitfield. */
  bitfieldSize: number;
}

/** An enum value (`ENUM` values are signed 32-bit unless the enum is unsigned). */
export interface CoreEnumValue {
  name: string;
  value: bigint;
}

/** A function prototype parameter. */
export interface CoreParam {
  name: string;
  type: number;
}

/**
 * One BTF type as CO-RE sees it. Only the fields of its kind are meaningful.
 */
export interface CoreType {
  kind: number;
  name: string;
  /** The kind flag bit (union forward declaration, signed enum, bitfield member layout). */
  kindFlag: boolean;
  /** Byte size: int, struct, union, enum, enum64, float, datasec. */
  size: number;
  /** Referenced type: ptr, typedef, modifiers, func, var, decl_tag, type_tag; return type of func_proto. */
  type: number;
  /** INT: encoding bits (`BTF_INT_SIGNED` = 1). */
  intEncoding?: number;
  /** INT: bit offset (deprecated bitfield-like ints have non-zero). */
  intOffset?: number;
  /** INT: number of bits. */
  intBits?: number;
  /** ARRAY: element type, index type, element count. */
  array?: { type: number; indexType: number; nelems: number };
  /** STRUCT/UNION. */
  members?: readonly CoreMember[];
  /** ENUM/ENUM64. */
  values?: readonly CoreEnumValue[];
  /** FUNC_PROTO. */
  params?: readonly CoreParam[];
}

/**
 * A BTF blob as CO-RE reads it: types by id (id 0 is void), and the number of ids.
 *
 * @example
 * ```ts
 * const view: CoreBtf = { typeCount: types.length, type: (id) => types[id] };
 * ```
 */
export interface CoreBtf {
  /** One past the largest type id. */
  readonly typeCount: number;
  /** The type with this id; id 0 is `void` (kind UNKN). Undefined when out of range. */
  type(id: number): CoreType | undefined;
  /** Size of a pointer in bytes; default 8. */
  readonly pointerSize?: number;
  /** Fast path: the name of a type without converting it (used to index candidates). */
  typeName?(id: number): string;
  /** Fast path: the kind of a type without converting it. */
  typeKind?(id: number): number;
  /**
   * Fast path: ids of the types whose essential name (name minus `___flavor`) is `name`, ascending, from
   * an index the BTF already has. Without it, candidates come from an index built over every type.
   */
  findIdsByEssentialName?(name: string): number[];
}

export const VOID: CoreType = { kind: BtfKind.Void, name: "", kindFlag: false, size: 0, type: 0 };

export const isComposite = (t: CoreType): boolean => t.kind === BtfKind.Struct || t.kind === BtfKind.Union;
export const isAnyEnum = (t: CoreType): boolean => t.kind === BtfKind.Enum || t.kind === BtfKind.Enum64;
export const isMod = (t: CoreType): boolean =>
  t.kind === BtfKind.Volatile ||
  t.kind === BtfKind.Const ||
  t.kind === BtfKind.Restrict ||
  t.kind === BtfKind.TypeTag;

/** libbpf's `btf_kind_core_compat`: same kind, or both enums. */
export const kindCoreCompat = (a: CoreType, b: CoreType): boolean =>
  a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));

/** Type with id, void for 0, undefined when out of range. */
export function typeById(btf: CoreBtf, id: number): CoreType | undefined {
  if (id === 0) return btf.type(0) ?? VOID;
  if (id < 0 || id >= btf.typeCount) return undefined;
  return btf.type(id);
}

/** Follows typedefs and modifiers; returns the type and its id, or undefined on a bad id. */
export function skipModsAndTypedefs(btf: CoreBtf, id: number): { t: CoreType; id: number } | undefined {
  let t = typeById(btf, id);
  for (let depth = 0; t && (isMod(t) || t.kind === BtfKind.Typedef); depth++) {
    if (depth > 64) return undefined;
    id = t.type;
    t = typeById(btf, id);
  }
  return t ? { t, id } : undefined;
}

/** libbpf's `btf__resolve_size`; returns a negative number when the size cannot be resolved. */
export function resolveSize(btf: CoreBtf, id: number): number {
  let nelems = 1;
  let t = typeById(btf, id);
  for (let i = 0; i < 32 && t && !(id === 0 || t.kind === BtfKind.Void); i++) {
    switch (t.kind) {
      case BtfKind.Int:
      case BtfKind.Struct:
      case BtfKind.Union:
      case BtfKind.Enum:
      case BtfKind.Enum64:
      case BtfKind.Datasec:
      case BtfKind.Float:
        return nelems * t.size;
      case BtfKind.Ptr:
        return nelems * (btf.pointerSize ?? 8);
      case BtfKind.Typedef:
      case BtfKind.Volatile:
      case BtfKind.Const:
      case BtfKind.Restrict:
      case BtfKind.Var:
      case BtfKind.DeclTag:
      case BtfKind.TypeTag:
        id = t.type;
        break;
      case BtfKind.Array:
        nelems *= t.array?.nelems ?? 0;
        id = t.array?.type ?? 0;
        break;
      default:
        return -1;
    }
    t = typeById(btf, id);
  }
  return -1;
}

/** CO-RE essential names: `@ebpf/btf`'s (one implementation of libbpf's rule). */
export { essentialName, essentialNameLength };
