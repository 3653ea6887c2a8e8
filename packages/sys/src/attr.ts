/**
 * Scratch memory for syscall arguments: a block whose address is taken once, written through a DataView,
 * with helpers that write a field by its generated {@link FieldLayout}.
 * @internal
 */
import type { FieldLayout, StructLayout } from "./abi.generated.js";
import { addressOf } from "./libc.js";

/** A block of native-addressable scratch memory with a DataView and its address. @internal */
export class Scratch {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly address: number;

  constructor(size: number) {
    // An ArrayBuffer of more than 64 bytes is always off the V8 heap, so its address never moves.
    const buffer = new ArrayBuffer(Math.max(size, 128));
    this.bytes = new Uint8Array(buffer, 0, size);
    this.view = new DataView(buffer, 0, size);
    this.address = addressOf(this.bytes);
  }
}

/** Writes `value` into the field; numbers and bigints are truncated to the field's width (two's complement). */
export function put(view: DataView, field: FieldLayout, value: number | bigint): void {
  switch (field.size) {
    case 1:
      view.setUint8(field.offset, Number(value) & 0xff);
      return;
    case 2:
      view.setUint16(field.offset, Number(value) & 0xffff, true);
      return;
    case 4:
      view.setUint32(field.offset, Number(value) >>> 0, true);
      return;
    case 8:
      view.setBigUint64(field.offset, BigInt.asUintN(64, BigInt(value)), true);
      return;
    default:
      throw new RangeError(`cannot write a number into a ${field.size}-byte field`);
  }
}

/** Reads an unsigned field (u8/u16/u32 as number; u64 as number when ≤ 2^53, else bigint). */
export function get(view: DataView, field: FieldLayout): number {
  switch (field.size) {
    case 1:
      return view.getUint8(field.offset);
    case 2:
      return view.getUint16(field.offset, true);
    case 4:
      return view.getUint32(field.offset, true);
    case 8:
      return Number(view.getBigUint64(field.offset, true));
    default:
      throw new RangeError(`cannot read a number from a ${field.size}-byte field`);
  }
}

/** Reads a u64 field as bigint. */
export function get64(view: DataView, field: FieldLayout): bigint {
  return view.getBigUint64(field.offset, true);
}

/** Copies a NUL-terminated string (truncated to fit with its NUL) into a char-array field. */
export function putString(bytes: Uint8Array, field: FieldLayout, value: string): void {
  const enc = new TextEncoder().encode(value);
  const n = Math.min(enc.length, field.size - 1);
  bytes.set(enc.subarray(0, n), field.offset);
  bytes.fill(0, field.offset + n, field.offset + field.size);
}

/** Reads a NUL-terminated string from a char-array field. */
export function getString(bytes: Uint8Array, field: FieldLayout): string {
  const slice = bytes.subarray(field.offset, field.offset + field.size);
  const end = slice.indexOf(0);
  return new TextDecoder().decode(end < 0 ? slice : slice.subarray(0, end));
}

/** A NUL-terminated UTF-8 copy of `s`, for passing paths and licenses by address. */
export function cString(s: string): Uint8Array {
  const enc = new TextEncoder().encode(s);
  const out = new Uint8Array(enc.length + 1);
  out.set(enc);
  return out;
}

/** Byte offset just past the end of `field` (offsetofend). */
export function endOf(field: FieldLayout): number {
  return field.offset + field.size;
}

/** Checks at startup that the layout has every field we write (an ABI file from a too-old kernel). */
export function fieldsOf<S extends StructLayout>(layout: S): S["fields"] {
  return layout.fields;
}
