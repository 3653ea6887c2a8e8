/**
 * `@ebpf/maps` — every BPF map type with typed APIs, batch operations, pinning, mmap, and zero-copy
 * ring/perf buffer readers on the event loop.
 *
 * @packageDocumentation
 */
export { EbpfError, ParseError } from "@ebpf/errors";
export { NotSupportedError } from "@ebpf/sys";
export type { BatchLookupOptions, BatchWriteOptions } from "./batch.js";
export { type Codec, codecs, rawCodec } from "./codec.js";
export { KeyNotFoundError, MapClosedError, MapError, MapSizeError, MapTypeError } from "./errors.js";
export type { IndexedMapSpec, MapSource, TypedMapSpec } from "./factory.js";
export {
  BpfMap,
  type MapCodecs,
  type MapInfo,
  type UpdateMode,
  type UpdateOptions,
  updateFlags,
} from "./map.js";
export { MappedMapMemory } from "./mmap.js";
export { type CreateMapOptions, probeMapType } from "./open.js";
export { perCpuSlotSize, perCpuValueSize } from "./percpu.js";
export type { PerfBatch, PerfDrainHandlers, PerfRecord } from "./perf/consumer.js";
export { type PerfEvent, PerfEventArrayReader, type PerfReaderOptions } from "./perf/reader.js";
export { type AnyMap, createMap, openMap, wrapMap } from "./registry.js";
export type {
  RingBufferBatch,
  RingBufferBatchCallback,
  RingBufferCallback,
  RingBufferRecord,
} from "./ringbuf/consumer.js";
export type { UserRingBufReservation } from "./ringbuf/producer.js";
export { RingBufReader, type RingBufReaderOptions } from "./ringbuf/reader.js";
export { type MapPinning, type MapSpec, type MapTypeName, mapTypeName, mapTypeNumber } from "./spec.js";
export { type ArrayCodecs, ArrayMap as Array, ArrayMap, PerCpuArray } from "./types/array.js";
export { PerfEventArray, RingBuf, type RingSpec, UserRingBuf, UserRingBufWriter } from "./types/events.js";
export {
  ArrayOfMaps,
  CgroupArray,
  CpuMap,
  DevMap,
  DevMapHash,
  FdValueMap,
  HashOfMaps,
  ProgramArray,
  ReusePortSockArray,
  SockHash,
  SockMap,
  XskMap,
} from "./types/fd-maps.js";
export { HashMap, LruHashMap, LruPerCpuHashMap, type PerCpuCodecs, PerCpuHashMap } from "./types/hash.js";
export { type LpmKey, LpmTrie, lpmKeyCodec } from "./types/lpm.js";
export {
  ArenaMap as Arena,
  ArenaMap,
  StackTraceMap,
  type StructOpsCodecs,
  StructOpsMap,
} from "./types/misc.js";
export { BloomFilter, type KeylessMapSpec, Queue, Stack, type ValueCodec } from "./types/queue.js";
export {
  CgroupStorage,
  CgrpStorage,
  InodeStorage,
  LocalStorageMap,
  PerCpuCgroupStorage,
  SkStorage,
  TaskStorage,
} from "./types/storage.js";
