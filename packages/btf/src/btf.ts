import { BtfError, btfParseError } from "./errors.js";
import { essentialName } from "./essential-name.js";
import { BtfKind, kindName } from "./kinds.js";
import { NameIndex } from "./name-index.js";
import { enumValueOf, findMember, type MemberLayout, membersOf, typeNameOf } from "./query.js";
import { decodeCString } from "./strings.js";
import type {
  BtfEnum64Value,
  BtfEnumValue,
  BtfMember,
  BtfParam,
  BtfType,
  BtfTypeOf,
  BtfVarSecinfo,
} from "./types.js";

/** @internal The parsed, still-encoded form a {@link Btf} reads its types from. */
export interface BtfData {
  base: Btf | undefined;
  littleEndian: boolean;
  /** The first type id of this blob: 1, or the base's `count` for split BTF. */
  startId: number;
  /** The type section as 32-bit words in host order. */
  words: Uint32Array;
  /** Word offset of each own type in `words` (index = id - startId). */
  offs: Uint32Array;
  /** This blob's string section (handed over to the Btf constructor, which empties this field). */
  strings: Uint8Array | undefined;
  /** The string section as one string (one char per byte) when it is pure ASCII; then `strings` is unset. */
  text: string | undefined;
  /** Length of the string section in bytes. */
  strLen: number;
  /** String offset where this blob's string section starts: 0, or the base's total for split BTF. */
  strStart: number;
  /** Header length of the input (kept so that marshalling reproduces it). */
  hdrLen: number;
  /** Byte offset of the type section in the input: error messages name offsets in the input. */
  typeSectionOffset: number;
}

const VOID: BtfType = Object.freeze({ id: 0, kind: BtfKind.Void, name: "" });

/** The maximum chain length walked by resolve/sizeOf/alignOf before declaring a loop. */
const MAX_DEPTH = 1024;

/**
 * Parsed BTF: the types of one blob (plus, for split BTF, those of its base).
 *
 * Types are decoded lazily: parsing validates the blob and indexes where each type starts; `typeById`
 * decodes a type into a plain object on first use and caches it. Queries that only need a kind, name or
 * size (`kind`, `name`, `sizeOf`...) read the encoded form directly.
 *
 * Type ids run from 0 (`void`) to `count - 1`. Split BTF (a kernel module on top of vmlinux) shares the id
 * space and string offsets with its `base`: ids below `startId` are the base's, and every query accepts them.
 *
 * @example
 * ```ts
 * const btf = parseBtf(bytes);
 * const attr = btf.findByName("bpf_attr", BtfKind.Union);
 * if (attr?.kind === BtfKind.Union) console.log(btf.sizeOf(attr.id), attr.members.length);
 * ```
 */
export class Btf implements Iterable<BtfType> {
  /** The base BTF this one is split from, if any. */
  readonly base: Btf | undefined;
  /** First type id owned by this blob: 1 for base BTF, the base's `count` for split BTF. */
  readonly startId: number;
  /** Number of type ids including void (and, for split BTF, the base's types): valid ids are `0..count-1`. */
  readonly count: number;
  /** Byte order the blob was encoded in. */
  readonly littleEndian: boolean;

  /** @internal */
  readonly data: BtfData;
  readonly #words: Uint32Array;
  readonly #offs: Uint32Array;
  /** The raw string section, when it is not pure ASCII. */
  readonly #strings: Uint8Array | undefined;
  /** The whole string section as one JS string (one char per byte) when it is pure ASCII. */
  readonly #text: string | undefined;
  readonly #strLen: number;
  readonly #strStart: number;
  /** Decoded types by index (id - startId), allocated on the first `typeById`. */
  #cache: (BtfType | undefined)[] | undefined;
  #nameIndex: NameIndex | Map<string, number | number[]> | undefined;
  #stringIndex: Map<string, number> | undefined;
  #ptrSize = 0;
  #aligns: Map<number, number> | undefined;

  /** @internal Use {@link parseBtf} or the builder. */
  constructor(data: BtfData) {
    this.data = data;
    this.base = data.base;
    this.startId = data.startId;
    this.count = data.startId + data.offs.length;
    this.littleEndian = data.littleEndian;
    this.#words = data.words;
    this.#offs = data.offs;
    this.#strings = data.strings;
    this.#text = data.text;
    this.#strLen = data.strLen;
    this.#strStart = data.strStart;
  }

  /** Alias of {@link Btf.count}. */
  get typeCount(): number {
    return this.count;
  }

  /** Total size of the string space: the base's strings plus this blob's. */
  get stringsLength(): number {
    return this.#strStart + this.#strLen;
  }

  /** @internal This blob's string section, byte for byte. */
  stringBytes(): Uint8Array {
    if (this.#strings) return this.#strings;
    return new TextEncoder().encode(this.#text as string);
  }

  // ------------------------------------------------------------------------------------------------------
  // Types

  /**
   * The type with this id, decoded (and cached) on first use. Id 0 is `void`.
   * @throws {@link BtfError} `ERR_EBPF_BTF_TYPE_NOT_FOUND` for an id outside `0..count-1`.
   */
  typeById(id: number): BtfType {
    const i = id - this.startId;
    if (i >>> 0 === i && i < this.#offs.length) {
      let cache = this.#cache;
      if (cache === undefined) {
        cache = new Array(this.#offs.length);
        this.#cache = cache;
      }
      const cached = cache[i];
      if (cached !== undefined) return cached;
      const t = this.#decode(id, this.#offs[i]);
      cache[i] = t;
      return t;
    }
    if (id === 0) return VOID;
    if (this.base && id > 0 && id < this.startId) return this.base.typeById(id);
    throw this.#notFound(id);
  }

  /**
   * @internal The type with this id, decoded without filling the cache (for one-pass consumers such as
   * marshalling, so that a full pass does not leave every decoded object retained).
   */
  decodeType(id: number): BtfType {
    const i = id - this.startId;
    if (i >>> 0 === i && i < this.#offs.length) return this.#cache?.[i] ?? this.#decode(id, this.#offs[i]);
    return this.typeById(id);
  }

  /** Whether `id` names a type of this BTF (or its base). */
  has(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.count;
  }

  /** The kind number of a type without decoding it. */
  kind(id: number): BtfKind {
    const i = id - this.startId;
    if (i >>> 0 === i && i < this.#offs.length)
      return ((this.#words[this.#offs[i] + 1] >>> 24) & 0x1f) as BtfKind;
    if (id === 0) return BtfKind.Void;
    if (this.base && id > 0 && id < this.startId) return this.base.kind(id);
    throw this.#notFound(id);
  }

  /** `vlen` of a type: number of members, values, params or vars (0 for other kinds). */
  vlen(id: number): number {
    const i = id - this.startId;
    if (i >>> 0 === i && i < this.#offs.length) return this.#words[this.#offs[i] + 1] & 0xffff;
    if (id === 0) return 0;
    if (this.base && id > 0 && id < this.startId) return this.base.vlen(id);
    throw this.#notFound(id);
  }

  /** The name of a type, `""` when anonymous, without decoding the type. */
  name(id: number): string {
    const i = id - this.startId;
    if (i >>> 0 === i && i < this.#offs.length) return this.stringAt(this.#words[this.#offs[i]]);
    if (id === 0) return "";
    if (this.base && id > 0 && id < this.startId) return this.base.name(id);
    throw this.#notFound(id);
  }

  /** The string at a string-section offset (offsets below the own section go to the base). */
  stringAt(offset: number): string {
    const local = offset - this.#strStart;
    if (local >= 0) {
      if (local >= this.#strLen || local >>> 0 !== local)
        throw new BtfError(
          "ERR_EBPF_BTF_TYPE_NOT_FOUND",
          `string offset ${offset} is not inside the string section`,
        );
      const text = this.#text;
      if (text !== undefined) return text.slice(local, text.indexOf("\0", local));
      return decodeCString(this.#strings as Uint8Array, local);
    }
    if (this.base) return this.base.stringAt(offset);
    throw new BtfError(
      "ERR_EBPF_BTF_TYPE_NOT_FOUND",
      `string offset ${offset} is not inside the string section`,
    );
  }

  /**
   * The offset of a string in the string section (the base's first), or `undefined` when it is absent.
   * The first call indexes every string.
   */
  findString(s: string): number | undefined {
    if (s === "") return 0;
    const inBase = this.base?.findString(s);
    if (inBase !== undefined) return inBase;
    if (!this.#stringIndex) {
      const map = new Map<string, number>();
      if (this.#strLen > 0) {
        const text = this.#text;
        if (text !== undefined) {
          let i = 0;
          for (const str of text.split("\0")) {
            if (!map.has(str)) map.set(str, this.#strStart + i);
            i += str.length + 1;
          }
        } else {
          const bytes = this.#strings as Uint8Array;
          let i = 0;
          while (i < bytes.length) {
            const str = decodeCString(bytes, i);
            if (!map.has(str)) map.set(str, this.#strStart + i);
            let end = i;
            while (bytes[end] !== 0) end++;
            i = end + 1;
          }
        }
      }
      this.#stringIndex = map;
    }
    return this.#stringIndex.get(s);
  }

  /** Iterates over this blob's own types (ids `startId..count-1`; void and base types are not included). */
  *[Symbol.iterator](): Iterator<BtfType> {
    for (let id = this.startId; id < this.count; id++) yield this.typeById(id);
  }

  /** This blob's own types, in id order, as an array (decodes all of them). */
  types(): BtfType[] {
    const out: BtfType[] = new Array(this.count - this.startId);
    for (let id = this.startId; id < this.count; id++) out[id - this.startId] = this.typeById(id);
    return out;
  }

  // ------------------------------------------------------------------------------------------------------
  // Lookup by name

  /**
   * The first type (lowest id, base first) with this name and, if given, this kind; `undefined` if none.
   * The first call builds a name index over all types (tens of ms for vmlinux); later calls are a map lookup.
   *
   * @example
   * ```ts
   * const cmd = btf.findByName("bpf_cmd", BtfKind.Enum);
   * ```
   */
  findByName<K extends BtfKind>(name: string, kind?: K): BtfTypeOf<K> | undefined {
    const id = this.findIdByName(name, kind);
    return id === undefined ? undefined : (this.typeById(id) as BtfTypeOf<K>);
  }

  /** The id of the first type with this name (and kind, if given), base first; `undefined` if none. */
  findIdByName(name: string, kind?: BtfKind): number | undefined {
    const inBase = this.base?.findIdByName(name, kind);
    if (inBase !== undefined) return inBase;
    let found: number | undefined;
    this.#find(name, (id) => {
      if (kind !== undefined && this.kind(id) !== kind) return false;
      found = id;
      return true;
    });
    return found;
  }

  /** Every type with this name (and kind, if given), base types first, in id order. */
  findAllByName<K extends BtfKind>(name: string, kind?: K): BtfTypeOf<K>[] {
    return this.findIdsByName(name, kind).map((id) => this.typeById(id) as BtfTypeOf<K>);
  }

  /** Ids of every type with this name (and kind, if given), base types first. */
  findIdsByName(name: string, kind?: BtfKind): number[] {
    const out = this.base ? this.base.findIdsByName(name, kind) : [];
    this.#find(name, (id) => {
      if (kind === undefined || this.kind(id) === kind) out.push(id);
      return false;
    });
    return out;
  }

  /**
   * Ids of every type whose essential name is `name`: the name itself, or the name followed by a
   * `___flavor` suffix (`task_struct___v1`), as libbpf matches CO-RE candidates. Base types first, each
   * part in id order. `name` should itself be essential (no flavor suffix).
   *
   * @example
   * ```ts
   * vmlinux.findIdsByEssentialName("task_struct"); // [id of struct task_struct]
   * ```
   */
  findIdsByEssentialName(name: string): number[] {
    const out = this.base ? this.base.findIdsByEssentialName(name) : [];
    const index = this.#index();
    const start = this.startId;
    if (index instanceof NameIndex) {
      for (const i of index.findEssential(name)) out.push(i + start);
      return out;
    }
    const own: number[] = [];
    for (const [n, ids] of index) {
      if (n !== name && !(n.length > name.length && n.startsWith(name) && essentialName(n) === name))
        continue;
      if (typeof ids === "number") own.push(ids);
      else own.push(...ids);
    }
    own.sort((a, b) => a - b);
    for (const id of own) out.push(id);
    return out;
  }

  /** The name index of the own types, built on first use. */
  #index(): NameIndex | Map<string, number | number[]> {
    let index = this.#nameIndex;
    if (index === undefined) {
      const words = this.#words;
      const offs = this.#offs;
      index =
        this.#text !== undefined
          ? new NameIndex(
              offs.length,
              (i) => words[offs[i]],
              this.#text,
              this.#strStart,
              (o) => this.stringAt(o),
            )
          : this.#mapIndex();
      this.#nameIndex = index;
    }
    return index;
  }

  /** Visits own type ids named `name` in ascending order until `visit` returns true. */
  #find(name: string, visit: (id: number) => boolean): void {
    const index = this.#index();
    const start = this.startId;
    if (index instanceof NameIndex) {
      index.find(name, (i) => visit(i + start));
      return;
    }
    const hit = index.get(name);
    if (hit === undefined) return;
    if (typeof hit === "number") visit(hit);
    else for (const id of hit) if (visit(id)) return;
  }

  /** The name index for string sections that are not pure ASCII: a Map of decoded names. */
  #mapIndex(): Map<string, number | number[]> {
    const index = new Map<string, number | number[]>();
    const words = this.#words;
    const offs = this.#offs;
    for (let i = 0; i < offs.length; i++) {
      const nameOff = words[offs[i]];
      if (nameOff === 0) continue;
      const name = this.stringAt(nameOff);
      if (name === "") continue;
      const id = i + this.startId;
      const prev = index.get(name);
      if (prev === undefined) index.set(name, id);
      else if (typeof prev === "number") index.set(name, [prev, id]);
      else prev.push(id);
    }
    return index;
  }

  // ------------------------------------------------------------------------------------------------------
  // Resolution, size and alignment

  /** Id of the type behind typedefs and qualifiers (const, volatile, restrict, type tags). */
  resolveId(id: number): number {
    let cur = id;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      switch (this.kind(cur)) {
        case BtfKind.Typedef:
        case BtfKind.Const:
        case BtfKind.Volatile:
        case BtfKind.Restrict:
        case BtfKind.TypeTag:
          cur = this.#ref(cur);
          break;
        default:
          return cur;
      }
    }
    throw this.#loop(id);
  }

  /** The type behind typedefs and qualifiers (const, volatile, restrict, type tags). */
  resolve(id: number): BtfType {
    return this.typeById(this.resolveId(id));
  }

  /** Pointer size in bytes: from the size of `long` in this BTF, else 8. */
  get pointerSize(): number {
    if (this.#ptrSize) return this.#ptrSize;
    if (this.base) {
      this.#ptrSize = this.base.pointerSize;
      return this.#ptrSize;
    }
    let size = 8;
    const longNames = new Set([
      "long",
      "long int",
      "unsigned long",
      "long unsigned int",
      "unsigned long int",
    ]);
    for (let id = this.startId; id < this.count && id < this.startId + 4096; id++) {
      if (this.kind(id) !== BtfKind.Int) continue;
      const sz = this.#words[this.#offs[id - this.startId] + 2];
      if ((sz === 4 || sz === 8) && longNames.has(this.name(id))) {
        size = sz;
        break;
      }
    }
    this.#ptrSize = size;
    return size;
  }

  /**
   * Size of a type in bytes, through typedefs, qualifiers, vars and arrays (like libbpf's
   * `btf__resolve_size`).
   * @throws {@link BtfError} `ERR_EBPF_BTF_NO_SIZE` for void, functions and forward declarations.
   */
  sizeOf(id: number): number {
    let cur = id;
    let mult = 1;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const kind = this.kind(cur);
      switch (kind) {
        case BtfKind.Int:
        case BtfKind.Struct:
        case BtfKind.Union:
        case BtfKind.Enum:
        case BtfKind.Enum64:
        case BtfKind.Datasec:
        case BtfKind.Float:
          return mult * this.#word(cur, 2);
        case BtfKind.Ptr:
          return mult * this.pointerSize;
        case BtfKind.Typedef:
        case BtfKind.Const:
        case BtfKind.Volatile:
        case BtfKind.Restrict:
        case BtfKind.TypeTag:
        case BtfKind.Var:
        case BtfKind.DeclTag:
          cur = this.#ref(cur);
          break;
        case BtfKind.Array:
          mult *= this.#word(cur, 5);
          cur = this.#word(cur, 3);
          break;
        default:
          throw new BtfError("ERR_EBPF_BTF_NO_SIZE", `type [${id}] ${this.#describe(cur)} has no size`);
      }
    }
    throw this.#loop(id);
  }

  /**
   * Alignment of a type in bytes, as a C compiler would lay it out (like libbpf's `btf__align_of`):
   * a struct whose members are not naturally aligned is packed (alignment 1).
   * @throws {@link BtfError} `ERR_EBPF_BTF_NO_SIZE` for void, functions and forward declarations.
   */
  alignOf(id: number): number {
    return this.#alignOf(id, 0);
  }

  #alignOf(id: number, depth: number): number {
    if (depth > 64) throw this.#loop(id);
    const kind = this.kind(id);
    switch (kind) {
      case BtfKind.Int:
      case BtfKind.Enum:
      case BtfKind.Enum64:
      case BtfKind.Float:
        return Math.min(this.pointerSize, this.#word(id, 2)) || 1;
      case BtfKind.Ptr:
        return this.pointerSize;
      case BtfKind.Typedef:
      case BtfKind.Const:
      case BtfKind.Volatile:
      case BtfKind.Restrict:
      case BtfKind.TypeTag:
      case BtfKind.Var:
        return this.#alignOf(this.#ref(id), depth + 1);
      case BtfKind.Array:
        return this.#alignOf(this.#word(id, 3), depth + 1);
      case BtfKind.Struct:
      case BtfKind.Union: {
        // Memoised: without it, aggregates nesting other aggregates several times over would cost
        // exponential time on hostile input.
        const known = this.#aligns?.get(id);
        if (known !== undefined) return known;
        const t = this.typeById(id) as BtfTypeOf<typeof BtfKind.Struct>;
        let max = 1;
        let packed = false;
        for (const m of t.members) {
          const align = this.#alignOf(m.type, depth + 1);
          if (align > max) max = align;
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * align) !== 0) {
            packed = true;
            break;
          }
        }
        const result = packed || t.size % max !== 0 ? 1 : max;
        this.#aligns ??= new Map();
        this.#aligns.set(id, result);
        return result;
      }
      default:
        throw new BtfError("ERR_EBPF_BTF_NO_SIZE", `type [${id}] ${this.#describe(id)} has no alignment`);
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Members, enums, names

  /**
   * The members of a struct or union (through typedefs), with bit offsets and bitfield sizes normalised over
   * both bitfield encodings.
   * @throws {@link BtfError} `ERR_EBPF_BTF_WRONG_KIND` for other kinds.
   */
  members(id: number): MemberLayout[] {
    return membersOf(this, id);
  }

  /**
   * A member by dotted path (`"a.b.c"`), with its bit offset from the start of the outermost aggregate.
   * Members of anonymous structs/unions are found as in C. `undefined` when absent.
   *
   * @example
   * ```ts
   * btf.findMember(attr.id, "prog_type")?.byteOffset; // 0
   * ```
   */
  findMember(id: number, path: string): MemberLayout | undefined {
    return findMember(this, id, path);
  }

  /** The value of enumerator `name` of enum `id`: a number for ENUM, a bigint for ENUM64; `undefined` if absent. */
  enumValue(id: number, name: string): number | bigint | undefined {
    return enumValueOf(this, id, name);
  }

  /**
   * A C-like spelling of a type (`"const char *"`, `"struct sk_buff *"`, `"int (*)(void *)"`); with
   * `declName`, a declaration of that name (`"int (*cb)(void *)"`).
   */
  typeName(id: number, declName?: string): string {
    return typeNameOf(this, id, declName);
  }

  // ------------------------------------------------------------------------------------------------------
  // Internals

  /** Word `n` of a type's record (0 = name_off, 1 = info, 2 = size/type, 3.. = extra). */
  #word(id: number, n: number): number {
    const i = id - this.startId;
    if (i >>> 0 === i && i < this.#offs.length) return this.#words[this.#offs[i] + n];
    if (this.base && id > 0 && id < this.startId) return this.base.#word(id, n);
    throw this.#notFound(id);
  }

  #ref(id: number): number {
    return this.#word(id, 2);
  }

  #describe(id: number): string {
    const name = id === 0 ? "void" : this.name(id);
    return `${kindName(this.kind(id))} '${name || "(anon)"}'`;
  }

  #notFound(id: number): BtfError {
    return new BtfError(
      "ERR_EBPF_BTF_TYPE_NOT_FOUND",
      `type id ${id} does not exist (valid ids are 0..${this.count - 1})`,
    );
  }

  #loop(id: number): Error {
    const offset = this.#byteOffsetOf(id);
    return btfParseError(offset, "a type chain that ends", `type [${id}] refers back to itself`);
  }

  /** Byte offset of a type's record in the input it was parsed from. */
  #byteOffsetOf(id: number): number {
    const i = id - this.startId;
    if (i >>> 0 === i && i < this.#offs.length) return this.data.typeSectionOffset + this.#offs[i] * 4;
    if (this.base && id > 0 && id < this.startId) return this.base.#byteOffsetOf(id);
    return 0;
  }

  #decode(id: number, o: number): BtfType {
    const w = this.#words;
    const info = w[o + 1];
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kindFlag = info >>> 31 === 1;
    const name = this.stringAt(w[o]);
    const sizeOrType = w[o + 2];
    const x = o + 3;
    switch (kind) {
      case BtfKind.Int: {
        const data = w[x];
        return {
          id,
          kind,
          name,
          size: sizeOrType,
          encoding: (data >>> 24) & 0x0f,
          offset: (data >>> 16) & 0xff,
          bits: data & 0xff,
        };
      }
      case BtfKind.Ptr:
      case BtfKind.Typedef:
      case BtfKind.Volatile:
      case BtfKind.Const:
      case BtfKind.Restrict:
        return { id, kind, name, type: sizeOrType };
      case BtfKind.TypeTag:
        return { id, kind, name, type: sizeOrType, attribute: kindFlag };
      case BtfKind.Array:
        return { id, kind, name, elemType: w[x], indexType: w[x + 1], nelems: w[x + 2] };
      case BtfKind.Struct:
      case BtfKind.Union: {
        const members: BtfMember[] = new Array(vlen);
        for (let i = 0, p = x; i < vlen; i++, p += 3) {
          const off = w[p + 2];
          members[i] = kindFlag
            ? {
                name: this.stringAt(w[p]),
                type: w[p + 1],
                bitOffset: off & 0xffffff,
                bitfieldSize: off >>> 24,
              }
            : { name: this.stringAt(w[p]), type: w[p + 1], bitOffset: off, bitfieldSize: 0 };
        }
        return { id, kind, name, size: sizeOrType, kindFlag, members };
      }
      case BtfKind.Enum: {
        const values: BtfEnumValue[] = new Array(vlen);
        for (let i = 0, p = x; i < vlen; i++, p += 2) {
          values[i] = { name: this.stringAt(w[p]), value: kindFlag ? w[p + 1] | 0 : w[p + 1] };
        }
        return { id, kind, name, size: sizeOrType, signed: kindFlag, values };
      }
      case BtfKind.Enum64: {
        const values: BtfEnum64Value[] = new Array(vlen);
        for (let i = 0, p = x; i < vlen; i++, p += 3) {
          const v = (BigInt(w[p + 2]) << 32n) | BigInt(w[p + 1]);
          values[i] = { name: this.stringAt(w[p]), value: kindFlag ? BigInt.asIntN(64, v) : v };
        }
        return { id, kind, name, size: sizeOrType, signed: kindFlag, values };
      }
      case BtfKind.Fwd:
        return { id, kind, name, union: kindFlag };
      case BtfKind.Func:
        return { id, kind, name, type: sizeOrType, linkage: vlen };
      case BtfKind.FuncProto: {
        const params: BtfParam[] = new Array(vlen);
        for (let i = 0, p = x; i < vlen; i++, p += 2)
          params[i] = { name: this.stringAt(w[p]), type: w[p + 1] };
        return { id, kind, name, returnType: sizeOrType, params };
      }
      case BtfKind.Var:
        return { id, kind, name, type: sizeOrType, linkage: w[x] };
      case BtfKind.Datasec: {
        const vars: BtfVarSecinfo[] = new Array(vlen);
        for (let i = 0, p = x; i < vlen; i++, p += 3)
          vars[i] = { type: w[p], offset: w[p + 1], size: w[p + 2] };
        return { id, kind, name, size: sizeOrType, vars };
      }
      case BtfKind.Float:
        return { id, kind, name, size: sizeOrType };
      case BtfKind.DeclTag:
        return { id, kind, name, type: sizeOrType, componentIdx: w[x] | 0, attribute: kindFlag };
      default:
        // parseBtf rejects unknown kinds, so this is unreachable for parsed data.
        throw btfParseError(this.#byteOffsetOf(id), "a known BTF kind", `kind ${kind}`);
    }
  }
}
