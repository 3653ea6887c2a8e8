/**
 * BTF-derived codecs: adapts `@ebpf/btf`'s `createCodec` to the map codec shape, so maps that carry
 * BTF type ids read and write plain JS values (`{ pid: 42, comm: "bash" }`) without hand-written codecs.
 */
import { type Btf, type CodecOptions, createCodec } from "@ebpf/btf";
import type { Codec } from "./codec.js";

/** Wraps a `@ebpf/btf` codec (Uint8Array based) as a map codec (DataView based). */
export function fromBtfCodec<T>(codec: {
  readonly size: number;
  decode(data: DataView | Uint8Array, offset?: number): T;
  encode(value: T, target?: Uint8Array, offset?: number): Uint8Array;
}): Codec<T> {
  // One Uint8Array per distinct buffer view, remembered so the hot path does not allocate.
  let lastView: DataView | undefined;
  let lastBytes: Uint8Array | undefined;
  return {
    size: codec.size,
    encode(value, view, offset) {
      if (view !== lastView) {
        lastView = view;
        lastBytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      }
      codec.encode(value, lastBytes, offset);
    },
    decode: (view, offset) => codec.decode(view, offset),
  };
}

/** The map codec of BTF type `typeId`, or `undefined` for id 0 (no BTF). */
export function btfCodec<T = unknown>(
  btf: Btf,
  typeId: number,
  options?: CodecOptions,
): Codec<T> | undefined {
  if (!typeId) return undefined;
  return fromBtfCodec(createCodec<T>(btf, typeId, options));
}
