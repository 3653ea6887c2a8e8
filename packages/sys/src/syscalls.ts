/**
 * The {@link Syscalls} seam: every kernel operation of @ebpf/sys as one interface, implemented by the real
 * kernel ({@link kernelSyscalls}) and by {@link FakeSyscalls} for unit tests. Packages above take a
 * `Syscalls` (defaulting to `kernelSyscalls`) so their logic can be tested without a kernel.
 */
import * as link from "./link.js";
import * as map from "./map.js";
import { mmap } from "./mmap.js";
import * as obj from "./obj.js";
import { perfEventDisable, perfEventEnable, perfEventOpen, perfEventSetBpf } from "./perf.js";
import * as prog from "./prog.js";

/** Single-element operations through preallocated buffers (see {@link MapElemOps}). */
export interface ElemOps {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly nextKey: Uint8Array;
  lookup(flags?: number): boolean;
  update(flags?: number): void;
  delete(): boolean;
  lookupAndDelete(flags?: number): boolean;
  getNextKey(fromStart?: boolean): boolean;
}

/** An owned memory mapping ({@link Mapping} in the real layer). */
export interface MappedRegion extends Disposable {
  readonly buffer: ArrayBuffer;
  readonly length: number;
  readonly closed: boolean;
  close(): void;
}

/**
 * Every kernel operation, as functions with the signatures of the real ones in this package.
 *
 * @example
 * ```ts
 * class HashMap { constructor(spec: MapSpec, sys: Syscalls = kernelSyscalls) { this.fd = sys.mapCreate(...) } }
 * // in a unit test:
 * const fake = new FakeSyscalls();
 * const m = new HashMap(spec, fake);
 * ```
 */
export interface Syscalls {
  mapCreate: typeof map.mapCreate;
  mapLookupElem: typeof map.mapLookupElem;
  mapUpdateElem: typeof map.mapUpdateElem;
  mapDeleteElem: typeof map.mapDeleteElem;
  mapGetNextKey: typeof map.mapGetNextKey;
  mapLookupAndDeleteElem: typeof map.mapLookupAndDeleteElem;
  mapFreeze: typeof map.mapFreeze;
  mapLookupBatch: typeof map.mapLookupBatch;
  mapLookupAndDeleteBatch: typeof map.mapLookupAndDeleteBatch;
  mapUpdateBatch: typeof map.mapUpdateBatch;
  mapDeleteBatch: typeof map.mapDeleteBatch;
  /** A hot-path accessor for one map ({@link MapElemOps} in the real layer). */
  mapElemOps(fd: import("./fd.js").Fd, keySize: number, valueSize: number): ElemOps;
  progLoad: typeof prog.progLoad;
  btfLoad: typeof prog.btfLoad;
  objPin: typeof obj.objPin;
  objGet: typeof obj.objGet;
  getNextId: typeof obj.getNextId;
  getFdById: typeof obj.getFdById;
  objGetInfoByFd: typeof obj.objGetInfoByFd;
  mapInfo: typeof obj.mapInfo;
  progInfo: typeof obj.progInfo;
  linkInfo: typeof obj.linkInfo;
  btfInfo: typeof obj.btfInfo;
  progAttach: typeof link.progAttach;
  progDetach: typeof link.progDetach;
  progQuery: typeof link.progQuery;
  progTestRun: typeof link.progTestRun;
  rawTracepointOpen: typeof link.rawTracepointOpen;
  linkCreate: typeof link.linkCreate;
  linkUpdate: typeof link.linkUpdate;
  linkDetach: typeof link.linkDetach;
  iterCreate: typeof link.iterCreate;
  enableStats: typeof link.enableStats;
  progBindMap: typeof link.progBindMap;
  taskFdQuery: typeof link.taskFdQuery;
  perfEventOpen: typeof perfEventOpen;
  perfEventEnable: typeof perfEventEnable;
  perfEventDisable: typeof perfEventDisable;
  perfEventSetBpf: typeof perfEventSetBpf;
  mmap(...args: Parameters<typeof mmap>): MappedRegion;
}

/** The real kernel: the functions of this package. */
export const kernelSyscalls: Syscalls = Object.freeze({
  mapCreate: map.mapCreate,
  mapLookupElem: map.mapLookupElem,
  mapUpdateElem: map.mapUpdateElem,
  mapDeleteElem: map.mapDeleteElem,
  mapGetNextKey: map.mapGetNextKey,
  mapLookupAndDeleteElem: map.mapLookupAndDeleteElem,
  mapFreeze: map.mapFreeze,
  mapLookupBatch: map.mapLookupBatch,
  mapLookupAndDeleteBatch: map.mapLookupAndDeleteBatch,
  mapUpdateBatch: map.mapUpdateBatch,
  mapDeleteBatch: map.mapDeleteBatch,
  mapElemOps: (fd: import("./fd.js").Fd, keySize: number, valueSize: number) =>
    new map.MapElemOps(fd, keySize, valueSize),
  progLoad: prog.progLoad,
  btfLoad: prog.btfLoad,
  objPin: obj.objPin,
  objGet: obj.objGet,
  getNextId: obj.getNextId,
  getFdById: obj.getFdById,
  objGetInfoByFd: obj.objGetInfoByFd,
  mapInfo: obj.mapInfo,
  progInfo: obj.progInfo,
  linkInfo: obj.linkInfo,
  btfInfo: obj.btfInfo,
  progAttach: link.progAttach,
  progDetach: link.progDetach,
  progQuery: link.progQuery,
  progTestRun: link.progTestRun,
  rawTracepointOpen: link.rawTracepointOpen,
  linkCreate: link.linkCreate,
  linkUpdate: link.linkUpdate,
  linkDetach: link.linkDetach,
  iterCreate: link.iterCreate,
  enableStats: link.enableStats,
  progBindMap: link.progBindMap,
  taskFdQuery: link.taskFdQuery,
  perfEventOpen,
  perfEventEnable,
  perfEventDisable,
  perfEventSetBpf,
  mmap,
});
