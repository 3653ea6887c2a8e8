/**
 * Type-directed construction: `createMap(spec)` and `openMap(source)` return the class that fits the
 * map's type, with default codecs (numbers where the layout is fixed, raw bytes otherwise).
 */
import { BpfMapType } from "./abi.js";
import type { MapCore } from "./core.js";
import { type MapSource, openWith } from "./factory.js";
import { BpfMap } from "./map.js";
import { type CreateMapOptions, createMapCore } from "./open.js";
import type { MapSpec } from "./spec.js";
import { ArrayMap, PerCpuArray } from "./types/array.js";
import { PerfEventArray, RingBuf, UserRingBuf } from "./types/events.js";
import {
  ArrayOfMaps,
  CgroupArray,
  CpuMap,
  DevMap,
  DevMapHash,
  HashOfMaps,
  ProgramArray,
  ReusePortSockArray,
  SockHash,
  SockMap,
  XskMap,
} from "./types/fd-maps.js";
import { HashMap, LruHashMap, LruPerCpuHashMap, PerCpuHashMap } from "./types/hash.js";
import { LpmTrie } from "./types/lpm.js";
import { ArenaMap, StackTraceMap, StructOpsMap } from "./types/misc.js";
import { BloomFilter, Queue, Stack } from "./types/queue.js";
import {
  CgroupStorage,
  CgrpStorage,
  InodeStorage,
  PerCpuCgroupStorage,
  SkStorage,
  TaskStorage,
} from "./types/storage.js";

/** Any map object this package returns (narrow it with `instanceof`). */
export type AnyMap = BpfMap<unknown, unknown>;

const T = BpfMapType;
const wrappers = {
  [T.HASH]: (c: MapCore) => new HashMap(c),
  [T.LRU_HASH]: (c: MapCore) => new LruHashMap(c),
  [T.PERCPU_HASH]: (c: MapCore) => new PerCpuHashMap(c),
  [T.LRU_PERCPU_HASH]: (c: MapCore) => new LruPerCpuHashMap(c),
  [T.ARRAY]: (c: MapCore) => new ArrayMap(c),
  [T.PERCPU_ARRAY]: (c: MapCore) => new PerCpuArray(c),
  [T.PROG_ARRAY]: (c: MapCore) => new ProgramArray(c),
  [T.PERF_EVENT_ARRAY]: (c: MapCore) => new PerfEventArray(c),
  [T.STACK_TRACE]: (c: MapCore) => new StackTraceMap(c),
  [T.CGROUP_ARRAY]: (c: MapCore) => new CgroupArray(c),
  [T.LPM_TRIE]: (c: MapCore) => new LpmTrie(c),
  [T.ARRAY_OF_MAPS]: (c: MapCore) => new ArrayOfMaps(c),
  [T.HASH_OF_MAPS]: (c: MapCore) => new HashOfMaps(c),
  [T.DEVMAP]: (c: MapCore) => new DevMap(c),
  [T.SOCKMAP]: (c: MapCore) => new SockMap(c),
  [T.CPUMAP]: (c: MapCore) => new CpuMap(c),
  [T.XSKMAP]: (c: MapCore) => new XskMap(c),
  [T.SOCKHASH]: (c: MapCore) => new SockHash(c),
  [T.CGROUP_STORAGE]: (c: MapCore) => new CgroupStorage(c),
  [T.REUSEPORT_SOCKARRAY]: (c: MapCore) => new ReusePortSockArray(c),
  [T.PERCPU_CGROUP_STORAGE]: (c: MapCore) => new PerCpuCgroupStorage(c),
  [T.QUEUE]: (c: MapCore) => new Queue(c),
  [T.STACK]: (c: MapCore) => new Stack(c),
  [T.SK_STORAGE]: (c: MapCore) => new SkStorage(c),
  [T.DEVMAP_HASH]: (c: MapCore) => new DevMapHash(c),
  [T.STRUCT_OPS]: (c: MapCore) => new StructOpsMap(c),
  [T.RINGBUF]: (c: MapCore) => new RingBuf(c),
  [T.INODE_STORAGE]: (c: MapCore) => new InodeStorage(c),
  [T.TASK_STORAGE]: (c: MapCore) => new TaskStorage(c),
  [T.BLOOM_FILTER]: (c: MapCore) => new BloomFilter(c),
  [T.USER_RINGBUF]: (c: MapCore) => new UserRingBuf(c),
  [T.CGRP_STORAGE]: (c: MapCore) => new CgrpStorage(c),
  [T.ARENA]: (c: MapCore) => new ArenaMap(c),
} as unknown as Record<number, (core: MapCore) => AnyMap>;

/** The typed object for an open handle (a plain `BpfMap` for a type this library does not know). */
export function wrapMap(core: MapCore): AnyMap {
  const wrap = wrappers[core.info.type];
  return wrap ? wrap(core) : (new BpfMap(core) as unknown as AnyMap);
}

/**
 * Creates a map from a spec (an `@ebpf/elf` `MapSpec` or a hand-written one) and returns the class
 * for its type, e.g. a `HashMap` for `type: "hash"`. Narrow with `instanceof` or use the class's own
 * `create` for typed codecs.
 *
 * @throws `MapTypeError` for an unknown type, `NotSupportedError` when the kernel lacks the type.
 * @example
 * ```ts
 * const m = createMap({ name: "counts", type: "hash", keySize: 4, valueSize: 8, maxEntries: 64 });
 * if (m instanceof HashMap) m.set(new Uint8Array(4), new Uint8Array(8));
 * ```
 */
export function createMap(spec: MapSpec, options?: CreateMapOptions): AnyMap {
  const core = createMapCore(spec, options);
  try {
    return wrapMap(core);
  } catch (e) {
    core.close();
    throw e;
  }
}

/**
 * Opens an existing map by pin path, id or fd (duplicated) and returns the class for its type.
 *
 * @example
 * ```ts
 * using m = openMap({ pin: "/sys/fs/bpf/counts" });
 * console.log(m.info());
 * ```
 */
export function openMap(source: MapSource): AnyMap {
  return openWith(source, wrapMap);
}
