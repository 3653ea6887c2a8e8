/**
 * Maps whose values are file descriptors of other kernel objects: programs, maps, cgroups, sockets,
 * network devices, CPUs, XDP sockets. `set` takes the fd; `get` returns what the kernel reports back
 * (an id for programs and maps, a socket cookie for socket maps).
 */
import { BpfMapType } from "../abi.js";
import { type Codec, codecs } from "../codec.js";
import type { MapCore } from "../core.js";
import { createWith, expectType, type MapSource, openWith, type TypedMapSpec } from "../factory.js";
import { BpfMap, type MapCodecs } from "../map.js";
import type { CreateMapOptions } from "../open.js";

/** A numeric codec for 4- or 8-byte integers (u32 / u64 as number). */
function numberCodec(size: number): Codec<number> | undefined {
  if (size === 4) return codecs.u32;
  if (size === 8) return codecs.u64n;
  return undefined;
}

function defaults<K, V>(core: MapCore, c: MapCodecs<K, V> | undefined): MapCodecs<K, V> {
  return {
    keyCodec: c?.keyCodec ?? (numberCodec(core.info.keySize) as Codec<K> | undefined),
    valueCodec: c?.valueCodec ?? (numberCodec(core.info.valueSize) as Codec<V> | undefined),
  };
}

/**
 * Base of the fd-valued map classes: numeric keys and values by default (4 or 8 bytes), any codec
 * accepted for structured values such as `struct bpf_devmap_val`.
 */
export class FdValueMap<K = number, V = number> extends BpfMap<K, V> {
  /** Map types the concrete class accepts. */
  protected static readonly types: readonly number[] = [];
  constructor(source: MapCore | BpfMap<unknown, unknown>, mapCodecs?: MapCodecs<K, V>) {
    const core = "core" in source ? source.core : source;
    super(core, defaults(core, mapCodecs));
    const cls = new.target as unknown as { types: readonly number[]; name: string };
    expectType(this.core, cls.types, cls.name);
  }
}

type FdMapClass<M> = new (core: MapCore, codecs?: MapCodecs<never, never>) => M;

function create<M>(
  cls: FdMapClass<M>,
  type: number,
  spec: TypedMapSpec,
  c: unknown,
  o?: CreateMapOptions,
): M {
  return createWith(spec, type, (core) => new cls(core, c as MapCodecs<never, never>), o);
}
function open<M>(cls: FdMapClass<M>, source: MapSource, c: unknown): M {
  return openWith(source, (core) => new cls(core, c as MapCodecs<never, never>));
}

/** `BPF_MAP_TYPE_PROG_ARRAY`: tail-call targets. `set(i, progFd)`; `get(i)` returns the program id. */
export class ProgramArray<K = number, V = number> extends FdValueMap<K, V> {
  protected static override readonly types = [BpfMapType.PROG_ARRAY];
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<K = number, V = number>(spec: TypedMapSpec, c?: MapCodecs<K, V>, o?: CreateMapOptions) {
    return create<ProgramArray<K, V>>(ProgramArray, BpfMapType.PROG_ARRAY, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<K = number, V = number>(source: MapSource, c?: MapCodecs<K, V>) {
    return open<ProgramArray<K, V>>(ProgramArray, source, c);
  }
}

/** `BPF_MAP_TYPE_CGROUP_ARRAY`: cgroup fds for `bpf_current_task_under_cgroup` / `skb_under_cgroup`. */
export class CgroupArray<K = number, V = number> extends FdValueMap<K, V> {
  protected static override readonly types = [BpfMapType.CGROUP_ARRAY];
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<K = number, V = number>(spec: TypedMapSpec, c?: MapCodecs<K, V>, o?: CreateMapOptions) {
    return create<CgroupArray<K, V>>(CgroupArray, BpfMapType.CGROUP_ARRAY, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<K = number, V = number>(source: MapSource, c?: MapCodecs<K, V>) {
    return open<CgroupArray<K, V>>(CgroupArray, source, c);
  }
}

/** `BPF_MAP_TYPE_ARRAY_OF_MAPS`: `set(i, innerMapFd)`; `get(i)` returns the inner map's id. */
export class ArrayOfMaps<K = number, V = number> extends FdValueMap<K, V> {
  protected static override readonly types = [BpfMapType.ARRAY_OF_MAPS];
  /** Needs `spec.innerMap` or `options.innerMapFd` (the template of the inner maps). */
  static create<K = number, V = number>(spec: TypedMapSpec, c?: MapCodecs<K, V>, o?: CreateMapOptions) {
    return create<ArrayOfMaps<K, V>>(ArrayOfMaps, BpfMapType.ARRAY_OF_MAPS, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<K = number, V = number>(source: MapSource, c?: MapCodecs<K, V>) {
    return open<ArrayOfMaps<K, V>>(ArrayOfMaps, source, c);
  }
}

/** `BPF_MAP_TYPE_HASH_OF_MAPS`: like {@link ArrayOfMaps} with arbitrary keys. */
export class HashOfMaps<K = number, V = number> extends FdValueMap<K, V> {
  protected static override readonly types = [BpfMapType.HASH_OF_MAPS];
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<K = number, V = number>(spec: TypedMapSpec, c?: MapCodecs<K, V>, o?: CreateMapOptions) {
    return create<HashOfMaps<K, V>>(HashOfMaps, BpfMapType.HASH_OF_MAPS, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<K = number, V = number>(source: MapSource, c?: MapCodecs<K, V>) {
    return open<HashOfMaps<K, V>>(HashOfMaps, source, c);
  }
}

/** `BPF_MAP_TYPE_DEVMAP`: XDP redirect targets by index; values are ifindexes (or `struct bpf_devmap_val`). */
export class DevMap<K = number, V = number> extends FdValueMap<K, V> {
  protected static override readonly types = [BpfMapType.DEVMAP];
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<K = number, V = number>(spec: TypedMapSpec, c?: MapCodecs<K, V>, o?: CreateMapOptions) {
    return create<DevMap<K, V>>(DevMap, BpfMapType.DEVMAP, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<K = number, V = number>(source: MapSource, c?: MapCodecs<K, V>) {
    return open<DevMap<K, V>>(DevMap, source, c);
  }
}

/** `BPF_MAP_TYPE_DEVMAP_HASH`: XDP redirect targets by hashed key. */
export class DevMapHash<K = number, V = number> extends FdValueMap<K, V> {
  protected static override readonly types = [BpfMapType.DEVMAP_HASH];
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<K = number, V = number>(spec: TypedMapSpec, c?: MapCodecs<K, V>, o?: CreateMapOptions) {
    return create<DevMapHash<K, V>>(DevMapHash, BpfMapType.DEVMAP_HASH, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<K = number, V = number>(source: MapSource, c?: MapCodecs<K, V>) {
    return open<DevMapHash<K, V>>(DevMapHash, source, c);
  }
}

/** `BPF_MAP_TYPE_CPUMAP`: XDP redirect to CPUs; values are queue sizes (or `struct bpf_cpumap_val`). */
export class CpuMap<K = number, V = number> extends FdValueMap<K, V> {
  protected static override readonly types = [BpfMapType.CPUMAP];
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<K = number, V = number>(spec: TypedMapSpec, c?: MapCodecs<K, V>, o?: CreateMapOptions) {
    return create<CpuMap<K, V>>(CpuMap, BpfMapType.CPUMAP, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<K = number, V = number>(source: MapSource, c?: MapCodecs<K, V>) {
    return open<CpuMap<K, V>>(CpuMap, source, c);
  }
}

/** `BPF_MAP_TYPE_XSKMAP`: AF_XDP socket fds by queue index. */
export class XskMap<K = number, V = number> extends FdValueMap<K, V> {
  protected static override readonly types = [BpfMapType.XSKMAP];
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<K = number, V = number>(spec: TypedMapSpec, c?: MapCodecs<K, V>, o?: CreateMapOptions) {
    return create<XskMap<K, V>>(XskMap, BpfMapType.XSKMAP, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<K = number, V = number>(source: MapSource, c?: MapCodecs<K, V>) {
    return open<XskMap<K, V>>(XskMap, source, c);
  }
}

/** `BPF_MAP_TYPE_SOCKMAP`: socket fds by index, for sk_msg / sk_skb redirection. */
export class SockMap<K = number, V = number> extends FdValueMap<K, V> {
  protected static override readonly types = [BpfMapType.SOCKMAP];
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<K = number, V = number>(spec: TypedMapSpec, c?: MapCodecs<K, V>, o?: CreateMapOptions) {
    return create<SockMap<K, V>>(SockMap, BpfMapType.SOCKMAP, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<K = number, V = number>(source: MapSource, c?: MapCodecs<K, V>) {
    return open<SockMap<K, V>>(SockMap, source, c);
  }
}

/** `BPF_MAP_TYPE_SOCKHASH`: socket fds by arbitrary key. */
export class SockHash<K = number, V = number> extends FdValueMap<K, V> {
  protected static override readonly types = [BpfMapType.SOCKHASH];
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<K = number, V = number>(spec: TypedMapSpec, c?: MapCodecs<K, V>, o?: CreateMapOptions) {
    return create<SockHash<K, V>>(SockHash, BpfMapType.SOCKHASH, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<K = number, V = number>(source: MapSource, c?: MapCodecs<K, V>) {
    return open<SockHash<K, V>>(SockHash, source, c);
  }
}

/** `BPF_MAP_TYPE_REUSEPORT_SOCKARRAY`: SO_REUSEPORT socket selection by index. */
export class ReusePortSockArray<K = number, V = number> extends FdValueMap<K, V> {
  protected static override readonly types = [BpfMapType.REUSEPORT_SOCKARRAY];
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<K = number, V = number>(spec: TypedMapSpec, c?: MapCodecs<K, V>, o?: CreateMapOptions) {
    return create<ReusePortSockArray<K, V>>(ReusePortSockArray, BpfMapType.REUSEPORT_SOCKARRAY, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<K = number, V = number>(source: MapSource, c?: MapCodecs<K, V>) {
    return open<ReusePortSockArray<K, V>>(ReusePortSockArray, source, c);
  }
}
