/**
 * Codecs: between the bytes of a BTF type (a map key or value, a ring buffer event, a global variable
 * section) and plain JS values. The accessors are chosen once per field when the codec is built, so
 * decoding is a walk over prepared closures with no type inspection.
 *
 * | C type | JS value |
 * | --- | --- |
 * | integers up to 32 bits, bitfields up to 32 bits, floats | `number` |
 * | 64- and 128-bit integers, pointers, wider bitfields | `bigint` (or `number` with `int64: "number"`) |
 * | `_Bool` | `boolean` |
 * | `char[N]` | `string` (up to the first NUL; UTF-8), or bytes with `chars: "bytes"` |
 * | other 1-byte integer arrays (`__u8[N]`) | `Uint8Array` |
 * | other arrays | `Array` |
 * | struct, union, DATASEC | object keyed by member name; anonymous members are flattened |
 * | enums | `number` (`bigint` for 64-bit), or the enumerator name with `enums: "name"` |
 *
 * @packageDocumentation
 */
import type { Btf } from "./btf.js";
import {
  bitfieldAccessors,
  bytesAccessors,
  CodecError,
  floatAccessors,
  intAccessors,
  type Reader,
  type Writer,
} from "./codec-primitives.js";
import { BtfKind, IntEncoding } from "./kinds.js";
import type { BtfStruct, BtfType, BtfUnion } from "./types.js";

export { CodecError } from "./codec-primitives.js";

/** Converts between the bytes of one type and a JS value. */
export interface Codec<T = unknown> {
  /** Size of the encoded value in bytes. */
  readonly size: number;
  /**
   * Decodes the value at `offset` (default 0) of `data`.
   * @throws {@link CodecError} when `data` is shorter than `offset + size`.
   */
  decode(data: DataView | Uint8Array, offset?: number): T;
  /**
   * Encodes `value` into `target` at `offset` (default 0), or into a new `Uint8Array(size)`, and returns
   * the bytes written to. All `size` bytes are written: fields missing from `value` and padding are zero.
   * @throws {@link CodecError} for a value of the wrong type or out of range, or a target too small.
   */
  encode(value: T, target?: Uint8Array, offset?: number): Uint8Array;
}

/** Options of {@link createCodec}. */
export interface CodecOptions {
  /** Byte order of the encoded bytes. Default: the byte order of the BTF blob. */
  littleEndian?: boolean;
  /** Enums as `"number"` (default) or as the enumerator `"name"` (numbers for values without a name). */
  enums?: "number" | "name";
  /** 64-bit integers and pointers as `"bigint"` (default) or `"number"` (lossy above 2^53). */
  int64?: "bigint" | "number";
  /** `char` arrays as `"string"` (default) or `"bytes"` (`Uint8Array`). */
  chars?: "string" | "bytes";
}

interface Accessor {
  size: number;
  read: Reader;
  write: Writer;
}

interface Field {
  name: string;
  /** Byte offset of the field (bitfields: of the struct; their accessor holds the bit offset). */
  offset: number;
  read: Reader;
  write: Writer;
}

const textDecoder = new TextDecoder("utf-8");
const textEncoder = new TextEncoder();

/**
 * Builds a codec for BTF type `typeId` (typedefs and qualifiers are followed).
 *
 * @throws {@link CodecError} when the type has no byte representation (void, function, forward
 * declaration) or the BTF is inconsistent.
 * @example
 * ```ts
 * const codec = createCodec(btf, btf.findByName("event", BtfKind.Struct)!.id);
 * const ev = codec.decode(bytes); // { pid: 42, comm: "bash", ts: 123n }
 * const key = createCodec(btf, keyTypeId).encode({ saddr: 0x0100007f, port: 80 });
 * ```
 */
export function createCodec<T = unknown>(btf: Btf, typeId: number, options: CodecOptions = {}): Codec<T> {
  const builder = new CodecBuilder(btf, options);
  let acc: Accessor;
  try {
    acc = builder.build(typeId, "value", 0);
  } catch (e) {
    if (e instanceof CodecError) throw e;
    throw new CodecError(`cannot build a codec for type [${typeId}]: ${(e as Error).message}`, "", {
      cause: e,
    });
  }
  return wrap<T>(acc.size, acc.read, acc.write);
}

/**
 * A codec for `size` opaque bytes: decodes to a copy as `Uint8Array`, encodes a `Uint8Array` (or array of
 * numbers) of at most `size` bytes, zero-filling the rest. For maps without BTF.
 *
 * @example
 * ```ts
 * const key = rawCodec(16).encode(new Uint8Array(16).fill(1));
 * ```
 */
export function rawCodec(size: number): Codec<Uint8Array> {
  if (!Number.isInteger(size) || size < 0) throw new CodecError(`invalid size ${size}`);
  const acc = bytesAccessors(size);
  return wrap<Uint8Array>(size, acc.read, acc.write);
}

const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A codec for one integer of `size` bytes (1, 2, 4, 8 or 16): `number` up to 4 bytes, `bigint` above.
 * Byte order defaults to the host's, as the kernel's maps use.
 *
 * @example
 * ```ts
 * intCodec(4).encode(7); // Uint8Array [7, 0, 0, 0] on x86
 * ```
 */
export function intCodec<T extends number | bigint = number | bigint>(
  size: 1 | 2 | 4 | 8 | 16,
  options: { signed?: boolean; littleEndian?: boolean } = {},
): Codec<T> {
  const acc = intAccessors(size, options.signed ?? false, options.littleEndian ?? hostLittleEndian);
  return wrap<T>(size, acc.read, acc.write);
}

/** `__u32` in host byte order (or the given one). */
export function u32Codec(littleEndian = hostLittleEndian): Codec<number> {
  return intCodec<number>(4, { littleEndian });
}

/** `__u64` as bigint in host byte order (or the given one). */
export function u64Codec(littleEndian = hostLittleEndian): Codec<bigint> {
  return intCodec<bigint>(8, { littleEndian });
}

// A one-entry cache: decoding many records out of the same buffer reuses its DataView.
let lastBytes: Uint8Array | undefined;
let lastView: DataView | undefined;

function viewOf(data: DataView | Uint8Array): DataView {
  if (data instanceof DataView) return data;
  if (data === lastBytes && lastView) return lastView;
  if (!(data instanceof Uint8Array)) throw new CodecError("expected a DataView or Uint8Array to decode from");
  lastBytes = data;
  lastView = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return lastView;
}

function wrap<T>(size: number, read: Reader, write: Writer): Codec<T> {
  return {
    size,
    decode(data: DataView | Uint8Array, offset = 0): T {
      const view = viewOf(data);
      if (!(offset >= 0 && offset + size <= view.byteLength)) {
        throw new CodecError(
          `cannot decode ${size} bytes at offset ${offset} of a ${view.byteLength}-byte buffer`,
        );
      }
      return read(view, offset) as T;
    },
    encode(value: T, target?: Uint8Array, offset = 0): Uint8Array {
      let out: Uint8Array;
      try {
        out = target ?? new Uint8Array(size);
      } catch (e) {
        throw new CodecError(`cannot allocate ${size} bytes`, "", { cause: e });
      }
      if (!(out instanceof Uint8Array)) throw new CodecError("encode target must be a Uint8Array");
      if (!(offset >= 0 && offset + size <= out.length)) {
        throw new CodecError(
          `cannot encode ${size} bytes at offset ${offset} of a ${out.length}-byte buffer`,
        );
      }
      if (target) out.fill(0, offset, offset + size);
      write(viewOf(out), offset, value, "value");
      return out;
    },
  };
}

class CodecBuilder {
  readonly #btf: Btf;
  readonly #le: boolean;
  readonly #enumNames: boolean;
  readonly #int64AsNumber: boolean;
  readonly #charsAsBytes: boolean;
  readonly #memo = new Map<number, Accessor>();

  constructor(btf: Btf, options: CodecOptions) {
    this.#btf = btf;
    this.#le = options.littleEndian ?? btf.littleEndian;
    this.#enumNames = options.enums === "name";
    this.#int64AsNumber = options.int64 === "number";
    this.#charsAsBytes = options.chars === "bytes";
  }

  build(id: number, path: string, depth: number): Accessor {
    const memo = this.#memo.get(id);
    if (memo) return memo;
    if (depth > 64) throw new CodecError(`type [${id}] nests too deeply (a loop?)`, path);
    if (!this.#btf.has(id)) throw new CodecError(`type id ${id} does not exist`, path);
    const acc = this.#build(this.#btf.typeById(id), path, depth);
    this.#memo.set(id, acc);
    return acc;
  }

  #build(t: BtfType, path: string, depth: number): Accessor {
    switch (t.kind) {
      case BtfKind.Typedef:
      case BtfKind.Const:
      case BtfKind.Volatile:
      case BtfKind.Restrict:
      case BtfKind.TypeTag:
      case BtfKind.Var:
        return this.build(t.type, path, depth + 1);
      case BtfKind.Int:
        return this.#int(
          t.size,
          (t.encoding & IntEncoding.Signed) !== 0,
          (t.encoding & IntEncoding.Bool) !== 0,
          t,
        );
      case BtfKind.Ptr: {
        const size = this.#btf.pointerSize;
        return { size, ...intAccessors(size, false, this.#le, this.#int64AsNumber) };
      }
      case BtfKind.Float:
        return { size: t.size, ...floatAccessors(t.size, this.#le) };
      case BtfKind.Enum:
      case BtfKind.Enum64:
        return this.#enum(t, path);
      case BtfKind.Array:
        return this.#array(t.elemType, t.nelems, path, depth);
      case BtfKind.Struct:
      case BtfKind.Union:
        return this.#composite(this.#fields(t, 0, path, depth), t.size);
      case BtfKind.Datasec: {
        const fields: Field[] = [];
        let size = t.size;
        for (const v of t.vars) {
          const name = this.#btf.name(v.type);
          const acc = this.build(v.type, `${path}.${name}`, depth + 1);
          fields.push({ name, offset: v.offset, read: acc.read, write: acc.write });
          size = Math.max(size, v.offset + acc.size);
        }
        return this.#composite(fields, size);
      }
      default:
        throw new CodecError(
          `type [${t.id}]${t.name ? ` '${t.name}'` : ""} (kind ${t.kind}) has no byte representation`,
          path,
        );
    }
  }

  #int(size: number, signed: boolean, bool: boolean, t?: { bits: number; offset: number }): Accessor {
    if (t && (t.offset !== 0 || t.bits !== size * 8)) {
      // A legacy bitfield INT: the value is `bits` wide at bit `offset` of its storage.
      return { size, ...bitfieldAccessors(t.offset, t.bits, signed, this.#le, t.bits > 32) };
    }
    const acc = intAccessors(size, signed, this.#le, this.#int64AsNumber);
    if (!bool) return { size, ...acc };
    return {
      size,
      read: (v, o) => acc.read(v, o) !== 0,
      write: (v, o, x, p) => acc.write(v, o, typeof x === "boolean" ? (x ? 1 : 0) : x, p),
    };
  }

  #enum(t: Extract<BtfType, { kind: typeof BtfKind.Enum | typeof BtfKind.Enum64 }>, path: string): Accessor {
    const is64 = t.kind === BtfKind.Enum64;
    const size = t.size;
    if (![1, 2, 4, 8].includes(size))
      throw new CodecError(`enum '${t.name}' has unsupported size ${size}`, path);
    const acc = intAccessors(size, t.signed, this.#le, this.#int64AsNumber);
    const byName = new Map<string, number | bigint>();
    const byValue = new Map<number | bigint, string>();
    for (const v of t.values) {
      if (!byName.has(v.name)) byName.set(v.name, v.value);
      if (!byValue.has(v.value)) byValue.set(v.value, v.name);
    }
    // Values read from 8 bytes are bigints; the names of a 32-bit enum are keyed by number.
    const key = (n: number | bigint): number | bigint => (is64 ? BigInt(n) : Number(n));
    const write: Writer = (v, o, x, p) => {
      if (typeof x === "string") {
        const value = byName.get(x);
        if (value === undefined) throw new CodecError(`'${x}' is not an enumerator of enum '${t.name}'`, p);
        acc.write(v, o, value, p);
      } else acc.write(v, o, x, p);
    };
    if (!this.#enumNames) return { size, read: acc.read, write };
    return {
      size,
      read: (v, o) => {
        const n = acc.read(v, o) as number | bigint;
        return byValue.get(key(n)) ?? n;
      },
      write,
    };
  }

  #isChar(id: number): { char: boolean; byte: boolean } {
    const btf = this.#btf;
    let cur = id;
    // Strip qualifiers, not typedefs: `char` is a string, `__u8` (a typedef) is bytes.
    for (let i = 0; i < 16; i++) {
      const kind = btf.kind(cur);
      if (kind === BtfKind.Const || kind === BtfKind.Volatile || kind === BtfKind.TypeTag) {
        cur = (btf.typeById(cur) as { type: number }).type;
        continue;
      }
      break;
    }
    const t = btf.typeById(cur);
    const char =
      t.kind === BtfKind.Int && t.size === 1 && (t.name === "char" || (t.encoding & IntEncoding.Char) !== 0);
    const r = btf.resolve(id);
    const byte =
      r.kind === BtfKind.Int && r.size === 1 && (r.encoding & IntEncoding.Bool) === 0 && r.bits === 8;
    return { char, byte };
  }

  #array(elemType: number, n: number, path: string, depth: number): Accessor {
    const { char, byte } = this.#isChar(elemType);
    if (char && !this.#charsAsBytes) return stringAccessor(n);
    if (byte) return { size: n, ...bytesAccessors(n) };
    const elem = this.build(elemType, `${path}[]`, depth + 1);
    const es = elem.size;
    // Zero-size elements take no bytes, so no buffer bounds them: refuse absurd counts up front.
    if (es === 0 && n > 65536) throw new CodecError(`array of ${n} zero-size elements`, path);
    const { read, write } = elem;
    return {
      size: es * n,
      read: (v, o) => {
        const out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = read(v, o + i * es);
        return out;
      },
      write: (v, o, x, p) => {
        if (!Array.isArray(x) && !ArrayBuffer.isView(x)) {
          throw new CodecError(`expected an array of ${n} elements, got ${typeof x}`, p);
        }
        const arr = x as ArrayLike<unknown>;
        if (arr.length > n) throw new CodecError(`${arr.length} elements do not fit in an array of ${n}`, p);
        for (let i = 0; i < arr.length; i++)
          if (arr[i] !== undefined) write(v, o + i * es, arr[i], `${p}[${i}]`);
      },
    };
  }

  /** Named fields of a struct/union, with anonymous members flattened in. */
  #fields(t: BtfStruct | BtfUnion, baseBits: number, path: string, depth: number): Field[] {
    const btf = this.#btf;
    const out: Field[] = [];
    for (const m of t.members) {
      let bitOff = baseBits + m.bitOffset;
      let bits = m.bitfieldSize;
      const r = btf.resolve(m.type);
      if (!t.kindFlag && r.kind === BtfKind.Int && (r.bits !== r.size * 8 || r.offset !== 0)) {
        bits = r.bits;
        bitOff += r.offset;
      }
      if (m.name === "" && (r.kind === BtfKind.Struct || r.kind === BtfKind.Union)) {
        out.push(...this.#fields(r, bitOff, path, depth + 1));
        continue;
      }
      const name = m.name;
      const fpath = `${path}.${name}`;
      if (bits) {
        out.push({ name, offset: 0, ...this.#bitfield(m.type, r, bitOff, bits, fpath) });
        continue;
      }
      if (bitOff % 8 !== 0) throw new CodecError(`member at bit offset ${bitOff} is not byte-aligned`, fpath);
      const acc = this.build(m.type, fpath, depth + 1);
      out.push({ name, offset: bitOff / 8, read: acc.read, write: acc.write });
    }
    return out;
  }

  #bitfield(typeId: number, r: BtfType, bitOff: number, bits: number, path: string): Accessor {
    let signed = false;
    let bool = false;
    let wide = false;
    if (r.kind === BtfKind.Int) {
      signed = (r.encoding & IntEncoding.Signed) !== 0;
      bool = (r.encoding & IntEncoding.Bool) !== 0;
      wide = r.size > 4 && !this.#int64AsNumber;
    } else if (r.kind === BtfKind.Enum || r.kind === BtfKind.Enum64) {
      signed = r.signed;
      wide = r.kind === BtfKind.Enum64 && !this.#int64AsNumber;
    } else {
      throw new CodecError(`bitfield of non-integer type [${typeId}]`, path);
    }
    const acc = bitfieldAccessors(bitOff, bits, signed, this.#le, wide || bits > 53);
    if (bool) {
      return {
        size: 0,
        read: (v, o) => acc.read(v, o) !== 0,
        write: (v, o, x, p) => acc.write(v, o, typeof x === "boolean" ? (x ? 1 : 0) : x, p),
      };
    }
    if ((r.kind === BtfKind.Enum || r.kind === BtfKind.Enum64) && this.#enumNames) {
      const byValue = new Map<number | bigint, string>();
      const byName = new Map<string, number | bigint>();
      for (const v of r.values) {
        if (!byValue.has(v.value)) byValue.set(v.value, v.name);
        if (!byName.has(v.name)) byName.set(v.name, v.value);
      }
      return {
        size: 0,
        read: (v, o) => {
          const n = acc.read(v, o) as number | bigint;
          return byValue.get(typeof n === "bigint" && r.kind === BtfKind.Enum ? Number(n) : n) ?? n;
        },
        write: (v, o, x, p) => {
          if (typeof x === "string") {
            const value = byName.get(x);
            if (value === undefined)
              throw new CodecError(`'${x}' is not an enumerator of enum '${r.name}'`, p);
            acc.write(v, o, value, p);
          } else acc.write(v, o, x, p);
        },
      };
    }
    return { size: 0, ...acc };
  }

  #composite(fields: Field[], size: number): Accessor {
    const n = fields.length;
    const names = fields.map((f) => f.name);
    const offsets = fields.map((f) => f.offset);
    const reads = fields.map((f) => f.read);
    const writes = fields.map((f) => f.write);
    return {
      size,
      read: objectReader(names, offsets, reads),
      write: (v, o, x, p) => {
        if (typeof x !== "object" || x === null || Array.isArray(x)) {
          throw new CodecError(`expected an object, got ${x === null ? "null" : typeof x}`, p);
        }
        const obj = x as Record<string, unknown>;
        for (let i = 0; i < n; i++) {
          const value = obj[names[i]];
          if (value !== undefined) writes[i](v, o + offsets[i], value, `${p}.${names[i]}`);
        }
      },
    };
  }
}

/**
 * Builds the object of a struct. The first fields go into one object literal with computed keys, which
 * V8 builds with a stable shape several times faster than keyed stores in a loop; the rest (structs with
 * more than 6 fields) are added by the loop.
 */
function objectReader(names: string[], offs: number[], reads: Reader[]): Reader {
  const n = names.length;
  const [k0, k1, k2, k3, k4, k5] = names;
  const [o0, o1, o2, o3, o4, o5] = offs;
  const [r0, r1, r2, r3, r4, r5] = reads;
  let head: (v: DataView, o: number) => Record<string, unknown>;
  switch (Math.min(n, 6)) {
    case 0:
      head = () => ({});
      break;
    case 1:
      head = (v, o) => ({ [k0]: r0(v, o + o0) });
      break;
    case 2:
      head = (v, o) => ({ [k0]: r0(v, o + o0), [k1]: r1(v, o + o1) });
      break;
    case 3:
      head = (v, o) => ({ [k0]: r0(v, o + o0), [k1]: r1(v, o + o1), [k2]: r2(v, o + o2) });
      break;
    case 4:
      head = (v, o) => ({
        [k0]: r0(v, o + o0),
        [k1]: r1(v, o + o1),
        [k2]: r2(v, o + o2),
        [k3]: r3(v, o + o3),
      });
      break;
    case 5:
      head = (v, o) => ({
        [k0]: r0(v, o + o0),
        [k1]: r1(v, o + o1),
        [k2]: r2(v, o + o2),
        [k3]: r3(v, o + o3),
        [k4]: r4(v, o + o4),
      });
      break;
    default:
      head = (v, o) => ({
        [k0]: r0(v, o + o0),
        [k1]: r1(v, o + o1),
        [k2]: r2(v, o + o2),
        [k3]: r3(v, o + o3),
        [k4]: r4(v, o + o4),
        [k5]: r5(v, o + o5),
      });
  }
  if (n <= 6) return head;
  return (v, o) => {
    const out = head(v, o);
    for (let i = 6; i < n; i++) out[names[i]] = reads[i](v, o + offs[i]);
    return out;
  };
}

function stringAccessor(n: number): Accessor {
  return {
    size: n,
    read: (v, o) => {
      const bytes = new Uint8Array(v.buffer, v.byteOffset + o, n);
      // ASCII (comm, names, paths) without the TextDecoder call overhead; UTF-8 otherwise.
      let s = "";
      for (let i = 0; i < n; i++) {
        const c = bytes[i];
        if (c === 0) return s;
        if (c >= 0x80) {
          let end = bytes.indexOf(0, i);
          if (end < 0) end = n;
          return textDecoder.decode(bytes.subarray(0, end));
        }
        s += String.fromCharCode(c);
      }
      return s;
    },
    write: (v, o, x, p) => {
      let bytes: Uint8Array;
      if (typeof x === "string") bytes = textEncoder.encode(x);
      else if (x instanceof Uint8Array) bytes = x;
      else throw new CodecError(`expected a string (or Uint8Array) for char[${n}], got ${typeof x}`, p);
      if (bytes.length > n) throw new CodecError(`${bytes.length} bytes do not fit in char[${n}]`, p);
      new Uint8Array(v.buffer, v.byteOffset + o, n).set(bytes);
    },
  };
}
