/**
 * Array maps: `ArrayMap` (also exported as `Array`) with live `mmap` views for `BPF_F_MMAPABLE`, and
 * `PerCpuArray`. Keys are element indices (numbers).
 */
import type { Btf, CodecOptions } from "@ebpf/btf";
import { BpfFlags, BpfMapType } from "../abi.js";
import { type Codec, codecs } from "../codec.js";
import type { MapCore } from "../core.js";
import { MapError } from "../errors.js";
import { createWith, expectType, type IndexedMapSpec, type MapSource, openWith } from "../factory.js";
import { BpfMap } from "../map.js";
import { MappedMapMemory, pageAlign } from "../mmap.js";
import type { CreateMapOptions } from "../open.js";
import { perCpuSlotSize } from "../percpu.js";
import { perCpuBufferSize, perCpuValueCodec, singleValueCodec } from "./hash.js";

/** Codecs of an array map: the key is always the u32 index. */
export interface ArrayCodecs<V> {
  valueCodec?: Codec<V>;
  /** BTF for a derived default value codec. */
  btf?: Btf;
  btfOptions?: CodecOptions;
}

/**
 * `BPF_MAP_TYPE_ARRAY`: fixed-size, preallocated, indexed by `0 … maxEntries-1`; elements cannot be deleted.
 *
 * @example
 * ```ts
 * using a = ArrayMap.create({ keySize: 4, valueSize: 8, maxEntries: 4, flags: BpfFlags.BPF_F_MMAPABLE },
 *   { valueCodec: codecs.u64 });
 * a.set(0, 5n);
 * using mem = a.mmap();            // live view of every element
 * mem.view.getBigUint64(0, true);  // 5n
 * ```
 */
export class ArrayMap<V = Uint8Array> extends BpfMap<number, V> {
  constructor(source: MapCore | BpfMap<unknown, unknown>, valueCodecs: ArrayCodecs<V> = {}) {
    super(source, { ...valueCodecs, keyCodec: codecs.u32 });
    expectType(this.core, [BpfMapType.ARRAY], "ArrayMap");
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<V = Uint8Array>(
    spec: IndexedMapSpec,
    codecs?: ArrayCodecs<V>,
    options?: CreateMapOptions,
  ): ArrayMap<V> {
    return createWith(
      { ...spec, keySize: spec.keySize ?? 4 },
      BpfMapType.ARRAY,
      (c) => new ArrayMap(c, codecs),
      options,
    );
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<V = Uint8Array>(source: MapSource, codecs?: ArrayCodecs<V>): ArrayMap<V> {
    return openWith(source, (c) => new ArrayMap(c, codecs));
  }
  /** Opens the map of this type pinned at `path`. */
  static fromPin<V = Uint8Array>(path: string, codecs?: ArrayCodecs<V>): ArrayMap<V> {
    return ArrayMap.open({ pin: path }, codecs);
  }

  /** Bytes between consecutive elements in the mapped memory (`round_up(value_size, 8)`). */
  get elementStride(): number {
    return perCpuSlotSize(this.valueSize);
  }

  /**
   * Maps the whole array into this process (needs `BPF_F_MMAPABLE`). Element `i` is at
   * `i * elementStride`. Writable unless the map was frozen / created read-only for user space.
   */
  mmap(options: { writable?: boolean } = {}): MappedMapMemory {
    if ((this.flags & BpfFlags.BPF_F_MMAPABLE) === 0) {
      throw new MapError("ERR_EBPF_MAP_NOT_MMAPABLE", "mmap() needs a map created with BPF_F_MMAPABLE", {
        mapName: this.name,
      });
    }
    const length = pageAlign(this.elementStride * this.maxEntries, this.core.kernel.pageSize());
    return new MappedMapMemory(this.core, length, options.writable ?? true);
  }
}

/** `BPF_MAP_TYPE_PERCPU_ARRAY`: one value per possible CPU per index. */
export class PerCpuArray<V = Uint8Array> extends BpfMap<number, V[]> {
  constructor(source: MapCore | BpfMap<unknown, unknown>, valueCodecs: ArrayCodecs<V> = {}) {
    const core = "core" in source ? source.core : source;
    super(
      core,
      { keyCodec: codecs.u32, valueCodec: perCpuValueCodec(core, singleValueCodec(core, valueCodecs)) },
      perCpuBufferSize(core),
    );
    expectType(this.core, [BpfMapType.PERCPU_ARRAY], "PerCpuArray");
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<V = Uint8Array>(
    spec: IndexedMapSpec,
    codecs?: ArrayCodecs<V>,
    options?: CreateMapOptions,
  ): PerCpuArray<V> {
    return createWith(
      { keySize: 4, ...spec },
      BpfMapType.PERCPU_ARRAY,
      (c) => new PerCpuArray(c, codecs),
      options,
    );
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<V = Uint8Array>(source: MapSource, codecs?: ArrayCodecs<V>): PerCpuArray<V> {
    return openWith(source, (c) => new PerCpuArray(c, codecs));
  }
  /** Opens the map of this type pinned at `path`. */
  static fromPin<V = Uint8Array>(path: string, codecs?: ArrayCodecs<V>): PerCpuArray<V> {
    return PerCpuArray.open({ pin: path }, codecs);
  }
}
