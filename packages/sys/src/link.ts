/**
 * Attaching and running programs: PROG_ATTACH/DETACH/QUERY, PROG_TEST_RUN, RAW_TRACEPOINT_OPEN, LINK_CREATE/
 * UPDATE/DETACH, ITER_CREATE, ENABLE_STATS, PROG_BIND_MAP, TASK_FD_QUERY.
 *
 * Lifetimes: a link fd (LINK_CREATE, RAW_TRACEPOINT_OPEN) detaches when its last fd closes unless pinned;
 * PROG_ATTACH attachments persist until PROG_DETACH (or the target goes away).
 */
import {
  BpfAttachType,
  BpfCmd,
  EnableStatsAttr,
  IterCreateAttr,
  LinkCreateAttr,
  LinkDetachAttr,
  LinkUpdateAttr,
  ProgAttachAttr,
  ProgBindMapAttr,
  QueryAttr,
  RawTracepointAttr,
  TaskFdQueryAttr,
  TestRunAttr,
} from "./abi.generated.js";
import { cString, get } from "./attr.js";
import { type AttrValues, bpfCall, fillAttr } from "./bpf-call.js";
import { Errno } from "./errno.js";
import { InvalidArgumentError, NotSupportedError, SyscallError } from "./errors.js";
import { type Fd, Fd as FdClass, rawFd } from "./fd.js";
import { kernelAtLeast } from "./kernel.js";
import { addressOf } from "./libc.js";

const optFd = (fd: Fd | number | undefined) => (fd === undefined ? undefined : rawFd(fd));

/** Options of {@link progAttach} / {@link progDetach}. */
export interface ProgAttachOptions {
  /** The cgroup/sockmap/netns fd, or (tcx/netkit) an ifindex given as `targetIfindex`. */
  targetFd?: Fd | number;
  targetIfindex?: number;
  /** The program (detach: optional for some types). */
  progFd?: Fd | number;
  /** A {@link BpfAttachType} value. */
  attachType: number;
  /** BPF_F_ALLOW_OVERRIDE / BPF_F_ALLOW_MULTI / BPF_F_REPLACE / BPF_F_BEFORE... */
  flags?: number;
  replaceProgFd?: Fd | number;
  relativeFd?: Fd | number;
  relativeId?: number;
  expectedRevision?: number | bigint;
}

function attachValues(o: ProgAttachOptions): AttrValues {
  if (o.targetFd === undefined && o.targetIfindex === undefined)
    throw new InvalidArgumentError("progAttach/progDetach need targetFd or targetIfindex");
  return {
    target_fd: o.targetFd !== undefined ? rawFd(o.targetFd) : o.targetIfindex,
    attach_bpf_fd: optFd(o.progFd),
    attach_type: o.attachType,
    attach_flags: o.flags,
    replace_bpf_fd: optFd(o.replaceProgFd),
    relative_fd: o.relativeFd !== undefined ? rawFd(o.relativeFd) : o.relativeId,
    expected_revision: o.expectedRevision,
  };
}

/**
 * BPF_PROG_ATTACH. The attachment outlives the program fd: undo it with {@link progDetach}.
 *
 * @example
 * ```ts
 * progAttach({ targetFd: cgroupFd, progFd, attachType: BpfAttachType.CGROUP_INET_INGRESS });
 * ```
 */
export function progAttach(options: ProgAttachOptions): void {
  fillAttr(ProgAttachAttr, attachValues(options));
  bpfCall(BpfCmd.PROG_ATTACH, ProgAttachAttr);
}

/** BPF_PROG_DETACH. */
export function progDetach(options: ProgAttachOptions): void {
  fillAttr(ProgAttachAttr, attachValues(options));
  bpfCall(BpfCmd.PROG_DETACH, ProgAttachAttr);
}

/** Options of {@link progQuery}. */
export interface ProgQueryOptions {
  targetFd?: Fd | number;
  targetIfindex?: number;
  attachType: number;
  /** BPF_F_QUERY_EFFECTIVE. */
  queryFlags?: number;
  /** Room for how many program ids (default 64). */
  maxPrograms?: number;
}

/** Result of {@link progQuery}. */
export interface ProgQueryResult {
  attachFlags: number;
  /** Ids of the attached programs (at most maxPrograms). */
  progIds: number[];
  /** How many programs are attached (may exceed progIds.length). */
  count: number;
  /** The attach point's revision (tcx/netkit), 0 elsewhere. */
  revision: bigint;
}

/**
 * BPF_PROG_QUERY: the programs attached at a cgroup/netns/tcx point or to a sockmap.
 * @throws NotSupportedError for a sockmap before 5.18 (the kernel says EINVAL)
 *
 * @example
 * ```ts
 * const { progIds } = progQuery({ targetFd: cgroupFd, attachType: BpfAttachType.CGROUP_INET_INGRESS });
 * ```
 */
export function progQuery(options: ProgQueryOptions): ProgQueryResult {
  const max = options.maxPrograms ?? 64;
  const ids = new Uint32Array(Math.max(max, 1));
  if (options.targetFd === undefined && options.targetIfindex === undefined)
    throw new InvalidArgumentError("progQuery needs targetFd or targetIfindex");
  const s = fillAttr(QueryAttr, {
    target_fd: options.targetFd !== undefined ? rawFd(options.targetFd) : options.targetIfindex,
    attach_type: options.attachType,
    query_flags: options.queryFlags,
    prog_ids: max > 0 ? addressOf(ids) : undefined,
    prog_cnt: max,
  });
  try {
    bpfCall(BpfCmd.PROG_QUERY, QueryAttr);
  } catch (e) {
    throw sockmapQueryUnsupported(e, options.attachType) ?? e;
  }
  const f = QueryAttr.fields;
  const count = get(s.view, f.prog_cnt);
  return {
    attachFlags: get(s.view, f.attach_flags),
    progIds: Array.from(ids.subarray(0, Math.min(count, max))),
    count,
    revision: s.view.getBigUint64(f.revision.offset, true),
  };
}

/** Attach types of programs attached to a sockmap/sockhash, queryable since 5.18. */
const SOCKMAP_ATTACH_TYPES: readonly number[] = [
  BpfAttachType.SK_MSG_VERDICT,
  BpfAttachType.SK_SKB_STREAM_PARSER,
  BpfAttachType.SK_SKB_STREAM_VERDICT,
  BpfAttachType.SK_SKB_VERDICT,
];

/**
 * Before 5.18 BPF_PROG_QUERY knows no sockmap attach type and says EINVAL: that is a missing feature, not a
 * bad argument.
 */
function sockmapQueryUnsupported(e: unknown, attachType: number): NotSupportedError | undefined {
  if (!(e instanceof SyscallError && e.errno === Errno.EINVAL)) return undefined;
  if (!SOCKMAP_ATTACH_TYPES.includes(attachType) || kernelAtLeast(5, 18)) return undefined;
  return new NotSupportedError({
    feature: "BPF_PROG_QUERY of the programs attached to a sockmap",
    minKernel: "5.18",
    cause: e,
  });
}

/** Options of {@link progTestRun}. */
export interface ProgTestRunOptions {
  progFd: Fd | number;
  dataIn?: Uint8Array;
  /** Receives the packet after the run; its length bounds data_size_out. */
  dataOut?: Uint8Array;
  ctxIn?: Uint8Array;
  ctxOut?: Uint8Array;
  repeat?: number;
  /** BPF_F_TEST_RUN_ON_CPU, BPF_F_TEST_XDP_LIVE_FRAMES. */
  flags?: number;
  cpu?: number;
  batchSize?: number;
}

/** Result of {@link progTestRun}. */
export interface ProgTestRunResult {
  /** The program's return value. */
  retval: number;
  /** Average run time per repetition, ns. */
  duration: number;
  /** Bytes written to dataOut (may exceed its length: ENOSPC is thrown then). */
  dataSizeOut: number;
  ctxSizeOut: number;
}

/**
 * BPF_PROG_TEST_RUN: runs a program once (or `repeat` times) on the given input.
 *
 * @example
 * ```ts
 * const { retval } = progTestRun({ progFd: prog, dataIn: new Uint8Array(64) });
 * ```
 */
export function progTestRun(options: ProgTestRunOptions): ProgTestRunResult {
  const o = options;
  const s = fillAttr(TestRunAttr, {
    prog_fd: rawFd(o.progFd),
    data_size_in: o.dataIn?.byteLength,
    data_in: o.dataIn ? addressOf(o.dataIn) : undefined,
    data_size_out: o.dataOut?.byteLength,
    data_out: o.dataOut ? addressOf(o.dataOut) : undefined,
    ctx_size_in: o.ctxIn?.byteLength,
    ctx_in: o.ctxIn ? addressOf(o.ctxIn) : undefined,
    ctx_size_out: o.ctxOut?.byteLength,
    ctx_out: o.ctxOut ? addressOf(o.ctxOut) : undefined,
    repeat: o.repeat,
    flags: o.flags,
    cpu: o.cpu,
    batch_size: o.batchSize,
  });
  bpfCall(BpfCmd.PROG_TEST_RUN, TestRunAttr);
  const f = TestRunAttr.fields;
  return {
    retval: s.view.getUint32(f.retval.offset, true),
    duration: get(s.view, f.duration),
    dataSizeOut: get(s.view, f.data_size_out),
    ctxSizeOut: get(s.view, f.ctx_size_out),
  };
}

/**
 * BPF_RAW_TRACEPOINT_OPEN: attaches a raw_tp program to `name` (or a tp_btf/fentry-style program, with
 * name null). Returns the owning link fd: closing it detaches.
 */
export function rawTracepointOpen(name: string | null, progFd: Fd | number, cookie?: number | bigint): Fd {
  const n = name === null ? null : cString(name);
  fillAttr(RawTracepointAttr, {
    name: n ? addressOf(n) : undefined,
    prog_fd: rawFd(progFd),
    cookie,
  });
  return new FdClass(bpfCall(BpfCmd.RAW_TRACEPOINT_OPEN, RawTracepointAttr, name ?? undefined), "link");
}

/** Options of {@link linkCreate}. */
export interface LinkCreateOptions {
  /** The program (or, for struct_ops, the map via `mapFd`). */
  progFd?: Fd | number;
  mapFd?: Fd | number;
  /** Cgroup/netns/perf-event/BTF-object fd... */
  targetFd?: Fd | number;
  /** ...or an interface index (XDP, tcx, netkit). */
  targetIfindex?: number;
  /** A {@link BpfAttachType} value. */
  attachType: number;
  flags?: number;
  targetBtfId?: number;
  /** `union bpf_iter_link_info` for iterators. */
  iterInfo?: Uint8Array;
  /**
   * Other fields of the LINK_CREATE attr by generated name, e.g. `{ "perf_event.bpf_cookie": 1n }`,
   * `{ "tcx.relative_fd": fd, "tcx.expected_revision": 3 }`. See `LinkCreateAttr.fields`.
   */
  extra?: AttrValues;
}

/**
 * BPF_LINK_CREATE. Returns the owned link fd: the attachment lives while the fd (or a pin) does.
 *
 * @example
 * ```ts
 * using link = linkCreate({ progFd: prog, targetIfindex: 1, attachType: BpfAttachType.XDP });
 * ```
 */
export function linkCreate(options: LinkCreateOptions): Fd {
  const o = options;
  if (o.progFd === undefined && o.mapFd === undefined)
    throw new InvalidArgumentError("linkCreate needs progFd or mapFd");
  fillAttr(LinkCreateAttr, {
    prog_fd: rawFd((o.progFd ?? o.mapFd) as Fd | number),
    target_fd: o.targetFd !== undefined ? rawFd(o.targetFd) : o.targetIfindex,
    attach_type: o.attachType,
    flags: o.flags,
    target_btf_id: o.targetBtfId,
    iter_info: o.iterInfo ? addressOf(o.iterInfo) : undefined,
    iter_info_len: o.iterInfo?.byteLength,
    ...o.extra,
  });
  return new FdClass(bpfCall(BpfCmd.LINK_CREATE, LinkCreateAttr), "link");
}

/** BPF_LINK_UPDATE: swaps the link's program; with `oldProgFd` only if it is still that one. */
export function linkUpdate(
  linkFd: Fd | number,
  newProgFd: Fd | number,
  options: { flags?: number; oldProgFd?: Fd | number } = {},
): void {
  fillAttr(LinkUpdateAttr, {
    link_fd: rawFd(linkFd),
    new_prog_fd: rawFd(newProgFd),
    flags: options.flags,
    old_prog_fd: optFd(options.oldProgFd),
  });
  bpfCall(BpfCmd.LINK_UPDATE, LinkUpdateAttr);
}

/** BPF_LINK_DETACH: detaches while the fd stays open (it then reads as defunct). */
export function linkDetach(linkFd: Fd | number): void {
  fillAttr(LinkDetachAttr, { link_fd: rawFd(linkFd) });
  bpfCall(BpfCmd.LINK_DETACH, LinkDetachAttr);
}

/** BPF_ITER_CREATE: an fd to read() an iterator link's output from. */
export function iterCreate(linkFd: Fd | number, flags = 0): Fd {
  fillAttr(IterCreateAttr, { link_fd: rawFd(linkFd), flags });
  return new FdClass(bpfCall(BpfCmd.ITER_CREATE, IterCreateAttr), "iter");
}

/**
 * BPF_ENABLE_STATS: turns on run-time statistics (run_time_ns/run_cnt in prog info) while the returned fd
 * is open. `type` is a {@link BpfStatsType} value.
 */
export function enableStats(type: number): Fd {
  fillAttr(EnableStatsAttr, { type });
  return new FdClass(bpfCall(BpfCmd.ENABLE_STATS, EnableStatsAttr), "stats");
}

/** BPF_PROG_BIND_MAP: keeps `mapFd` alive as long as the program (e.g. .rodata used only by user space). */
export function progBindMap(progFd: Fd | number, mapFd: Fd | number, flags = 0): void {
  fillAttr(ProgBindMapAttr, { prog_fd: rawFd(progFd), map_fd: rawFd(mapFd), flags });
  bpfCall(BpfCmd.PROG_BIND_MAP, ProgBindMapAttr);
}

/** Result of {@link taskFdQuery}. */
export interface TaskFdQueryResult {
  progId: number;
  /** A {@link BpfTaskFdType} value. */
  fdType: number;
  probeOffset: bigint;
  probeAddr: bigint;
  /** Tracepoint name, kprobe function or uprobe path. */
  name: string;
}

/** BPF_TASK_FD_QUERY: what BPF program a perf-event/raw-tp fd of task `pid` runs. */
export function taskFdQuery(pid: number, fd: number, flags = 0): TaskFdQueryResult {
  const buf = new Uint8Array(256);
  const s = fillAttr(TaskFdQueryAttr, {
    pid,
    fd,
    flags,
    buf: addressOf(buf),
    buf_len: buf.byteLength,
  });
  bpfCall(BpfCmd.TASK_FD_QUERY, TaskFdQueryAttr);
  const f = TaskFdQueryAttr.fields;
  const len = Math.min(get(s.view, f.buf_len), buf.byteLength);
  const end = buf.subarray(0, len).indexOf(0);
  return {
    progId: get(s.view, f.prog_id),
    fdType: get(s.view, f.fd_type),
    probeOffset: s.view.getBigUint64(f.probe_offset.offset, true),
    probeAddr: s.view.getBigUint64(f.probe_addr.offset, true),
    name: new TextDecoder().decode(buf.subarray(0, end < 0 ? len : end)),
  };
}
