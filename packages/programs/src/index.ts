/**
 * `@ebpf/programs`: loads every BPF program type with readable verifier errors, attaches them, manages
 * links and test runs. Usually reached through `ebpf`.
 *
 * @packageDocumentation
 */
export { EbpfError, ParseError } from "@ebpf/errors";
export { NotSupportedError } from "@ebpf/sys";
export {
  type CgroupAttachMode,
  type CgroupAttachOptions,
  CgroupDevice,
  type CgroupHook,
  CgroupLsm,
  CgroupProgram,
  CgroupSkb,
  CgroupSock,
  CgroupSockAddr,
  CgroupSockopt,
  CgroupSysctl,
  type CgroupTarget,
  cgroupAttachType,
  openCgroup,
  SockOps,
} from "./attach/cgroup.js";
export { type ElfFunctionSymbol, readFunctionSymbols, symbolOffset } from "./attach/elf-symbols.js";
export { Iter, type IterAttachOptions, IterLink } from "./attach/iter.js";
export { globToRegExp, kernelFunctionsMatching } from "./attach/kprobe-multi.js";
export {
  FlowDissector,
  LircMode2,
  Netfilter,
  type NetfilterAttachOptions,
  type NetnsTarget,
  SkLookup,
  SkMsg,
  SkReuseport,
  SkSkb,
  type SkSkbKind,
  SocketFilter,
  type SocketTarget,
  Syscall,
} from "./attach/misc.js";
export { ifindexOf, type NetworkInterface } from "./attach/netdev.js";
export { PerfEvent, type PerfEventAttachOptions } from "./attach/perf-event.js";
export { type PerfAttachOptions, PerfEventIoctlLink } from "./attach/perf-link.js";
export {
  haveKprobes,
  KProbe,
  type KProbeAttachOptions,
  type KProbeMultiAttachOptions,
  KRetProbe,
  UProbe,
  type UProbeAttachOptions,
  URetProbe,
} from "./attach/probes.js";
export {
  type RegisterStructOpsOptions,
  registerStructOps,
  StructOps,
  type StructOpsMember,
} from "./attach/struct-ops.js";
export { structOpsTarget } from "./attach/struct-ops-target.js";
export { SchedClassifier, type TcAttachOptions, type TcxAnchor } from "./attach/tc.js";
export { tracepointId } from "./attach/tracefs.js";
export {
  BtfTracePoint,
  Extension,
  FEntry,
  FExit,
  FModRet,
  Lsm,
  RawTracePoint,
  TracePoint,
  type TracePointAttachOptions,
  Tracing,
} from "./attach/tracing.js";
export { Xdp, type XdpAttachOptions, type XdpMode } from "./attach/xdp.js";
export { needsAttachTarget, resolveAttachTarget, targetBtfName } from "./attach-target.js";
export { AttachError, VerifierError, type VerifierErrorDetails, type VerifierSourceLine } from "./errors.js";
export { enableStats, listLinks, listMaps, listPrograms, programInfoById } from "./inventory.js";
export { CallbackLink, FdLink, Link, linkTypeName } from "./link.js";
export {
  loadProgramFd,
  progTypeName,
  type ResolvedAttachTarget,
  type VerifierLogOptions,
  verifierError,
} from "./load.js";
export { fixupObjectBtf, loadObjectBtf, withStringsOf } from "./object-btf.js";
export {
  Program,
  type ProgramClass,
  type ProgramLoadOptions,
  type ProgramMeta,
  type TestRunOptions,
  type TestRunResult,
} from "./program.js";
export { loadProgram, programClassFor } from "./registry.js";
export type { ProgramBtf, ProgramLoadSpec } from "./spec.js";
export { verifierHint } from "./verifier-hints.js";
export { parseVerifierLog, type VerifierLogSummary } from "./verifier-log.js";
