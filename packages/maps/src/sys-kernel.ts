/**
 * The real {@link MapKernel}: `@ebpf/sys` underneath. fds cross the seam as numbers owned by
 * `MapCore`; sys `Fd` objects are created only transiently (and released) where its API wants one.
 *
 * @internal
 */
import { readFileSync, unlinkSync } from "node:fs";
import {
  BpfFlags,
  BpfMapInfo,
  btfLoad,
  Fd,
  getFdById,
  haveMapType,
  LinuxDefines,
  MapElemOps,
  mapCreate,
  mapDeleteBatch,
  mapFreeze,
  mapInfo,
  mapLookupAndDeleteBatch,
  mapLookupBatch,
  mapUpdateBatch,
  mmap,
  objGet,
  objPin,
  PerfEventSampleFormat,
  PerfSwIds,
  PerfTypeId,
  Poller,
  pageSize,
  perfEventEnable,
  perfEventOpen,
  SyscallError,
} from "@ebpf/sys";
import type { MapKernel, MappedMemory, PerfOutputOptions } from "./kernel.js";

/** Parses a kernel CPU list such as `0-3,5,7-8` into the CPU numbers. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(",")) {
    if (!part) continue;
    const [lo, hi] = part.split("-");
    for (let c = Number(lo); c <= Number(hi ?? lo); c++) cpus.push(c);
  }
  return cpus;
}

let possible: number | undefined;

/** Borrows a raw fd as a sys `Fd` without taking ownership (its closer does nothing). */
function borrow(raw: number, kind: string): Fd {
  return new Fd(raw, kind, () => {});
}

function errnoIs(e: unknown, name: string): boolean {
  return e instanceof SyscallError && e.errnoName === name;
}

export function createSysMapKernel(): MapKernel {
  return {
    createMap(req) {
      const fd = mapCreate({
        type: req.type,
        keySize: req.keySize,
        valueSize: req.valueSize,
        maxEntries: req.maxEntries,
        flags: req.flags,
        name: req.name,
        innerMapFd: req.innerMapFd,
        numaNode: req.numaNode,
        mapExtra: req.mapExtra,
        btfFd: req.btfFd,
        btfKeyTypeId: req.btfKeyTypeId,
        btfValueTypeId: req.btfValueTypeId,
        btfVmlinuxValueTypeId: req.btfVmlinuxValueTypeId,
      });
      return fd.release();
    },
    probeMapType(type) {
      try {
        return haveMapType(type); // builds the BTF / inner map the type needs
      } catch {
        return undefined; // no probe for the type (struct_ops), or not privileged enough to ask
      }
    },
    loadBtf: (btf) => btfLoad({ btf }).release(),
    // MapElemOps already has the ElementPort shape: hand it out directly (no extra call layer).
    elementPort: (fd, keySize, valueSize) => new MapElemOps(borrow(fd, "map"), keySize, valueSize),
    lookupBatch(fd, andDelete, inBatch, outBatch, keys, values, count, elemFlags) {
      const call = andDelete ? mapLookupAndDeleteBatch : mapLookupBatch;
      return call(fd, { inBatch, outBatch, keys, values, count, elemFlags });
    },
    updateBatch(fd, keys, values, count, elemFlags) {
      return mapUpdateBatch(fd, { keys, values, count, elemFlags }).count;
    },
    deleteBatch(fd, keys, count, elemFlags) {
      return mapDeleteBatch(fd, { keys, count, elemFlags }).count;
    },
    freeze: (fd) => mapFreeze(fd),
    pin: (fd, path) => objPin(fd, path),
    getPinned(path, readOnly) {
      try {
        return objGet(path, readOnly ? BpfFlags.BPF_F_RDONLY : 0, "map").release();
      } catch (e) {
        if (errnoIs(e, "ENOENT")) return undefined;
        throw e;
      }
    },
    unpin(path) {
      try {
        unlinkSync(path);
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw e;
      }
    },
    fdById: (id) => getFdById("map", id).release(),
    info(fd) {
      const { raw, ...info } = mapInfo(fd);
      const vt = BpfMapInfo.fields.btf_vmlinux_value_type_id;
      const btfVmlinuxValueTypeId = new DataView(raw.buffer, raw.byteOffset).getUint32(vt.offset, true);
      return { ...info, btfVmlinuxValueTypeId };
    },
    isFrozen(fd) {
      const text = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
      return /^frozen:\s*1$/m.test(text);
    },
    dup: (fd) => borrow(fd, "map").dup().release(),
    close: (fd) => new Fd(fd, "map").close(),
    mmap(fd, length, writable, offset): MappedMemory {
      const L = LinuxDefines;
      const m = mmap(fd, length, { prot: writable ? L.PROT_READ | L.PROT_WRITE : L.PROT_READ, offset });
      return { buffer: m.buffer, unmap: () => m.close() };
    },
    possibleCpus() {
      possible ??= Math.max(...parseCpuList(readFileSync("/sys/devices/system/cpu/possible", "utf8"))) + 1;
      return possible;
    },
    onlineCpus: () => parseCpuList(readFileSync("/sys/devices/system/cpu/online", "utf8")),
    pageSize: () => pageSize(),
    watch(fd, onReadable) {
      const reg = Poller.shared().register(fd, () => onReadable());
      return () => reg.unregister();
    },
    openPerfOutput(options: PerfOutputOptions) {
      const watermark = options.watermarkBytes !== undefined;
      const fd = perfEventOpen({
        attr: {
          type: PerfTypeId.SOFTWARE,
          config: PerfSwIds.BPF_OUTPUT,
          sample_type: PerfEventSampleFormat.RAW,
          sample_period: 1,
          watermark,
          wakeup_events: watermark ? options.watermarkBytes : (options.wakeupEvents ?? 1),
        },
        pid: -1,
        cpu: options.cpu,
      });
      return fd.release();
    },
    enablePerf: (fd) => perfEventEnable(fd),
  };
}
