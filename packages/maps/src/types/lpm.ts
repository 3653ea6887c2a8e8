/**
 * `LpmTrie`: longest-prefix-match keys `{ prefixLen, data }` (`struct bpf_lpm_trie_key`).
 */
import { BpfFlags, BpfMapType } from "../abi.js";
import { type Codec, hostIsLittleEndian } from "../codec.js";
import type { MapCore } from "../core.js";
import { MapError } from "../errors.js";
import { createWith, expectType, type MapSource, openWith, type TypedMapSpec } from "../factory.js";
import { BpfMap } from "../map.js";
import type { CreateMapOptions } from "../open.js";
import type { ValueCodec } from "./queue.js";

/** An LPM key: the number of significant bits and the address bytes (network byte order). */
export interface LpmKey {
  prefixLen: number;
  data: Uint8Array;
}

/** The codec of `struct bpf_lpm_trie_key { u32 prefixlen; u8 data[]; }` of `keySize` bytes. */
export function lpmKeyCodec(keySize: number): Codec<LpmKey> {
  const dataLen = keySize - 4;
  return {
    size: keySize,
    encode(key, view, offset) {
      if (key.data.byteLength !== dataLen) {
        throw new MapError(
          "ERR_EBPF_MAP_KEY_SIZE",
          `LPM key data is ${key.data.byteLength} bytes, expected ${dataLen}`,
        );
      }
      if (!Number.isInteger(key.prefixLen) || key.prefixLen < 0 || key.prefixLen > dataLen * 8) {
        throw new MapError(
          "ERR_EBPF_INVALID_ARG",
          `LPM prefix length ${key.prefixLen} is outside 0..${dataLen * 8}`,
        );
      }
      view.setUint32(offset, key.prefixLen, hostIsLittleEndian);
      new Uint8Array(view.buffer, view.byteOffset + offset + 4, dataLen).set(key.data);
    },
    decode(view, offset) {
      return {
        prefixLen: view.getUint32(offset, hostIsLittleEndian),
        data: new Uint8Array(
          view.buffer.slice(view.byteOffset + offset + 4, view.byteOffset + offset + 4 + dataLen),
        ),
      };
    },
  };
}

/**
 * `BPF_MAP_TYPE_LPM_TRIE` (created with `BPF_F_NO_PREALLOC`, which the kernel requires).
 *
 * @example
 * ```ts
 * using t = LpmTrie.create({ keySize: 8, valueSize: 4, maxEntries: 16 }, { valueCodec: codecs.u32 });
 * t.set({ prefixLen: 8, data: Uint8Array.of(10, 0, 0, 0) }, 1);
 * t.lookup(Uint8Array.of(10, 1, 2, 3)); // 1
 * ```
 */
export class LpmTrie<V = Uint8Array> extends BpfMap<LpmKey, V> {
  constructor(source: MapCore | BpfMap<unknown, unknown>, c: ValueCodec<V> = {}) {
    const core = "core" in source ? source.core : source;
    super(core, { ...c, keyCodec: lpmKeyCodec(core.info.keySize) });
    expectType(this.core, [BpfMapType.LPM_TRIE], "LpmTrie");
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<V = Uint8Array>(spec: TypedMapSpec, c?: ValueCodec<V>, o?: CreateMapOptions): LpmTrie<V> {
    return createWith(
      { ...spec, flags: (spec.flags ?? 0) | BpfFlags.BPF_F_NO_PREALLOC },
      BpfMapType.LPM_TRIE,
      (core) => new LpmTrie(core, c),
      o,
    );
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<V = Uint8Array>(source: MapSource, c?: ValueCodec<V>): LpmTrie<V> {
    return openWith(source, (core) => new LpmTrie(core, c));
  }
  /** The value of the longest prefix matching the full address `data`, or `undefined`. */
  lookup(data: Uint8Array): V | undefined {
    return this.get({ prefixLen: data.byteLength * 8, data });
  }
}
