/**
 * The narrow kernel interface `@ebpf/maps` is written against. The real implementation adapts
 * `@ebpf/sys` (see `sys-kernel.ts`); unit tests install an in-memory fake with {@link setMapKernel}.
 * Keeping every syscall behind this one seam is what lets map logic be tested without a kernel.
 *
 * @internal
 */
import { createSysMapKernel } from "./sys-kernel.js";

/** What `BPF_MAP_CREATE` needs. */
export interface MapCreateRequest {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  innerMapFd?: number;
  numaNode?: number;
  mapExtra?: bigint;
  btfFd?: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  btfVmlinuxValueTypeId?: number;
}

/** What `BPF_OBJ_GET_INFO_BY_FD` reports about a map. */
export interface KernelMapInfo {
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  mapExtra: bigint;
  /** struct_ops maps: the kernel BTF id of the value struct (0 for other maps; optional for fakes). */
  btfVmlinuxValueTypeId?: number;
}

/**
 * Single-element operations on one map through preallocated key/value buffers: the caller writes
 * `key` (and `value`), calls the operation, and reads `value` / `nextKey`. One port per map keeps the
 * hot path free of allocation.
 */
export interface ElementPort {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly nextKey: Uint8Array;
  /** `BPF_MAP_LOOKUP_ELEM` key → value; false when the key is absent (ENOENT). */
  lookup(flags: number): boolean;
  /** `BPF_MAP_UPDATE_ELEM` key, value. */
  update(flags: number): void;
  /** `BPF_MAP_DELETE_ELEM` key; false when the key was absent. */
  delete(): boolean;
  /** `BPF_MAP_LOOKUP_AND_DELETE_ELEM` (no key is passed when the key size is 0: queues, stacks). False on ENOENT. */
  lookupAndDelete(flags: number): boolean;
  /** `BPF_MAP_GET_NEXT_KEY` from `key` (or from the start when `fromStart`) into `nextKey`; false at the end. */
  getNextKey(fromStart: boolean): boolean;
}

/** Outcome of one `BPF_MAP_LOOKUP_BATCH` / `LOOKUP_AND_DELETE_BATCH` call. */
export interface BatchLookupResult {
  /** Elements written to the key/value arrays. */
  count: number;
  /** True when the kernel reported the end of the map (ENOENT). */
  done: boolean;
}

/** A shared memory mapping. `buffer` must become unusable (detached) when `unmap()` runs. */
export interface MappedMemory {
  readonly buffer: ArrayBuffer;
  unmap(): void;
}

/** Options for one per-CPU `PERF_COUNT_SW_BPF_OUTPUT` event. */
export interface PerfOutputOptions {
  cpu: number;
  /** Wake the reader after this many samples (default 1). Ignored when `watermarkBytes` is set. */
  wakeupEvents?: number;
  /** Wake the reader once this many bytes are in the ring. */
  watermarkBytes?: number;
}

/** The kernel as `@ebpf/maps` sees it. */
export interface MapKernel {
  createMap(request: MapCreateRequest): number;
  /**
   * Whether maps of `type` can be created, for types a plain request cannot probe (local storage needs
   * BTF, map-in-map an inner map); undefined when that cannot be told. Optional: fakes may leave it out.
   */
  probeMapType?(type: number): boolean | undefined;
  /**
   * `BPF_BTF_LOAD` of raw BTF; returns the fd. Optional: used to lend a placeholder BTF to struct_ops
   * map creation, which the kernel refuses without some BTF fd.
   */
  loadBtf?(btf: Uint8Array): number;
  elementPort(fd: number, keySize: number, valueSize: number): ElementPort;
  lookupBatch(
    fd: number,
    andDelete: boolean,
    inBatch: Uint8Array | null,
    outBatch: Uint8Array,
    keys: Uint8Array,
    values: Uint8Array,
    count: number,
    elemFlags: number,
  ): BatchLookupResult;
  /** Returns how many elements were processed; throws (with the processed count on the error) on failure. */
  updateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number, elemFlags: number): number;
  deleteBatch(fd: number, keys: Uint8Array, count: number, elemFlags: number): number;
  freeze(fd: number): void;
  pin(fd: number, path: string): void;
  /** `BPF_OBJ_GET`: a new fd for a pinned object, or `undefined` when nothing is pinned at `path`. */
  getPinned(path: string, readOnly: boolean): number | undefined;
  /** Removes a pin (unlink). False when nothing was pinned there. */
  unpin(path: string): boolean;
  fdById(id: number): number;
  info(fd: number): KernelMapInfo;
  /** True when the map was frozen (from `/proc/self/fdinfo`). */
  isFrozen(fd: number): boolean;
  dup(fd: number): number;
  close(fd: number): void;
  mmap(fd: number, length: number, writable: boolean, offset: number): MappedMemory;
  possibleCpus(): number;
  /** The online CPUs (perf rings can only be opened on those). */
  onlineCpus(): number[];
  pageSize(): number;
  /** Calls `onReadable` on the event loop whenever `fd` is readable; returns the unsubscribe function. */
  watch(fd: number, onReadable: () => void): () => void;
  openPerfOutput(options: PerfOutputOptions): number;
  enablePerf(fd: number): void;
}

let installed: MapKernel | undefined;

/** Installs the kernel implementation (tests install a fake; `undefined` restores the real one). */
export function setMapKernel(kernel: MapKernel | undefined): void {
  installed = kernel;
}

/** The kernel implementation in use. */
export function mapKernel(): MapKernel {
  installed ??= createSysMapKernel();
  return installed;
}
