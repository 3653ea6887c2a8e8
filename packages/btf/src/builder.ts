import type { Btf } from "./btf.js";
import { BtfError } from "./errors.js";
import { BTF_KIND_MAX, BtfKind, FuncLinkage, IntEncoding, VarLinkage } from "./kinds.js";
import { assembleBtf, encodeTypes } from "./marshal.js";
import { parseBtf } from "./parse.js";
import { StringTable } from "./string-table.js";
import type {
  BtfEnum64Value,
  BtfEnumValue,
  BtfMember,
  BtfParam,
  BtfTypeInit,
  BtfVarSecinfo,
} from "./types.js";

/** Options of {@link BtfBuilder}. */
export interface BtfBuilderOptions {
  /** Build split BTF on top of this base: ids continue after its types, its strings are reused. */
  base?: Btf;
  /** Byte order of the output (default little-endian). */
  littleEndian?: boolean;
}

/** A member for {@link BtfBuilder.addStruct}: `bitfieldSize` defaults to 0. */
export type MemberInit = Omit<BtfMember, "bitfieldSize"> & { bitfieldSize?: number };

/**
 * Builds BTF type by type, or extends parsed BTF: `add` returns the new type's id; `build` encodes and
 * parses the result (so the output is validated exactly like any input).
 *
 * Types may refer to ids that are added later (a pointer to a struct defined afterwards).
 *
 * @example
 * ```ts
 * const b = new BtfBuilder();
 * const u32 = b.addInt("unsigned int", 4);
 * const s = b.addStruct("pair", 8, [{ name: "a", type: u32, bitOffset: 0 }, { name: "b", type: u32, bitOffset: 32 }]);
 * const btf = b.build();
 * btf.sizeOf(s); // 8
 * ```
 */
export class BtfBuilder {
  /** The base of split BTF, if any. */
  readonly base: Btf | undefined;
  /** The first id this builder assigns. */
  readonly startId: number;
  readonly #types: BtfTypeInit[] = [];
  readonly #strings: StringTable;
  readonly #littleEndian: boolean;
  readonly #hdrLen: number;

  constructor(options?: BtfBuilderOptions, seed?: { strings: Uint8Array; hdrLen: number }) {
    this.base = options?.base;
    this.startId = this.base ? this.base.count : 1;
    this.#strings = new StringTable(seed?.strings, this.base);
    this.#littleEndian = options?.littleEndian ?? true;
    this.#hdrLen = seed?.hdrLen ?? 24;
  }

  /**
   * A builder holding all of `btf`'s own types (same ids, same string section, same byte order), to add
   * more types to.
   */
  static from(btf: Btf): BtfBuilder {
    const b = new BtfBuilder(
      { base: btf.base, littleEndian: btf.littleEndian },
      { strings: btf.stringBytes(), hdrLen: btf.data.hdrLen },
    );
    for (let id = btf.startId; id < btf.count; id++) b.#types.push(btf.typeById(id));
    return b;
  }

  /** The id the next `add` returns. */
  get nextId(): number {
    return this.startId + this.#types.length;
  }

  /** The type with this id, as added (base types are looked up in the base). */
  typeById(id: number): BtfTypeInit {
    const t = this.#types[id - this.startId];
    if (t) return t;
    if (this.base && id >= 0 && id < this.startId) return this.base.typeById(id);
    throw new BtfError("ERR_EBPF_BTF_TYPE_NOT_FOUND", `type id ${id} has not been added`);
  }

  /** Adds a type; returns its id. */
  add(type: BtfTypeInit): number {
    if (!Number.isInteger(type.kind) || type.kind < 1 || type.kind > BTF_KIND_MAX)
      throw new BtfError("ERR_EBPF_BTF_INVALID", `cannot add a type of kind ${type.kind}`);
    if (typeof type.name !== "string")
      throw new BtfError("ERR_EBPF_BTF_INVALID", "a type name must be a string");
    const { id: _drop, ...rest } = type as BtfTypeInit & { id?: number };
    this.#types.push(rest as BtfTypeInit);
    return this.nextId - 1;
  }

  /** Adds an INT. `encoding` combines {@link IntEncoding} flags; `bits` defaults to `size * 8`. */
  addInt(name: string, size: number, encoding: number = IntEncoding.None, bits = size * 8): number {
    return this.add({ kind: BtfKind.Int, name, size, encoding, offset: 0, bits });
  }

  /** Adds a FLOAT. */
  addFloat(name: string, size: number): number {
    return this.add({ kind: BtfKind.Float, name, size });
  }

  /** Adds a PTR to `type`. */
  addPtr(type: number): number {
    return this.add({ kind: BtfKind.Ptr, name: "", type });
  }

  /** Adds an ARRAY of `nelems` elements of `elemType`, indexed by `indexType`. */
  addArray(elemType: number, indexType: number, nelems: number): number {
    return this.add({ kind: BtfKind.Array, name: "", elemType, indexType, nelems });
  }

  /** Adds a STRUCT; `kindFlag` is set when any member is a bitfield. */
  addStruct(name: string, size: number, members: readonly MemberInit[]): number {
    const ms = members.map((m) => ({ ...m, bitfieldSize: m.bitfieldSize ?? 0 }));
    return this.add({
      kind: BtfKind.Struct,
      name,
      size,
      kindFlag: ms.some((m) => m.bitfieldSize > 0),
      members: ms,
    });
  }

  /** Adds a UNION; `kindFlag` is set when any member is a bitfield. */
  addUnion(name: string, size: number, members: readonly MemberInit[]): number {
    const ms = members.map((m) => ({ ...m, bitfieldSize: m.bitfieldSize ?? 0 }));
    return this.add({
      kind: BtfKind.Union,
      name,
      size,
      kindFlag: ms.some((m) => m.bitfieldSize > 0),
      members: ms,
    });
  }

  /** Adds an ENUM with 32-bit values; `signed` defaults to whether any value is negative. */
  addEnum(name: string, size: number, values: readonly BtfEnumValue[], signed?: boolean): number {
    return this.add({
      kind: BtfKind.Enum,
      name,
      size,
      signed: signed ?? values.some((v) => v.value < 0),
      values,
    });
  }

  /** Adds an ENUM64; `signed` defaults to whether any value is negative. */
  addEnum64(name: string, size: number, values: readonly BtfEnum64Value[], signed?: boolean): number {
    return this.add({
      kind: BtfKind.Enum64,
      name,
      size,
      signed: signed ?? values.some((v) => v.value < 0n),
      values,
    });
  }

  /** Adds a FWD declaration of a struct (or a union). */
  addFwd(name: string, union = false): number {
    return this.add({ kind: BtfKind.Fwd, name, union });
  }

  /** Adds a TYPEDEF. */
  addTypedef(name: string, type: number): number {
    return this.add({ kind: BtfKind.Typedef, name, type });
  }

  /** Adds a CONST qualifier. */
  addConst(type: number): number {
    return this.add({ kind: BtfKind.Const, name: "", type });
  }

  /** Adds a VOLATILE qualifier. */
  addVolatile(type: number): number {
    return this.add({ kind: BtfKind.Volatile, name: "", type });
  }

  /** Adds a RESTRICT qualifier. */
  addRestrict(type: number): number {
    return this.add({ kind: BtfKind.Restrict, name: "", type });
  }

  /** Adds a FUNC_PROTO. */
  addFuncProto(returnType: number, params: readonly BtfParam[]): number {
    return this.add({ kind: BtfKind.FuncProto, name: "", returnType, params });
  }

  /** Adds a FUNC whose signature is the FUNC_PROTO `proto`. */
  addFunc(name: string, proto: number, linkage: number = FuncLinkage.Global): number {
    return this.add({ kind: BtfKind.Func, name, type: proto, linkage });
  }

  /** Adds a VAR. */
  addVar(name: string, type: number, linkage: number = VarLinkage.GlobalAllocated): number {
    return this.add({ kind: BtfKind.Var, name, type, linkage });
  }

  /** Adds a DATASEC. */
  addDatasec(name: string, size: number, vars: readonly BtfVarSecinfo[]): number {
    return this.add({ kind: BtfKind.Datasec, name, size, vars });
  }

  /** Adds a DECL_TAG on `type` (componentIdx -1) or on one of its members/parameters. */
  addDeclTag(name: string, type: number, componentIdx = -1): number {
    return this.add({ kind: BtfKind.DeclTag, name, type, componentIdx, attribute: false });
  }

  /** Adds a TYPE_TAG. */
  addTypeTag(name: string, type: number): number {
    return this.add({ kind: BtfKind.TypeTag, name, type, attribute: false });
  }

  /** Encodes the types added so far. */
  marshal(options?: { littleEndian?: boolean }): Uint8Array {
    const types = this.#types;
    const words = encodeTypes(types.length, (i) => types[i], this.#strings);
    return assembleBtf(
      words,
      this.#strings.bytes(),
      options?.littleEndian ?? this.#littleEndian,
      this.#hdrLen,
    );
  }

  /**
   * Encodes and parses the result.
   * @throws ParseError when the types do not form valid BTF (e.g. an id that was never added).
   */
  build(): Btf {
    return parseBtf(this.marshal(), { base: this.base });
  }
}
