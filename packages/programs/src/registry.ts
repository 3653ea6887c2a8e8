/** The typed class of each program type, for loading a spec without naming its class. */
import { BpfAttachType, BpfProgType } from "@ebpf/sys";
import {
  CgroupDevice,
  CgroupLsm,
  CgroupSkb,
  CgroupSock,
  CgroupSockAddr,
  CgroupSockopt,
  CgroupSysctl,
  SockOps,
} from "./attach/cgroup.js";
import { Iter } from "./attach/iter.js";
import {
  FlowDissector,
  LircMode2,
  Netfilter,
  SkLookup,
  SkMsg,
  SkReuseport,
  SkSkb,
  SocketFilter,
  Syscall,
} from "./attach/misc.js";
import { PerfEvent } from "./attach/perf-event.js";
import { KProbe } from "./attach/probes.js";
import { StructOps } from "./attach/struct-ops.js";
import { SchedClassifier } from "./attach/tc.js";
import { Extension as ExtensionProgram, Lsm, RawTracePoint, TracePoint, Tracing } from "./attach/tracing.js";
import { Xdp } from "./attach/xdp.js";
import { Program, type ProgramClass, type ProgramLoadOptions } from "./program.js";
import type { ProgramLoadSpec } from "./spec.js";

const BY_TYPE = new Map<number, ProgramClass<Program>>([
  [BpfProgType.SOCKET_FILTER, SocketFilter],
  [BpfProgType.KPROBE, KProbe],
  [BpfProgType.SCHED_CLS, SchedClassifier],
  [BpfProgType.SCHED_ACT, SchedClassifier],
  [BpfProgType.TRACEPOINT, TracePoint],
  [BpfProgType.XDP, Xdp],
  [BpfProgType.PERF_EVENT, PerfEvent],
  [BpfProgType.CGROUP_SKB, CgroupSkb],
  [BpfProgType.CGROUP_SOCK, CgroupSock],
  [BpfProgType.SOCK_OPS, SockOps],
  [BpfProgType.SK_SKB, SkSkb],
  [BpfProgType.CGROUP_DEVICE, CgroupDevice],
  [BpfProgType.SK_MSG, SkMsg],
  [BpfProgType.RAW_TRACEPOINT, RawTracePoint],
  [BpfProgType.RAW_TRACEPOINT_WRITABLE, RawTracePoint],
  [BpfProgType.CGROUP_SOCK_ADDR, CgroupSockAddr],
  [BpfProgType.LIRC_MODE2, LircMode2],
  [BpfProgType.FLOW_DISSECTOR, FlowDissector],
  [BpfProgType.CGROUP_SYSCTL, CgroupSysctl],
  [BpfProgType.CGROUP_SOCKOPT, CgroupSockopt],
  [BpfProgType.TRACING, Tracing],
  [BpfProgType.EXT, ExtensionProgram],
  [BpfProgType.LSM, Lsm],
  [BpfProgType.SK_LOOKUP, SkLookup],
  [BpfProgType.SK_REUSEPORT, SkReuseport],
  [BpfProgType.SYSCALL, Syscall],
  [BpfProgType.NETFILTER, Netfilter],
  [BpfProgType.STRUCT_OPS, StructOps],
]);

/** The class {@link loadProgram} uses for a spec (Iter for iterators, CgroupLsm for lsm_cgroup...). */
export function programClassFor(
  spec: Pick<ProgramLoadSpec, "type" | "expectedAttachType">,
): ProgramClass<Program> {
  if (spec.type === BpfProgType.TRACING && spec.expectedAttachType === BpfAttachType.TRACE_ITER) return Iter;
  if (spec.type === BpfProgType.LSM && spec.expectedAttachType === BpfAttachType.LSM_CGROUP) return CgroupLsm;
  return BY_TYPE.get(spec.type) ?? Program;
}

/**
 * Loads a program as the typed class of its type (narrow it with `instanceof Xdp`...). Types without a
 * class of their own load as a plain {@link Program}.
 *
 * @example
 * ```ts
 * const prog = loadProgram(spec);
 * if (prog instanceof Xdp) prog.attach("eth0");
 * ```
 */
export function loadProgram(spec: ProgramLoadSpec, options?: ProgramLoadOptions): Program {
  const cls = programClassFor(spec) as ProgramClass<Program> & typeof Program;
  return (cls.load as typeof Program.load).call(cls, spec, options);
}
