/**
 * Feature probes, each cached for the process: map types, program types, helpers per program type, BTF
 * kinds, link types, bounded loops, large programs. A probe returns true/false; it throws a
 * {@link SyscallError} when the answer is unknowable (EPERM: not privileged enough to ask).
 */

import { BtfBuilder, FuncLinkage, IntEncoding } from "@ebpf/btf";
import {
  BpfAttachType,
  BpfCmd,
  BpfFlags,
  BpfLinkType,
  BpfMapType,
  BpfProgType,
  BtfKind,
} from "./abi.generated.js";
import { cString } from "./attr.js";
import { bpfCmdName } from "./bpf-call.js";
import { Errno } from "./errno.js";
import { NotSupportedError, SyscallError } from "./errors.js";
import type { Fd } from "./fd.js";
import { kernelAtLeast } from "./kernel.js";
import { addressOf } from "./libc.js";
import { linkCreate } from "./link.js";
import { mapCreate } from "./map.js";
import { pageSize } from "./mmap.js";
import { btfLoad, LoadError, progLoad } from "./prog.js";

const cache = new Map<string, boolean>();

function cached(key: string, probe: () => boolean): boolean {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const v = probe();
  cache.set(key, v);
  return v;
}

/** Forgets every cached probe result (tests). */
export function resetProbeCache(): void {
  cache.clear();
}

const name = (table: Record<string, number>, v: number) =>
  Object.entries(table)
    .find(([, x]) => x === v)?.[0]
    ?.toLowerCase() ?? String(v);

/** First mainline kernel with each map type (for NotSupportedError messages). */
export const MAP_TYPE_MIN_KERNEL: Partial<Record<keyof typeof BpfMapType, string>> = {
  HASH: "3.19",
  ARRAY: "3.19",
  PROG_ARRAY: "4.2",
  PERF_EVENT_ARRAY: "4.3",
  PERCPU_HASH: "4.6",
  PERCPU_ARRAY: "4.6",
  STACK_TRACE: "4.6",
  CGROUP_ARRAY: "4.8",
  LRU_HASH: "4.10",
  LRU_PERCPU_HASH: "4.10",
  LPM_TRIE: "4.11",
  ARRAY_OF_MAPS: "4.12",
  HASH_OF_MAPS: "4.12",
  DEVMAP: "4.14",
  SOCKMAP: "4.14",
  CPUMAP: "4.15",
  XSKMAP: "4.18",
  SOCKHASH: "4.18",
  CGROUP_STORAGE: "4.19",
  REUSEPORT_SOCKARRAY: "4.19",
  PERCPU_CGROUP_STORAGE: "4.20",
  QUEUE: "4.20",
  STACK: "4.20",
  SK_STORAGE: "5.2",
  DEVMAP_HASH: "5.4",
  STRUCT_OPS: "5.6",
  RINGBUF: "5.8",
  INODE_STORAGE: "5.10",
  TASK_STORAGE: "5.11",
  BLOOM_FILTER: "5.16",
  USER_RINGBUF: "6.1",
  CGRP_STORAGE: "6.2",
  ARENA: "6.9",
};

/** First mainline kernel with each program type. */
export const PROG_TYPE_MIN_KERNEL: Partial<Record<keyof typeof BpfProgType, string>> = {
  SOCKET_FILTER: "3.19",
  KPROBE: "4.1",
  SCHED_CLS: "4.1",
  SCHED_ACT: "4.1",
  TRACEPOINT: "4.7",
  XDP: "4.8",
  PERF_EVENT: "4.9",
  CGROUP_SKB: "4.10",
  CGROUP_SOCK: "4.10",
  LWT_IN: "4.10",
  LWT_OUT: "4.10",
  LWT_XMIT: "4.10",
  SOCK_OPS: "4.13",
  SK_SKB: "4.14",
  CGROUP_DEVICE: "4.15",
  SK_MSG: "4.17",
  RAW_TRACEPOINT: "4.17",
  CGROUP_SOCK_ADDR: "4.17",
  LWT_SEG6LOCAL: "4.18",
  LIRC_MODE2: "4.18",
  SK_REUSEPORT: "4.19",
  FLOW_DISSECTOR: "4.20",
  CGROUP_SYSCTL: "5.2",
  RAW_TRACEPOINT_WRITABLE: "5.2",
  CGROUP_SOCKOPT: "5.3",
  TRACING: "5.5",
  STRUCT_OPS: "5.6",
  EXT: "5.6",
  LSM: "5.7",
  SK_LOOKUP: "5.9",
  SYSCALL: "5.14",
  NETFILTER: "6.4",
};

function inconclusive(e: unknown): never {
  throw e;
}

const close = (fd: Fd | undefined) => fd?.close();

// ---------------------------------------------------------------------------------------------- BTF

/** A builder holding `int` (type 1, signed 32-bit) to which a probe adds the kind it tests. */
function withInt(): { b: BtfBuilder; int: number } {
  const b = new BtfBuilder();
  return { b, int: b.addInt("int", 4, IntEncoding.Signed) };
}

/** Minimal BTF blobs exercising one kind each, encoded by @ebpf/btf. */
const KIND_BLOBS: Partial<Record<keyof typeof BtfKind, () => Uint8Array>> = {
  INT: () => withInt().b.marshal(),
  FUNC_PROTO: () => {
    const { b, int } = withInt();
    b.addFuncProto(int, []);
    return b.marshal();
  },
  FUNC: () => {
    const { b, int } = withInt();
    b.addFunc("f", b.addFuncProto(int, []), FuncLinkage.Static);
    return b.marshal();
  },
  VAR: () => {
    const { b, int } = withInt();
    b.addVar("v", int);
    return b.marshal();
  },
  DATASEC: () => {
    const { b, int } = withInt();
    const v = b.addVar("v", int);
    b.addDatasec(".data", 4, [{ type: v, offset: 0, size: 4 }]);
    return b.marshal();
  },
  FLOAT: () => {
    const b = new BtfBuilder();
    b.addFloat("float", 4);
    return b.marshal();
  },
  DECL_TAG: () => {
    const { b, int } = withInt();
    b.addDeclTag("tag", b.addStruct("s", 4, [{ name: "a", type: int, bitOffset: 0 }]));
    return b.marshal();
  },
  TYPE_TAG: () => {
    const { b, int } = withInt();
    b.addPtr(b.addTypeTag("tag", int));
    return b.marshal();
  },
  ENUM64: () => {
    const b = new BtfBuilder();
    b.addEnum64("e", 8, [{ name: "a", value: 1n << 40n }]);
    return b.marshal();
  },
};

/** Whether BTF_LOAD accepts a blob using `kind` (a {@link BtfKind} value). */
export function haveBtfKind(kind: number): boolean {
  return cached(`btf:${kind}`, () => {
    const key = Object.entries(BtfKind).find(([, v]) => v === kind)?.[0] as keyof typeof BtfKind | undefined;
    const make = key ? KIND_BLOBS[key] : undefined;
    if (!make) throw new NotSupportedError({ feature: `a probe for BTF kind ${key ?? kind}` });
    try {
      btfLoad({ btf: make() }).close();
      return true;
    } catch (e) {
      if (e instanceof SyscallError && (e.errno === Errno.EINVAL || e.errno === Errno.E2BIG)) return false;
      return inconclusive(e);
    }
  });
}

/** Whether the kernel accepts BTF at all (BPF_BTF_LOAD, 4.18+). */
export function haveBtf(): boolean {
  return haveBtfKind(BtfKind.INT);
}

/** BTF with `int` (id 1) and `struct s { int a; }` (id 2), for the local-storage maps' key and value. */
function storageBtf(): Fd {
  const { b, int } = withInt();
  b.addStruct("s", 4, [{ name: "a", type: int, bitOffset: 0 }]);
  return btfLoad({ btf: b.marshal() });
}

// --------------------------------------------------------------------------------------------- maps

/**
 * Whether maps of `type` (a {@link BpfMapType} value) can be created.
 *
 * @example
 * ```ts
 * if (!haveMapType(BpfMapType.RINGBUF)) throw new NotSupportedError({ feature: "ring buffers", minKernel: "5.8" });
 * ```
 */
export function haveMapType(type: number): boolean {
  return cached(`map:${type}`, () => {
    const T = BpfMapType;
    let keySize = 4;
    let valueSize = 4;
    let maxEntries = 1;
    let flags = 0;
    let inner: Fd | undefined;
    let btf: Fd | undefined;
    let btfKey = 0;
    let btfValue = 0;
    switch (type) {
      case T.QUEUE:
      case T.STACK:
        keySize = 0;
        break;
      case T.RINGBUF:
      case T.USER_RINGBUF:
        keySize = 0;
        valueSize = 0;
        maxEntries = pageSize();
        break;
      case T.LPM_TRIE:
        keySize = 8;
        flags = BpfFlags.BPF_F_NO_PREALLOC;
        break;
      case T.BLOOM_FILTER:
        keySize = 0;
        break;
      case T.CGROUP_STORAGE:
      case T.PERCPU_CGROUP_STORAGE:
        keySize = 16; // struct bpf_cgroup_storage_key
        maxEntries = 0;
        break;
      case T.STACK_TRACE:
        valueSize = 8;
        break;
      case T.ARRAY_OF_MAPS:
      case T.HASH_OF_MAPS:
        if (!haveMapType(T.ARRAY)) return false;
        inner = mapCreate({ type: T.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
        break;
      case T.SK_STORAGE:
      case T.INODE_STORAGE:
      case T.TASK_STORAGE:
      case T.CGRP_STORAGE:
        if (!haveBtf()) return false;
        btf = storageBtf();
        btfKey = 1;
        btfValue = 2;
        maxEntries = 0;
        flags = BpfFlags.BPF_F_NO_PREALLOC;
        break;
      case T.ARENA:
        keySize = 0;
        valueSize = 0;
        flags = BpfFlags.BPF_F_MMAPABLE;
        break;
      case T.STRUCT_OPS:
        throw new NotSupportedError({ feature: "probing struct_ops maps (needs a kernel struct type)" });
    }
    try {
      mapCreate({
        type,
        keySize,
        valueSize,
        maxEntries,
        flags,
        innerMapFd: inner,
        btfFd: btf,
        btfKeyTypeId: btfKey || undefined,
        btfValueTypeId: btfValue || undefined,
      }).close();
      return true;
    } catch (e) {
      if (
        e instanceof SyscallError &&
        [Errno.EINVAL, Errno.E2BIG, Errno.ENOTSUPP, Errno.EOPNOTSUPP].includes(e.errno as 22)
      )
        return false;
      return inconclusive(e);
    } finally {
      close(inner);
      close(btf);
    }
  });
}

/** Throws {@link NotSupportedError} (with the first kernel that has it) unless `haveMapType(type)`. */
export function requireMapType(type: number): void {
  if (haveMapType(type)) return;
  const key = Object.entries(BpfMapType).find(([, v]) => v === type)?.[0] as
    | keyof typeof BpfMapType
    | undefined;
  throw new NotSupportedError({
    feature: `map type ${name(BpfMapType, type)}`,
    minKernel: key && MAP_TYPE_MIN_KERNEL[key],
  });
}

// ----------------------------------------------------------------------------------------- programs

const RET0 = new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

const EXPECTED_ATTACH: Partial<Record<number, number>> = {
  [BpfProgType.CGROUP_SOCK_ADDR]: BpfAttachType.CGROUP_INET4_CONNECT,
  [BpfProgType.CGROUP_SOCKOPT]: BpfAttachType.CGROUP_GETSOCKOPT,
  [BpfProgType.SK_LOOKUP]: BpfAttachType.SK_LOOKUP,
  [BpfProgType.NETFILTER]: BpfAttachType.NETFILTER,
};

/** Loads `insns` as `type`; returns the errno (0 on success) and, on failure, the verifier log. */
function tryLoad(
  type: number,
  insns: Uint8Array,
  expectedAttachType = EXPECTED_ATTACH[type],
): { errno: number; log: string } {
  try {
    // Without a log first: a log that overflows turns a successful load into ENOSPC.
    progLoad({ type, insns, license: "GPL", expectedAttachType }).close();
    return { errno: 0, log: "" };
  } catch (e) {
    if (!(e instanceof LoadError)) throw e;
  }
  const logBuf = new Uint8Array(64 * 1024);
  try {
    progLoad({ type, insns, license: "GPL", logLevel: 1, logBuf, expectedAttachType }).close();
    return { errno: 0, log: "" };
  } catch (e) {
    if (e instanceof LoadError) return { errno: e.errno, log: e.log };
    throw e;
  }
}

/**
 * Whether programs of `type` (a {@link BpfProgType} value) can be loaded. Types that need an attach
 * target (tracing, ext, lsm, struct_ops) count as supported when the verifier got far enough to ask for it.
 */
export function haveProgType(type: number): boolean {
  return cached(`prog:${type}`, () => {
    const { errno, log } = tryLoad(type, RET0);
    if (errno === 0) return true;
    if (errno === Errno.EPERM)
      throw new SyscallError({
        syscall: "bpf",
        command: bpfCmdName(BpfCmd.PROG_LOAD),
        errno,
        context: `probing program type ${name(BpfProgType, type)}`,
      });
    // The kernel rejects an unknown type before writing any log; a known one that wants more (an attach
    // target) gets as far as the verifier.
    if ((errno === Errno.EINVAL || errno === Errno.E2BIG) && log.trim() === "") return false;
    return true;
  });
}

/** Throws {@link NotSupportedError} unless `haveProgType(type)`. */
export function requireProgType(type: number): void {
  if (haveProgType(type)) return;
  const key = Object.entries(BpfProgType).find(([, v]) => v === type)?.[0] as
    | keyof typeof BpfProgType
    | undefined;
  throw new NotSupportedError({
    feature: `program type ${name(BpfProgType, type)}`,
    minKernel: key && PROG_TYPE_MIN_KERNEL[key],
  });
}

/**
 * First mainline kernel with each attach type (the later ones; for NotSupportedError messages and for the
 * program types whose expected attach type cannot be probed without a BTF target).
 */
export const ATTACH_TYPE_MIN_KERNEL: Partial<Record<keyof typeof BpfAttachType, string>> = {
  TRACE_RAW_TP: "5.5",
  TRACE_FENTRY: "5.5",
  TRACE_FEXIT: "5.5",
  MODIFY_RETURN: "5.7",
  LSM_MAC: "5.7",
  TRACE_ITER: "5.8",
  CGROUP_INET4_GETPEERNAME: "5.8",
  CGROUP_INET6_GETPEERNAME: "5.8",
  CGROUP_INET4_GETSOCKNAME: "5.8",
  CGROUP_INET6_GETSOCKNAME: "5.8",
  XDP_DEVMAP: "5.8",
  CGROUP_INET_SOCK_RELEASE: "5.9",
  XDP_CPUMAP: "5.9",
  SK_LOOKUP: "5.9",
  XDP: "5.9",
  SK_SKB_VERDICT: "5.13",
  SK_REUSEPORT_SELECT: "5.14",
  SK_REUSEPORT_SELECT_OR_MIGRATE: "5.14",
  PERF_EVENT: "5.15",
  TRACE_KPROBE_MULTI: "5.18",
  LSM_CGROUP: "6.0",
  STRUCT_OPS: "6.4",
  NETFILTER: "6.4",
  TCX_INGRESS: "6.6",
  TCX_EGRESS: "6.6",
  TRACE_UPROBE_MULTI: "6.6",
  CGROUP_UNIX_CONNECT: "6.7",
  CGROUP_UNIX_SENDMSG: "6.7",
  CGROUP_UNIX_RECVMSG: "6.7",
  CGROUP_UNIX_GETPEERNAME: "6.7",
  CGROUP_UNIX_GETSOCKNAME: "6.7",
  NETKIT_PRIMARY: "6.7",
  NETKIT_PEER: "6.7",
  TRACE_KPROBE_SESSION: "6.10",
  TRACE_UPROBE_SESSION: "6.13",
};

/** Program types whose load needs a BTF attach target, so an attach-type probe cannot load a stub. */
const NEEDS_BTF_TARGET: readonly number[] = [
  BpfProgType.TRACING,
  BpfProgType.LSM,
  BpfProgType.EXT,
  BpfProgType.STRUCT_OPS,
];

function attachTypeMinKernel(attachType: number): string | undefined {
  const key = Object.entries(BpfAttachType).find(([, v]) => v === attachType)?.[0] as
    | keyof typeof BpfAttachType
    | undefined;
  return key && ATTACH_TYPE_MIN_KERNEL[key];
}

/**
 * Whether programs of `progType` can be loaded with expected attach type `attachType`: loads a stub with
 * it (a kernel that does not know the pair refuses it with EINVAL before the verifier runs). Program types
 * that need a BTF attach target (tracing, lsm, ext, struct_ops) are judged by the kernel version the attach
 * type landed in ({@link ATTACH_TYPE_MIN_KERNEL}); an attach type not listed there counts as supported.
 */
export function haveProgAttachType(progType: number, attachType: number): boolean {
  return cached(`prog-attach:${progType}:${attachType}`, () => {
    if (!haveProgType(progType)) return false;
    if (NEEDS_BTF_TARGET.includes(progType)) {
      const min = attachTypeMinKernel(attachType);
      if (!min) return true;
      const [major, minor] = min.split(".").map(Number);
      return kernelAtLeast(major, minor);
    }
    const { errno, log } = tryLoad(progType, RET0, attachType);
    if (errno === Errno.EPERM)
      throw new SyscallError({
        syscall: "bpf",
        command: bpfCmdName(BpfCmd.PROG_LOAD),
        errno,
        context: `probing attach type ${name(BpfAttachType, attachType)}`,
      });
    return !((errno === Errno.EINVAL || errno === Errno.E2BIG) && log.trim() === "");
  });
}

/** Throws {@link NotSupportedError} unless `haveProgAttachType(progType, attachType)`. */
export function requireProgAttachType(progType: number, attachType: number): void {
  if (haveProgAttachType(progType, attachType)) return;
  throw new NotSupportedError({
    feature: `attach type ${name(BpfAttachType, attachType)} for ${name(BpfProgType, progType)} programs`,
    minKernel: attachTypeMinKernel(attachType),
  });
}

/**
 * Whether program type `progType` may call helper `helperId` (a {@link BpfFuncId} value): loads
 * `call helper; r0 = 0; exit` and reads the verifier's verdict.
 */
export function haveHelper(progType: number, helperId: number): boolean {
  return cached(`helper:${progType}:${helperId}`, () => {
    if (!haveProgType(progType)) return false;
    const insns = new Uint8Array(24);
    const v = new DataView(insns.buffer);
    v.setUint8(0, 0x85);
    v.setInt32(4, helperId, true);
    insns.set(RET0, 8);
    const { errno, log } = tryLoad(progType, insns);
    if (errno === 0) return true;
    if (errno === Errno.EPERM) return false;
    return !/invalid func|unknown func|program of this type cannot use helper/.test(log);
  });
}

/** Bounded loops (5.3): a backward jump the verifier can prove terminates. */
export function haveBoundedLoops(): boolean {
  return cached("bounded-loops", () => {
    // r0 = 0; r0 += 1; if r0 < 4 goto -2; exit
    const insns = new Uint8Array([
      0xb7, 0, 0, 0, 0, 0, 0, 0, 0x07, 0, 0, 0, 1, 0, 0, 0, 0xa5, 0, 0xfe, 0xff, 4, 0, 0, 0, 0x95, 0, 0, 0, 0,
      0, 0, 0,
    ]);
    return tryLoad(BpfProgType.SOCKET_FILTER, insns).errno === 0;
  });
}

/** Programs over 4096 instructions (5.2, privileged): loads 4097 of them. */
export function haveLargePrograms(): boolean {
  return cached("large-programs", () => {
    const n = 4097;
    const insns = new Uint8Array(n * 8);
    for (let i = 0; i < n - 1; i++) insns[i * 8] = 0xb7; // r0 = 0
    insns[(n - 1) * 8] = 0x95;
    return tryLoad(BpfProgType.SOCKET_FILTER, insns).errno === 0;
  });
}

/** BPF links at all (BPF_LINK_CREATE, 5.7): EBADF for a bad fd means the command exists. */
export function haveBpfLinks(): boolean {
  return cached("links", () => {
    try {
      linkCreate({
        progFd: 0x7fffffff,
        targetFd: 0x7fffffff,
        attachType: BpfAttachType.CGROUP_INET_INGRESS,
      }).close();
      return true;
    } catch (e) {
      if (e instanceof SyscallError && e.errno === Errno.EBADF) return true;
      if (e instanceof SyscallError && e.errno === Errno.EINVAL) return false;
      return inconclusive(e);
    }
  });
}

/**
 * Attach type and program type that exercise each link type. `einvalMinKernel`: the kernel reports a
 * missing target as EINVAL, like a kernel without the link type, so EINVAL falls back to the version.
 */
const LINK_PROBES: Partial<
  Record<
    number,
    { prog: number; attach: number; target: "bad-fd" | "bad-ifindex"; einvalMinKernel?: [number, number] }
  >
> = {
  [BpfLinkType.CGROUP]: {
    prog: BpfProgType.CGROUP_SKB,
    attach: BpfAttachType.CGROUP_INET_INGRESS,
    target: "bad-fd",
  },
  [BpfLinkType.NETNS]: {
    prog: BpfProgType.FLOW_DISSECTOR,
    attach: BpfAttachType.FLOW_DISSECTOR,
    target: "bad-fd",
  },
  [BpfLinkType.XDP]: {
    prog: BpfProgType.XDP,
    attach: BpfAttachType.XDP,
    target: "bad-ifindex",
    einvalMinKernel: [5, 9],
  },
  [BpfLinkType.PERF_EVENT]: {
    prog: BpfProgType.TRACEPOINT,
    attach: BpfAttachType.PERF_EVENT,
    target: "bad-fd",
  },
  [BpfLinkType.TCX]: {
    prog: BpfProgType.SCHED_CLS,
    attach: BpfAttachType.TCX_INGRESS,
    target: "bad-ifindex",
  },
  [BpfLinkType.NETKIT]: {
    prog: BpfProgType.SCHED_CLS,
    attach: BpfAttachType.NETKIT_PRIMARY,
    target: "bad-ifindex",
    einvalMinKernel: [6, 7],
  },
};

/**
 * Whether BPF_LINK_CREATE supports `linkType` (a {@link BpfLinkType} value): creates a link of a real
 * program to a target that does not exist, and tells "no such target" (supported) from "no such attach
 * type" (not). Probes exist for cgroup, netns, xdp, perf_event, tcx, netkit, kprobe_multi and uprobe_multi links; tracing, iter and
 * raw_tracepoint links need a real target and are reported by {@link haveBpfLinks}.
 */
export function haveLinkType(linkType: number): boolean {
  return cached(`link:${linkType}`, () => {
    if (
      linkType === BpfLinkType.RAW_TRACEPOINT ||
      linkType === BpfLinkType.TRACING ||
      linkType === BpfLinkType.ITER
    )
      return haveBpfLinks();
    if (linkType === BpfLinkType.UPROBE_MULTI) return haveUprobeMultiLinks();
    if (linkType === BpfLinkType.KPROBE_MULTI) return haveKprobeMultiLink();
    const p = LINK_PROBES[linkType];
    if (!p) throw new NotSupportedError({ feature: `a probe for link type ${name(BpfLinkType, linkType)}` });
    if (!haveBpfLinks() || !haveProgType(p.prog)) return false;
    const prog = progLoad({
      type: p.prog,
      insns: RET0,
      license: "GPL",
      expectedAttachType: p.prog === BpfProgType.SCHED_CLS ? undefined : p.attach,
    });
    try {
      const target = p.target === "bad-fd" ? { targetFd: 0x7fffffff } : { targetIfindex: 0x7fffffff };
      linkCreate({ progFd: prog, attachType: p.attach, ...target }).close();
      return true;
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
      // bad fd / no such device: the attach type is known and its link path was reached
      if (e.errno === Errno.EBADF || e.errno === Errno.ENODEV || e.errno === Errno.ENOTTY) return true;
      if (e.errno === Errno.EINVAL && p.einvalMinKernel) return kernelAtLeast(...p.einvalMinKernel);
      if (e.errno === Errno.EINVAL || e.errno === Errno.EOPNOTSUPP || e.errno === Errno.ENOTSUPP)
        return false;
      return inconclusive(e);
    } finally {
      prog.close();
    }
  });
}

/**
 * A stub kprobe program loaded for a `*_MULTI` attach type, or false when the kernel refuses it: EINVAL (no
 * kprobe programs at all, CONFIG_BPF_EVENTS off, or an unknown attach type) or E2BIG (no
 * expected_attach_type field).
 */
function multiProbeStub(attachType: number): Fd | false {
  try {
    return progLoad({
      type: BpfProgType.KPROBE,
      insns: RET0,
      license: "GPL",
      expectedAttachType: attachType,
    });
  } catch (e) {
    if (e instanceof SyscallError && (e.errno === Errno.EINVAL || e.errno === Errno.E2BIG)) return false;
    return inconclusive(e);
  }
}

/**
 * uprobe_multi links (6.6): LINK_CREATE on the path "/" fails with EBADF (not a regular file) where the link
 * type exists, EINVAL where it does not (as cilium/ebpf probes it).
 */
function haveUprobeMultiLinks(): boolean {
  if (!haveBpfLinks()) return false;
  const prog = multiProbeStub(BpfAttachType.TRACE_UPROBE_MULTI);
  if (!prog) return false;
  const path = cString("/");
  const offsets = new BigUint64Array(1);
  try {
    linkCreate({
      progFd: prog,
      attachType: BpfAttachType.TRACE_UPROBE_MULTI,
      extra: {
        "uprobe_multi.path": addressOf(path),
        "uprobe_multi.offsets": addressOf(offsets),
        "uprobe_multi.cnt": 1,
      },
    }).close();
    return true;
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    if (e.errno === Errno.EBADF) return true;
    if (e.errno === Errno.EINVAL || e.errno === Errno.EOPNOTSUPP) return false;
    return inconclusive(e);
  } finally {
    prog.close();
  }
}

let kprobeMultiWhy: string | undefined;

/**
 * kprobe_multi links (5.18, like cilium/ebpf's probe): attaches a stub to `vprintk`. Success, or ESRCH (the
 * link type exists, the function does not), means yes; EINVAL (no such attach type) or EOPNOTSUPP/ENOTSUPP
 * (a kernel built without CONFIG_FPROBE, as one without kprobes is) means no.
 */
export function haveKprobeMultiLink(): boolean {
  return cached(`link:${BpfLinkType.KPROBE_MULTI}`, () => {
    kprobeMultiWhy = undefined;
    if (!haveBpfLinks()) return false;
    const prog = multiProbeStub(BpfAttachType.TRACE_KPROBE_MULTI);
    if (!prog) return false;
    const sym = cString("vprintk");
    const syms = BigUint64Array.of(BigInt(addressOf(sym)));
    try {
      linkCreate({
        progFd: prog,
        attachType: BpfAttachType.TRACE_KPROBE_MULTI,
        extra: { "kprobe_multi.syms": addressOf(syms), "kprobe_multi.cnt": 1 },
      }).close();
      return true;
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
      if (e.errno === Errno.ESRCH) return true;
      if (e.errno === Errno.EOPNOTSUPP || e.errno === Errno.ENOTSUPP) {
        kprobeMultiWhy = "the kernel was built without CONFIG_FPROBE";
        return false;
      }
      if (e.errno === Errno.EINVAL) return false;
      return inconclusive(e);
    } finally {
      prog.close();
      void sym;
    }
  });
}

/**
 * Why {@link haveKprobeMultiLink} said no when the kernel is new enough (e.g. no CONFIG_FPROBE); undefined
 * when it has kprobe_multi links or is older than 5.18. @internal
 */
export function kprobeMultiLinkMissing(): string | undefined {
  return haveKprobeMultiLink() ? undefined : kprobeMultiWhy;
}
