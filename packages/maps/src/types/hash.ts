/**
 * Hash maps: `HashMap`, `LruHashMap`, and their per-CPU variants.
 */
import type { Btf, CodecOptions } from "@ebpf/btf";
import { BpfMapType } from "../abi.js";
import { btfCodec } from "../btf-codec.js";
import type { Codec } from "../codec.js";
import type { MapCore } from "../core.js";
import { MapError } from "../errors.js";
import { createWith, expectType, type MapSource, openWith, type TypedMapSpec } from "../factory.js";
import { BpfMap, type MapCodecs } from "../map.js";
import type { CreateMapOptions } from "../open.js";
import { perCpuCodec, perCpuValueSize } from "../percpu.js";

/**
 * `BPF_MAP_TYPE_HASH`.
 *
 * @example
 * ```ts
 * using m = HashMap.create({ keySize: 4, valueSize: 8, maxEntries: 1024 }, { keyCodec: codecs.u32, valueCodec: codecs.u64 });
 * m.set(7, 1n, { mode: "noexist" });
 * ```
 */
export class HashMap<K = Uint8Array, V = Uint8Array> extends BpfMap<K, V> {
  constructor(source: MapCore | BpfMap<unknown, unknown>, codecs?: MapCodecs<K, V>) {
    super(source, codecs);
    expectType(this.core, [BpfMapType.HASH, BpfMapType.LRU_HASH], new.target.name);
  }
  /** Creates a hash map. */
  static create<K = Uint8Array, V = Uint8Array>(
    spec: TypedMapSpec,
    codecs?: MapCodecs<K, V>,
    options?: CreateMapOptions,
  ): HashMap<K, V> {
    return createWith(spec, BpfMapType.HASH, (c) => new HashMap(c, codecs), options);
  }
  /** Opens an existing hash map (by pin, id, fd or another map object). */
  static open<K = Uint8Array, V = Uint8Array>(source: MapSource, codecs?: MapCodecs<K, V>): HashMap<K, V> {
    return openWith(source, (c) => new HashMap(c, codecs));
  }
  /** Opens the hash map pinned at `path`. */
  static fromPin<K = Uint8Array, V = Uint8Array>(path: string, codecs?: MapCodecs<K, V>): HashMap<K, V> {
    return HashMap.open({ pin: path }, codecs);
  }
}

/** `BPF_MAP_TYPE_LRU_HASH`: a hash map that evicts the least recently used element when full. */
export class LruHashMap<K = Uint8Array, V = Uint8Array> extends HashMap<K, V> {
  constructor(source: MapCore | BpfMap<unknown, unknown>, codecs?: MapCodecs<K, V>) {
    super(source, codecs);
    expectType(this.core, [BpfMapType.LRU_HASH], "LruHashMap");
  }
  /** Creates an LRU hash map. */
  static override create<K = Uint8Array, V = Uint8Array>(
    spec: TypedMapSpec,
    codecs?: MapCodecs<K, V>,
    options?: CreateMapOptions,
  ): LruHashMap<K, V> {
    return createWith(spec, BpfMapType.LRU_HASH, (c) => new LruHashMap(c, codecs), options);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static override open<K = Uint8Array, V = Uint8Array>(
    source: MapSource,
    codecs?: MapCodecs<K, V>,
  ): LruHashMap<K, V> {
    return openWith(source, (c) => new LruHashMap(c, codecs));
  }
  /** Opens the map of this type pinned at `path`. */
  static override fromPin<K = Uint8Array, V = Uint8Array>(
    path: string,
    codecs?: MapCodecs<K, V>,
  ): LruHashMap<K, V> {
    return LruHashMap.open({ pin: path }, codecs);
  }
}

/** Codecs of a per-CPU map: `valueCodec` encodes one CPU's value. */
export interface PerCpuCodecs<K, V> {
  keyCodec?: Codec<K>;
  valueCodec?: Codec<V>;
  /** BTF for derived default codecs (see {@link MapCodecs}). */
  btf?: Btf;
  btfOptions?: CodecOptions;
}

/** The single-CPU value codec: the given one, else BTF-derived when possible. */
export function singleValueCodec<V>(core: MapCore, c: PerCpuCodecs<unknown, V>): Codec<V> | undefined {
  return c.valueCodec ?? (c.btf ? btfCodec<V>(c.btf, core.btfTypeIds().value, c.btfOptions) : undefined);
}

/** The per-CPU value codec of a map, from a single-CPU codec (raw bytes by default). */
export function perCpuValueCodec<V>(core: MapCore, valueCodec: Codec<V> | undefined): Codec<V[]> {
  const cpus = core.kernel.possibleCpus();
  const inner =
    valueCodec ??
    ({
      size: core.info.valueSize,
      encode(v: Uint8Array, view: DataView, offset: number) {
        new Uint8Array(view.buffer, view.byteOffset + offset, v.byteLength).set(v);
      },
      decode(view: DataView, offset: number) {
        return new Uint8Array(
          view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + core.info.valueSize),
        );
      },
    } as unknown as Codec<V>);
  if (inner.size !== core.info.valueSize) {
    throw new MapError(
      "ERR_EBPF_MAP_VALUE_SIZE",
      `value codec is ${inner.size} bytes, the map's value size is ${core.info.valueSize}`,
      { mapName: core.info.name },
    );
  }
  return perCpuCodec(
    inner,
    cpus,
    (n) =>
      new MapError(
        "ERR_EBPF_MAP_VALUE_SIZE",
        `per-CPU value needs one entry per possible CPU (${cpus}), got ${n}`,
        { mapName: core.info.name },
      ),
  );
}

/** Value buffer size of a per-CPU map. */
export function perCpuBufferSize(core: MapCore): number {
  return perCpuValueSize(core.info.valueSize, core.kernel.possibleCpus());
}

/**
 * `BPF_MAP_TYPE_PERCPU_HASH`: one value per possible CPU; `get` returns an array of length
 * possible-CPUs and `set` takes one.
 */
export class PerCpuHashMap<K = Uint8Array, V = Uint8Array> extends BpfMap<K, V[]> {
  constructor(source: MapCore | BpfMap<unknown, unknown>, codecs: PerCpuCodecs<K, V> = {}) {
    const core = "core" in source ? source.core : source;
    super(
      core,
      {
        keyCodec: codecs.keyCodec,
        valueCodec: perCpuValueCodec(core, singleValueCodec(core, codecs)),
        btf: codecs.btf,
        btfOptions: codecs.btfOptions,
      },
      perCpuBufferSize(core),
    );
    expectType(this.core, [BpfMapType.PERCPU_HASH, BpfMapType.LRU_PERCPU_HASH], new.target.name);
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<K = Uint8Array, V = Uint8Array>(
    spec: TypedMapSpec,
    codecs?: PerCpuCodecs<K, V>,
    options?: CreateMapOptions,
  ): PerCpuHashMap<K, V> {
    return createWith(spec, BpfMapType.PERCPU_HASH, (c) => new PerCpuHashMap(c, codecs), options);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<K = Uint8Array, V = Uint8Array>(
    source: MapSource,
    codecs?: PerCpuCodecs<K, V>,
  ): PerCpuHashMap<K, V> {
    return openWith(source, (c) => new PerCpuHashMap(c, codecs));
  }
  /** Opens the map of this type pinned at `path`. */
  static fromPin<K = Uint8Array, V = Uint8Array>(
    path: string,
    codecs?: PerCpuCodecs<K, V>,
  ): PerCpuHashMap<K, V> {
    return PerCpuHashMap.open({ pin: path }, codecs);
  }
}

/** `BPF_MAP_TYPE_LRU_PERCPU_HASH`. */
export class LruPerCpuHashMap<K = Uint8Array, V = Uint8Array> extends PerCpuHashMap<K, V> {
  constructor(source: MapCore | BpfMap<unknown, unknown>, codecs: PerCpuCodecs<K, V> = {}) {
    super(source, codecs);
    expectType(this.core, [BpfMapType.LRU_PERCPU_HASH], "LruPerCpuHashMap");
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static override create<K = Uint8Array, V = Uint8Array>(
    spec: TypedMapSpec,
    codecs?: PerCpuCodecs<K, V>,
    options?: CreateMapOptions,
  ): LruPerCpuHashMap<K, V> {
    return createWith(spec, BpfMapType.LRU_PERCPU_HASH, (c) => new LruPerCpuHashMap(c, codecs), options);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static override open<K = Uint8Array, V = Uint8Array>(
    source: MapSource,
    codecs?: PerCpuCodecs<K, V>,
  ): LruPerCpuHashMap<K, V> {
    return openWith(source, (c) => new LruPerCpuHashMap(c, codecs));
  }
  /** Opens the map of this type pinned at `path`. */
  static override fromPin<K = Uint8Array, V = Uint8Array>(
    path: string,
    codecs?: PerCpuCodecs<K, V>,
  ): LruPerCpuHashMap<K, V> {
    return LruPerCpuHashMap.open({ pin: path }, codecs);
  }
}
