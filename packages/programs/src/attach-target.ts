/**
 * The BTF id a tracing, LSM, iterator or extension program is loaded against. Kernel functions are
 * searched in vmlinux first, then in every loaded module's BTF (the module's BTF object fd is then passed
 * as attach_btf_obj_fd).
 */
import { readdirSync } from "node:fs";
import { type Btf, BtfKind, parseBtf } from "@ebpf/btf";
import { KERNEL_BTF_DIR, loadKernelBtf, loadModuleBtf } from "@ebpf/btf/node";
import { BpfAttachType, BpfProgType, btfBytes, type Fd, type Syscalls } from "@ebpf/sys";
import { structOpsTarget } from "./attach/struct-ops-target.js";
import { AttachError } from "./errors.js";
import type { ResolvedAttachTarget } from "./load.js";
import type { ProgramLoadSpec } from "./spec.js";

/** The BTF name and kind the kernel looks up for a target of this program type/attach type. */
export function targetBtfName(
  type: number,
  attachType: number | undefined,
  target: string,
): { name: string; kind: number } {
  if (type === BpfProgType.TRACING && attachType === BpfAttachType.TRACE_RAW_TP)
    return { name: `btf_trace_${target}`, kind: BtfKind.Typedef };
  if (type === BpfProgType.TRACING && attachType === BpfAttachType.TRACE_ITER)
    return { name: `bpf_iter_${target}`, kind: BtfKind.Func };
  if (type === BpfProgType.LSM) return { name: `bpf_lsm_${target}`, kind: BtfKind.Func };
  return { name: target, kind: BtfKind.Func };
}

/** Whether a spec needs an attach BTF id at load time. */
export function needsAttachTarget(spec: ProgramLoadSpec): boolean {
  return (
    spec.type === BpfProgType.TRACING ||
    spec.type === BpfProgType.LSM ||
    spec.type === BpfProgType.EXT ||
    spec.type === BpfProgType.STRUCT_OPS
  );
}

function ownIds(btf: Btf, name: string, kind: number): number[] {
  return btf.findIdsByName(name, kind as BtfKind).filter((id) => id >= btf.startId);
}

/** Opens the kernel BTF object of a module by name (walking BTF ids). */
function moduleBtfFd(module: string, sys: Syscalls): Fd | undefined {
  for (let id = sys.getNextId("btf", 0); id !== undefined; id = sys.getNextId("btf", id)) {
    let fd: Fd;
    try {
      fd = sys.getFdById("btf", id);
    } catch {
      continue; // went away meanwhile
    }
    const info = sys.btfInfo(fd);
    if (info.kernelBtf && info.name === module) return fd;
    fd.close();
  }
  return undefined;
}

/**
 * Resolves `spec.attachTo` to the BTF id (and module BTF fd) BPF_PROG_LOAD needs. Returns `{}` when the
 * spec needs none or already carries `attachBtfId`. The caller closes `attachBtfObjFd`.
 *
 * @throws AttachError (`ERR_EBPF_ATTACH_TARGET`) when the target is found nowhere
 */
export function resolveAttachTarget(spec: ProgramLoadSpec, sys: Syscalls): ResolvedAttachTarget {
  if (!needsAttachTarget(spec) || spec.attachBtfId !== undefined || spec.attachTo === undefined) return {};
  if (spec.type === BpfProgType.STRUCT_OPS) {
    const t = structOpsTarget(spec.attachTo);
    return { attachBtfId: t.btfId, expectedAttachType: t.member };
  }
  if (spec.type === BpfProgType.EXT) {
    if (!spec.attachProgFd)
      throw new AttachError(
        `program "${spec.name}": an extension needs attachProgFd (the program whose function it replaces)`,
        { code: "ERR_EBPF_ATTACH_TARGET" },
      );
    return { attachBtfId: funcIdInProgram(spec.attachProgFd, spec.attachTo, sys) };
  }
  const { name, kind } = targetBtfName(spec.type, spec.expectedAttachType, spec.attachTo);
  const vmlinux = loadKernelBtf();
  const ids = vmlinux.findIdsByName(name, kind as BtfKind);
  if (ids.length > 0) return { attachBtfId: ids[0] };
  let modules: string[] = [];
  try {
    modules = readdirSync(KERNEL_BTF_DIR).filter((m) => m !== "vmlinux");
  } catch {
    modules = [];
  }
  for (const m of modules) {
    let btf: Btf;
    try {
      btf = loadModuleBtf(m);
    } catch {
      continue;
    }
    const own = ownIds(btf, name, kind);
    if (own.length === 0) continue;
    const fd = moduleBtfFd(m, sys);
    if (!fd) continue;
    return { attachBtfId: own[0], attachBtfObjFd: fd };
  }
  throw new AttachError(
    `program "${spec.name}": attach target "${spec.attachTo}" (BTF ${name}) not found in vmlinux or module BTF`,
    { code: "ERR_EBPF_ATTACH_TARGET" },
  );
}

/** The BTF id of function `name` in the BTF of a loaded BPF program (freplace targets). */
function funcIdInProgram(progFd: Fd, name: string, sys: Syscalls): number {
  const info = sys.progInfo(progFd);
  if (info.btfId === 0)
    throw new AttachError(`the target program of an extension has no BTF: cannot find "${name}"`, {
      code: "ERR_EBPF_ATTACH_TARGET",
    });
  using fd = sys.getFdById("btf", info.btfId);
  const ids = parseBtf(btfBytes(fd)).findIdsByName(name, BtfKind.Func);
  if (ids.length === 0)
    throw new AttachError(`function "${name}" not found in the BTF of program id ${info.id}`, {
      code: "ERR_EBPF_ATTACH_TARGET",
    });
  return ids[0];
}
