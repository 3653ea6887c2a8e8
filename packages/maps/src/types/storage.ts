/**
 * Local storage maps, keyed by an fd of the owning object (socket, task pidfd, inode file, cgroup), and
 * the older cgroup storage maps keyed by `struct bpf_cgroup_storage_key`.
 * Creating local storage maps needs BTF for the value (the kernel insists), so they usually come
 * from an object file.
 */
import { BpfMapType } from "../abi.js";
import { type Codec, codecs } from "../codec.js";
import type { MapCore } from "../core.js";
import { createWith, expectType, type MapSource, openWith, type TypedMapSpec } from "../factory.js";
import { BpfMap, type MapCodecs } from "../map.js";
import type { CreateMapOptions } from "../open.js";
import { type PerCpuCodecs, perCpuBufferSize, perCpuValueCodec, singleValueCodec } from "./hash.js";
import type { ValueCodec } from "./queue.js";

type StorageClass<M> = new (core: MapCore, c?: ValueCodec<never>) => M;

/** Base of the fd-keyed local storage classes: `get(fd)`, `set(fd, value)`, `delete(fd)`. */
export class LocalStorageMap<V = Uint8Array> extends BpfMap<number, V> {
  protected static readonly types: readonly number[] = [];
  constructor(source: MapCore | BpfMap<unknown, unknown>, c: ValueCodec<V> = {}) {
    super(source, { ...c, keyCodec: codecs.i32 });
    const cls = new.target as unknown as { types: readonly number[]; name: string };
    expectType(this.core, cls.types, cls.name);
  }
}

function make<M>(
  cls: StorageClass<M>,
  type: number,
  spec: TypedMapSpec,
  c: unknown,
  o?: CreateMapOptions,
): M {
  return createWith(spec, type, (core) => new cls(core, c as ValueCodec<never>), o);
}
function reopen<M>(cls: StorageClass<M>, source: MapSource, c: unknown): M {
  return openWith(source, (core) => new cls(core, c as ValueCodec<never>));
}

/** `BPF_MAP_TYPE_SK_STORAGE`: per-socket storage; keys are socket fds. */
export class SkStorage<V = Uint8Array> extends LocalStorageMap<V> {
  protected static override readonly types = [BpfMapType.SK_STORAGE];
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<V = Uint8Array>(spec: TypedMapSpec, c?: ValueCodec<V>, o?: CreateMapOptions) {
    return make<SkStorage<V>>(SkStorage, BpfMapType.SK_STORAGE, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<V = Uint8Array>(source: MapSource, c?: ValueCodec<V>) {
    return reopen<SkStorage<V>>(SkStorage, source, c);
  }
}

/** `BPF_MAP_TYPE_TASK_STORAGE`: per-task storage; keys are pidfds. */
export class TaskStorage<V = Uint8Array> extends LocalStorageMap<V> {
  protected static override readonly types = [BpfMapType.TASK_STORAGE];
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<V = Uint8Array>(spec: TypedMapSpec, c?: ValueCodec<V>, o?: CreateMapOptions) {
    return make<TaskStorage<V>>(TaskStorage, BpfMapType.TASK_STORAGE, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<V = Uint8Array>(source: MapSource, c?: ValueCodec<V>) {
    return reopen<TaskStorage<V>>(TaskStorage, source, c);
  }
}

/** `BPF_MAP_TYPE_INODE_STORAGE`: per-inode storage (BPF LSM); keys are fds of open files. */
export class InodeStorage<V = Uint8Array> extends LocalStorageMap<V> {
  protected static override readonly types = [BpfMapType.INODE_STORAGE];
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<V = Uint8Array>(spec: TypedMapSpec, c?: ValueCodec<V>, o?: CreateMapOptions) {
    return make<InodeStorage<V>>(InodeStorage, BpfMapType.INODE_STORAGE, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<V = Uint8Array>(source: MapSource, c?: ValueCodec<V>) {
    return reopen<InodeStorage<V>>(InodeStorage, source, c);
  }
}

/** `BPF_MAP_TYPE_CGRP_STORAGE`: per-cgroup storage; keys are cgroup directory fds. */
export class CgrpStorage<V = Uint8Array> extends LocalStorageMap<V> {
  protected static override readonly types = [BpfMapType.CGRP_STORAGE];
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<V = Uint8Array>(spec: TypedMapSpec, c?: ValueCodec<V>, o?: CreateMapOptions) {
    return make<CgrpStorage<V>>(CgrpStorage, BpfMapType.CGRP_STORAGE, spec, c, o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<V = Uint8Array>(source: MapSource, c?: ValueCodec<V>) {
    return reopen<CgrpStorage<V>>(CgrpStorage, source, c);
  }
}

/** The default key codec of cgroup storage: raw bytes (`struct bpf_cgroup_storage_key`, or a u64 cgroup id). */
function cgroupKeyCodec<K>(core: MapCore, c?: Codec<K>): Codec<K> | undefined {
  if (c) return c;
  return core.info.keySize === 8 ? (codecs.u64 as unknown as Codec<K>) : undefined;
}

/**
 * `BPF_MAP_TYPE_CGROUP_STORAGE`: storage per attached cgroup program (created by the kernel on attach).
 * Keys are `struct bpf_cgroup_storage_key` (raw) or, with an 8-byte key, the cgroup id as bigint.
 */
export class CgroupStorage<K = Uint8Array, V = Uint8Array> extends BpfMap<K, V> {
  constructor(source: MapCore | BpfMap<unknown, unknown>, c: MapCodecs<K, V> = {}) {
    const core = "core" in source ? source.core : source;
    super(core, { keyCodec: cgroupKeyCodec(core, c.keyCodec), valueCodec: c.valueCodec });
    expectType(this.core, [BpfMapType.CGROUP_STORAGE], "CgroupStorage");
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<K = Uint8Array, V = Uint8Array>(
    spec: TypedMapSpec,
    c?: MapCodecs<K, V>,
    o?: CreateMapOptions,
  ) {
    return createWith(spec, BpfMapType.CGROUP_STORAGE, (core) => new CgroupStorage<K, V>(core, c), o);
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<K = Uint8Array, V = Uint8Array>(source: MapSource, c?: MapCodecs<K, V>) {
    return openWith(source, (core) => new CgroupStorage<K, V>(core, c));
  }
}

/** `BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE`: per-CPU values, one array entry per possible CPU. */
export class PerCpuCgroupStorage<K = Uint8Array, V = Uint8Array> extends BpfMap<K, V[]> {
  constructor(source: MapCore | BpfMap<unknown, unknown>, c: PerCpuCodecs<K, V> = {}) {
    const core = "core" in source ? source.core : source;
    super(
      core,
      {
        keyCodec: cgroupKeyCodec(core, c.keyCodec),
        valueCodec: perCpuValueCodec(core, singleValueCodec(core, c)),
      },
      perCpuBufferSize(core),
    );
    expectType(this.core, [BpfMapType.PERCPU_CGROUP_STORAGE], "PerCpuCgroupStorage");
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create<K = Uint8Array, V = Uint8Array>(
    spec: TypedMapSpec,
    c?: PerCpuCodecs<K, V>,
    o?: CreateMapOptions,
  ) {
    return createWith(
      spec,
      BpfMapType.PERCPU_CGROUP_STORAGE,
      (core) => new PerCpuCgroupStorage<K, V>(core, c),
      o,
    );
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open<K = Uint8Array, V = Uint8Array>(source: MapSource, c?: PerCpuCodecs<K, V>) {
    return openWith(source, (core) => new PerCpuCgroupStorage<K, V>(core, c));
  }
}
