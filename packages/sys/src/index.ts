/**
 * @ebpf/sys — the kernel boundary. Everything that touches the kernel goes through here: `bpf()` commands,
 * perf events, mmap, epoll, netlink, through koffi. Owned fds ({@link Fd}), typed errors
 * ({@link SyscallError}, {@link NotSupportedError}), feature probes, a process-wide readiness
 * {@link Poller}, and the {@link Syscalls} interface with a {@link FakeSyscalls} for unit tests.
 *
 * The kernel ABI (attr layouts, enums, flags) is generated from kernel BTF into `abi.generated.ts` by
 * `tools/gen-abi.mjs`, and re-exported here.
 *
 * @packageDocumentation
 */
export { EbpfError, ParseError } from "@ebpf/errors";
export * from "./abi.generated.js";
export { type AttrValues, bpf, bpfCmdName } from "./bpf-call.js";
export { btfBytes } from "./btf-bytes.js";
export { Errno, errnoName, errnoValue } from "./errno.js";
export {
  ClosedFdError,
  effectiveCapabilities,
  hintFor,
  InvalidArgumentError,
  type NotSupportedDetails,
  NotSupportedError,
  SyscallError,
  type SyscallErrorDetails,
} from "./errors.js";
export {
  type FakeCall,
  type FakeMap,
  type FakeObject,
  FakeSyscalls,
  type FakeSyscallsOptions,
} from "./fake.js";
export { Fd, type FdCloser, liveFdCount, rawFd } from "./fd.js";
export {
  type KernelVersion,
  kernelAtLeast,
  kernelVersion,
  parseKernelVersion,
  type Utsname,
  uname,
} from "./kernel.js";
export { type FaultInjector, setFaultInjector } from "./libc.js";
export * from "./link.js";
export * from "./map.js";
export { type MemlockLimit, memlockLimit, raiseMemlockLimit } from "./memlock.js";
export { Mapping, type MmapOptions, mmap, pageSize } from "./mmap.js";
export {
  decodeAttrs,
  encodeAttrs,
  NetlinkSocket,
  type NlAttrSpec,
  type NlAttrValue,
  type NlMessage,
  type TcDirection,
  type TcFilterInfo,
  type TcFilterOptions,
  tcClsactAdd,
  tcClsactDelete,
  tcFilterAttach,
  tcFilterDetach,
  tcFilterList,
  tcHandle,
  type XdpAttachOptions,
  type XdpQuery,
  xdpAttach,
  xdpDetach,
  xdpQuery,
} from "./netlink.js";
export * from "./obj.js";
export * from "./perf.js";
export {
  EpollEvents,
  type EpollReady,
  epollCreate,
  epollCtl,
  epollWait,
  eventfd,
  eventfdRead,
  eventfdWrite,
} from "./poll.js";
export { Poller, type PollerOptions, type ReadyCallback, type Registration } from "./poller.js";
export {
  type KprobeMultiOptions,
  kprobeMultiLinkCreate,
  kprobeMultiNotSupported,
  type ProbeEventOptions,
  type ProbePmu,
  perfEventOpenProbe,
  probePmu,
  type UprobeMultiOptions,
  uprobeMultiLinkCreate,
} from "./probe-link.js";
export {
  ATTACH_TYPE_MIN_KERNEL,
  haveBoundedLoops,
  haveBpfLinks,
  haveBtf,
  haveBtfKind,
  haveHelper,
  haveKprobeMultiLink,
  haveLargePrograms,
  haveLinkType,
  haveMapType,
  haveProgAttachType,
  haveProgType,
  MAP_TYPE_MIN_KERNEL,
  PROG_TYPE_MIN_KERNEL,
  requireMapType,
  requireProgAttachType,
  requireProgType,
  resetProbeCache,
} from "./probes.js";
export * from "./prog.js";
export { SocketOptions, setSockOptInt } from "./socket.js";
export { type ElemOps, kernelSyscalls, type MappedRegion, type Syscalls } from "./syscalls.js";
