/**
 * Byte-level building blocks of the codecs: integer, float and bitfield readers/writers for both byte
 * orders, chosen once per field so that the per-call path is a straight DataView access.
 *
 * @packageDocumentation
 */
import { EbpfError } from "@ebpf/errors";

/**
 * A value could not be encoded or decoded: wrong JS type, out of range, a buffer too small, or a BTF type
 * that has no byte representation (void, function, incomplete struct).
 *
 * @example
 * ```ts
 * try { codec.encode({ pid: "x" }); } catch (e) { if (e instanceof CodecError) console.error(e.path, e.message); }
 * ```
 */
export class CodecError extends EbpfError {
  /** Where in the value the problem is, e.g. `"value.hdr.flags"`; empty when it concerns the whole buffer. */
  readonly path: string;

  constructor(message: string, path = "", options?: { cause?: unknown }) {
    super("ERR_EBPF_CODEC", path ? `${path}: ${message}` : message, options);
    this.path = path;
  }
}

/** Reads one field at `offset` of `view`. */
export type Reader = (view: DataView, offset: number) => unknown;
/** Writes one field at `offset` of `view`; `path` names the field in errors. */
export type Writer = (view: DataView, offset: number, value: unknown, path: string) => void;

function describe(value: unknown): string {
  if (typeof value === "string")
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "bigint") return `bigint ${value}`;
  if (value === null) return "null";
  if (Array.isArray(value)) return `array of ${value.length}`;
  return `${typeof value} ${typeof value === "object" ? "" : String(value)}`.trim();
}

/** Throws a {@link CodecError} saying what was expected at `path` and what was given. */
export function badValue(path: string, expected: string, value: unknown): never {
  throw new CodecError(`expected ${expected}, got ${describe(value)}`, path);
}

/** Converts a JS value meant for an integer field of `bits` bits into a bigint, checking its range. */
export function toBigInt(value: unknown, bits: number, signed: boolean, path: string): bigint {
  let v: bigint;
  if (typeof value === "bigint") v = value;
  else if (typeof value === "number" && Number.isInteger(value)) v = BigInt(value);
  else if (typeof value === "boolean") v = value ? 1n : 0n;
  else return badValue(path, `an integer (number or bigint) for a ${bits}-bit field`, value);
  const b = BigInt(bits);
  const min = signed ? -(1n << (b - 1n)) : 0n;
  const max = signed ? (1n << (b - 1n)) - 1n : (1n << b) - 1n;
  if (v < min || v > max) {
    // Accept the other signedness's range too (e.g. -1 for a u32 field), as C does, but nothing wider.
    const altMin = signed ? 0n : -(1n << (b - 1n));
    const altMax = signed ? (1n << b) - 1n : (1n << (b - 1n)) - 1n;
    if (v < altMin || v > altMax) {
      throw new CodecError(
        `integer ${v} does not fit in ${bits} bits (${signed ? "signed" : "unsigned"})`,
        path,
      );
    }
  }
  return v;
}

/** Converts a JS value meant for an integer field of at most 32 bits into a number, checking its range. */
export function toSmallInt(value: unknown, bits: number, signed: boolean, path: string): number {
  let v: number;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) return badValue(path, `an integer for a ${bits}-bit field`, value);
    v = value;
  } else if (typeof value === "bigint") v = Number(value);
  else if (typeof value === "boolean") v = value ? 1 : 0;
  else return badValue(path, `an integer for a ${bits}-bit field`, value);
  const span = 2 ** bits;
  const min = signed ? -(span / 2) : 0;
  const max = signed ? span / 2 - 1 : span - 1;
  if (v < min || v > max) {
    const altMin = signed ? 0 : -(span / 2);
    const altMax = signed ? span - 1 : span / 2 - 1;
    if (v < altMin || v > altMax) {
      throw new CodecError(
        `integer ${v} does not fit in ${bits} bits (${signed ? "signed" : "unsigned"})`,
        path,
      );
    }
  }
  return v;
}

/**
 * Reader and writer of a whole integer of `size` bytes (1, 2, 4, 8 or 16). Sizes up to 4 give numbers;
 * 8 and 16 give bigints unless `int64AsNumber` (then 8-byte values come back as numbers, losing
 * precision above 2^53).
 */
export function intAccessors(
  size: number,
  signed: boolean,
  littleEndian: boolean,
  int64AsNumber = false,
): { read: Reader; write: Writer } {
  const le = littleEndian;
  switch (size) {
    case 1:
      return signed
        ? {
            read: (v, o) => v.getInt8(o),
            write: (v, o, x, p) => v.setInt8(o, toSmallInt(x, 8, true, p)),
          }
        : {
            read: (v, o) => v.getUint8(o),
            write: (v, o, x, p) => v.setUint8(o, toSmallInt(x, 8, false, p)),
          };
    case 2:
      return signed
        ? {
            read: (v, o) => v.getInt16(o, le),
            write: (v, o, x, p) => v.setInt16(o, toSmallInt(x, 16, true, p), le),
          }
        : {
            read: (v, o) => v.getUint16(o, le),
            write: (v, o, x, p) => v.setUint16(o, toSmallInt(x, 16, false, p), le),
          };
    case 4:
      return signed
        ? {
            read: (v, o) => v.getInt32(o, le),
            write: (v, o, x, p) => v.setInt32(o, toSmallInt(x, 32, true, p), le),
          }
        : {
            read: (v, o) => v.getUint32(o, le),
            write: (v, o, x, p) => v.setUint32(o, toSmallInt(x, 32, false, p), le),
          };
    case 8: {
      const write: Writer = signed
        ? (v, o, x, p) => v.setBigInt64(o, BigInt.asIntN(64, toBigInt(x, 64, true, p)), le)
        : (v, o, x, p) => v.setBigUint64(o, BigInt.asUintN(64, toBigInt(x, 64, false, p)), le);
      if (int64AsNumber) {
        return {
          read: signed ? (v, o) => Number(v.getBigInt64(o, le)) : (v, o) => Number(v.getBigUint64(o, le)),
          write,
        };
      }
      return {
        read: signed ? (v, o) => v.getBigInt64(o, le) : (v, o) => v.getBigUint64(o, le),
        write,
      };
    }
    case 16: {
      const lo = le ? 0 : 8;
      const hi = le ? 8 : 0;
      return {
        read: (v, o) => {
          const x = (v.getBigUint64(o + hi, le) << 64n) | v.getBigUint64(o + lo, le);
          return signed ? BigInt.asIntN(128, x) : x;
        },
        write: (v, o, x, p) => {
          const u = BigInt.asUintN(128, toBigInt(x, 128, signed, p));
          v.setBigUint64(o + hi, u >> 64n, le);
          v.setBigUint64(o + lo, BigInt.asUintN(64, u), le);
        },
      };
    }
    default:
      throw new CodecError(`unsupported integer size ${size} (expected 1, 2, 4, 8 or 16 bytes)`);
  }
}

/** Reader and writer of an IEEE float of 4 or 8 bytes. */
export function floatAccessors(size: number, littleEndian: boolean): { read: Reader; write: Writer } {
  const le = littleEndian;
  const check = (x: unknown, p: string): number => {
    if (typeof x === "number") return x;
    if (typeof x === "bigint") return Number(x);
    return badValue(p, "a number for a float field", x);
  };
  if (size === 4) {
    return { read: (v, o) => v.getFloat32(o, le), write: (v, o, x, p) => v.setFloat32(o, check(x, p), le) };
  }
  if (size === 8) {
    return { read: (v, o) => v.getFloat64(o, le), write: (v, o, x, p) => v.setFloat64(o, check(x, p), le) };
  }
  return bytesAccessors(size);
}

/** Reader and writer that copy `size` raw bytes (a Uint8Array) in and out. */
export function bytesAccessors(size: number): { read: Reader; write: Writer } {
  return {
    read:
      size <= 32
        ? (v, o) => {
            const out = new Uint8Array(size);
            for (let i = 0; i < size; i++) out[i] = v.getUint8(o + i);
            return out;
          }
        : (v, o) => new Uint8Array(v.buffer.slice(v.byteOffset + o, v.byteOffset + o + size)),
    write: (v, o, x, p) => {
      const bytes =
        x instanceof Uint8Array ? x : Array.isArray(x) ? Uint8Array.from(x as number[]) : undefined;
      if (!bytes) return badValue(p, `a Uint8Array of ${size} bytes`, x);
      if (bytes.length > size) throw new CodecError(`${bytes.length} bytes do not fit in ${size}`, p);
      new Uint8Array(v.buffer, v.byteOffset + o, size).set(bytes);
    },
  };
}

/**
 * Reader and writer of a bitfield: `bitOffset` bits from the field's byte offset (counted from the least
 * significant bit of the first byte on little-endian, from the most significant bit on big-endian, as
 * BTF and the compilers do), `bits` wide, read as a number or (`asBigInt`) a bigint.
 */
export function bitfieldAccessors(
  bitOffset: number,
  bits: number,
  signed: boolean,
  littleEndian: boolean,
  asBigInt: boolean,
): { read: Reader; write: Writer } {
  const byteStart = Math.floor(bitOffset / 8);
  const shiftIn = bitOffset % 8;
  const nbytes = Math.ceil((shiftIn + bits) / 8);
  // Bit position of the field's least significant bit inside the `nbytes`-byte window read as one integer.
  const shift = littleEndian ? shiftIn : nbytes * 8 - shiftIn - bits;
  if (nbytes <= 6) {
    // Windows of up to 48 bits are exact in doubles: number arithmetic, a BigInt only at the end.
    const acc = numberBitfield(byteStart, nbytes, shift, bits, signed, littleEndian);
    if (!asBigInt) return acc;
    return {
      read: (v, o) => BigInt(acc.read(v, o) as number),
      write: (v, o, x, p) => acc.write(v, o, typeof x === "bigint" ? Number(x) : x, p),
    };
  }
  return bigintBitfield(byteStart, nbytes, shift, bits, signed, littleEndian, asBigInt);
}

function numberBitfield(
  byteStart: number,
  nbytes: number,
  shift: number,
  bits: number,
  signed: boolean,
  littleEndian: boolean,
): { read: Reader; write: Writer } {
  const readWindow = (v: DataView, o: number): number => {
    let w = 0;
    if (littleEndian) for (let i = nbytes - 1; i >= 0; i--) w = w * 256 + v.getUint8(o + i);
    else for (let i = 0; i < nbytes; i++) w = w * 256 + v.getUint8(o + i);
    return w;
  };
  const writeWindow = (v: DataView, o: number, w: number): void => {
    if (littleEndian) {
      for (let i = 0; i < nbytes; i++) {
        v.setUint8(o + i, w % 256);
        w = Math.floor(w / 256);
      }
    } else {
      for (let i = nbytes - 1; i >= 0; i--) {
        v.setUint8(o + i, w % 256);
        w = Math.floor(w / 256);
      }
    }
  };
  const div = 2 ** shift;
  const half = 2 ** (bits - 1);
  const span = 2 ** bits;
  return {
    read: (v, o) => {
      const raw = Math.floor(readWindow(v, o + byteStart) / div) % span;
      return signed && raw >= half ? raw - span : raw;
    },
    write: (v, o, x, p) => {
      let n = toSmallInt(x, bits, signed, p);
      if (n < 0) n += span;
      const w = readWindow(v, o + byteStart);
      const field = (Math.floor(w / div) % span) * div;
      writeWindow(v, o + byteStart, w - field + n * div);
    },
  };
}

function bigintBitfield(
  byteStart: number,
  nbytes: number,
  shift: number,
  bits: number,
  signed: boolean,
  littleEndian: boolean,
  asBigInt: boolean,
): { read: Reader; write: Writer } {
  const bShift = BigInt(shift);
  const bMask = (1n << BigInt(bits)) - 1n;
  const readWindow = (v: DataView, o: number): bigint => {
    let w = 0n;
    if (littleEndian) for (let i = nbytes - 1; i >= 0; i--) w = (w << 8n) | BigInt(v.getUint8(o + i));
    else for (let i = 0; i < nbytes; i++) w = (w << 8n) | BigInt(v.getUint8(o + i));
    return w;
  };
  const writeWindow = (v: DataView, o: number, w: bigint): void => {
    if (littleEndian) {
      for (let i = 0; i < nbytes; i++) {
        v.setUint8(o + i, Number(w & 0xffn));
        w >>= 8n;
      }
    } else {
      for (let i = nbytes - 1; i >= 0; i--) {
        v.setUint8(o + i, Number(w & 0xffn));
        w >>= 8n;
      }
    }
  };
  return {
    read: (v, o) => {
      const raw = (readWindow(v, o + byteStart) >> bShift) & bMask;
      const value = signed ? BigInt.asIntN(bits, raw) : raw;
      return asBigInt ? value : Number(value);
    },
    write: (v, o, x, p) => {
      const n = BigInt.asUintN(bits, toBigInt(x, bits, signed, p));
      const w = readWindow(v, o + byteStart);
      writeWindow(v, o + byteStart, (w & ~(bMask << bShift)) | (n << bShift));
    },
  };
}
