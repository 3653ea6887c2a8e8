/**
 * Codecs turn JavaScript values into the fixed-size bytes the kernel stores as keys and values, and
 * back. Maps use BTF-derived codecs when the map has BTF, raw bytes otherwise; any object with this
 * shape can be passed as a user codec.
 */
import { MapSizeError } from "./errors.js";

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A fixed-size binary encoding of `T`. `encode` writes exactly `size` bytes at `offset`; `decode`
 * reads them and must not keep a reference to `view` (it may be a reused buffer).
 *
 * @example
 * ```ts
 * const pointCodec: Codec<{ x: number; y: number }> = {
 *   size: 8,
 *   encode: (p, view, off) => { view.setInt32(off, p.x, true); view.setInt32(off + 4, p.y, true); },
 *   decode: (view, off) => ({ x: view.getInt32(off, true), y: view.getInt32(off + 4, true) }),
 * };
 * ```
 */
export interface Codec<T> {
  /** Encoded size in bytes. */
  readonly size: number;
  encode(value: T, view: DataView, offset: number): void;
  decode(view: DataView, offset: number): T;
}

/** Raw bytes of a fixed size: encode checks the length, decode copies. */
export function rawCodec(size: number, what: "key" | "value" = "value"): Codec<Uint8Array> {
  return {
    size,
    encode(value, view, offset) {
      if (value.byteLength !== size) throw new MapSizeError(what, size, value.byteLength);
      new Uint8Array(view.buffer, view.byteOffset + offset, size).set(value);
    },
    decode(view, offset) {
      return new Uint8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + size));
    },
  };
}

/** Host-endian integer and float codecs, the common key/value types (methods, no closure layers: hot path). */
export const codecs = {
  u8: {
    size: 1,
    encode: (value: number, view: DataView, offset: number) => view.setUint8(offset, value),
    decode: (view: DataView, offset: number) => view.getUint8(offset),
  } satisfies Codec<number>,
  u16: {
    size: 2,
    encode: (value: number, view: DataView, offset: number) =>
      view.setUint16(offset, value, littleEndianHost),
    decode: (view: DataView, offset: number) => view.getUint16(offset, littleEndianHost),
  } satisfies Codec<number>,
  u32: {
    size: 4,
    encode: (value: number, view: DataView, offset: number) =>
      view.setUint32(offset, value, littleEndianHost),
    decode: (view: DataView, offset: number) => view.getUint32(offset, littleEndianHost),
  } satisfies Codec<number>,
  i32: {
    size: 4,
    encode: (value: number, view: DataView, offset: number) => view.setInt32(offset, value, littleEndianHost),
    decode: (view: DataView, offset: number) => view.getInt32(offset, littleEndianHost),
  } satisfies Codec<number>,
  f64: {
    size: 8,
    encode: (value: number, view: DataView, offset: number) =>
      view.setFloat64(offset, value, littleEndianHost),
    decode: (view: DataView, offset: number) => view.getFloat64(offset, littleEndianHost),
  } satisfies Codec<number>,
  /** u64 as `bigint`. */
  u64: {
    size: 8,
    encode: (value: bigint, view: DataView, offset: number) =>
      view.setBigUint64(offset, value, littleEndianHost),
    decode: (view: DataView, offset: number) => view.getBigUint64(offset, littleEndianHost),
  } satisfies Codec<bigint>,
  /** i64 as `bigint`. */
  i64: {
    size: 8,
    encode: (value: bigint, view: DataView, offset: number) =>
      view.setBigInt64(offset, value, littleEndianHost),
    decode: (view: DataView, offset: number) => view.getBigInt64(offset, littleEndianHost),
  } satisfies Codec<bigint>,
  /** u64 as `number` (exact up to 2^53; larger values lose precision). */
  u64n: {
    size: 8,
    encode(value: number, view: DataView, offset: number) {
      const lo = value % 0x1_0000_0000;
      const hi = Math.floor(value / 0x1_0000_0000);
      view.setUint32(offset + (littleEndianHost ? 0 : 4), lo, littleEndianHost);
      view.setUint32(offset + (littleEndianHost ? 4 : 0), hi, littleEndianHost);
    },
    decode(view: DataView, offset: number) {
      const lo = view.getUint32(offset + (littleEndianHost ? 0 : 4), littleEndianHost);
      const hi = view.getUint32(offset + (littleEndianHost ? 4 : 0), littleEndianHost);
      return hi * 0x1_0000_0000 + lo;
    },
  } satisfies Codec<number>,
} as const;

/** True when the host is little-endian (the byte order of map keys and values). */
export const hostIsLittleEndian = littleEndianHost;
