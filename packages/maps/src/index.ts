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
export type { MapSource, TypedMapSpec } from "./factory.js";
export { BpfMap, type MapCodecs, type MapInfo, type UpdateMode, type UpdateOptions } from "./map.js";
export { MappedMapMemory } from "./mmap.js";
export { type CreateMapOptions, probeMapType } from "./open.js";
export { perCpuSlotSize, perCpuValueSize } from "./percpu.js";
export { type MapPinning, type MapSpec, type MapTypeName, mapTypeName } from "./spec.js";
export { type ArrayCodecs, ArrayMap as Array, ArrayMap, PerCpuArray } from "./types/array.js";
export { HashMap, LruHashMap, LruPerCpuHashMap, type PerCpuCodecs, PerCpuHashMap } from "./types/hash.js";
