/**
 * What is loaded in the kernel, like `bpftool prog/map/link list`, and run-time statistics
 * (BPF_ENABLE_STATS: run counts and run time of every program while enabled).
 */
import {
  BpfStatsType,
  type Fd,
  kernelSyscalls,
  type LinkInfo,
  type MapInfo,
  type ObjectKind,
  type ProgInfo,
  SyscallError,
  type Syscalls,
} from "@ebpf/sys";
import { linkTypeName } from "./link.js";
import { progTypeName } from "./load.js";

function* ids(kind: ObjectKind, sys: Syscalls): Generator<number> {
  for (let id = sys.getNextId(kind, 0); id !== undefined; id = sys.getNextId(kind, id)) yield id;
}

function infos<T>(kind: ObjectKind, read: (fd: Fd) => T, sys: Syscalls): T[] {
  const out: T[] = [];
  for (const id of ids(kind, sys)) {
    let fd: Fd;
    try {
      fd = sys.getFdById(kind, id);
    } catch (e) {
      if (e instanceof SyscallError && e.errnoName === "ENOENT") continue; // unloaded meanwhile
      throw e;
    }
    try {
      out.push(read(fd));
    } finally {
      fd.close();
    }
  }
  return out;
}

/**
 * Every program loaded in the kernel (by any process), with its info.
 *
 * @example
 * ```ts
 * for (const p of listPrograms()) console.log(p.id, p.typeName, p.name, p.runCnt);
 * ```
 */
export function listPrograms(sys: Syscalls = kernelSyscalls): (ProgInfo & { typeName: string })[] {
  return infos(
    "prog",
    (fd) => {
      const i = sys.progInfo(fd);
      return { ...i, typeName: progTypeName(i.type) };
    },
    sys,
  );
}

/** Every map in the kernel, with its info. */
export function listMaps(sys: Syscalls = kernelSyscalls): MapInfo[] {
  return infos("map", (fd) => sys.mapInfo(fd), sys);
}

/** Every link in the kernel, with its info. */
export function listLinks(sys: Syscalls = kernelSyscalls): (LinkInfo & { typeName: string })[] {
  return infos(
    "link",
    (fd) => {
      const i = sys.linkInfo(fd);
      return { ...i, typeName: linkTypeName(i.type) };
    },
    sys,
  );
}

/** Info of the program with this id. */
export function programInfoById(id: number, sys: Syscalls = kernelSyscalls): ProgInfo & { typeName: string } {
  using fd = sys.getFdById("prog", id);
  const i = sys.progInfo(fd);
  return { ...i, typeName: progTypeName(i.type) };
}

/**
 * Turns on run-time statistics for every program (run_cnt and run_time_ns in their info) until the
 * returned handle is closed. Statistics cost a little on every run, so keep the window short.
 *
 * @example
 * ```ts
 * using stats = enableStats();
 * // ... traffic ...
 * console.log(prog.info().runCnt);
 * ```
 */
export function enableStats(sys: Syscalls = kernelSyscalls): Fd {
  return sys.enableStats(BpfStatsType.RUN_TIME);
}
