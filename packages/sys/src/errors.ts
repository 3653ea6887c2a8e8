import { readFileSync } from "node:fs";
import { EbpfError, type EbpfErrorOptions } from "@ebpf/errors";
import { Errno, errnoName } from "./errno.js";

/** Details of a failed system call. */
export interface SyscallErrorDetails extends EbpfErrorOptions {
  /** The system call, e.g. `"bpf"`, `"perf_event_open"`, `"ioctl"`, `"mmap"`. */
  syscall: string;
  /** For `bpf()`, the command name, e.g. `"BPF_MAP_CREATE"`; for `ioctl()`, the request name. */
  command?: string;
  /** The errno value the call left. */
  errno: number;
  /** A sentence of context (what was being done), prepended to the message. */
  context?: string;
  /** A hint to override the built-in one. */
  hint?: string;
}

/**
 * A system call failed. Carries the syscall, the bpf command, the errno name and number, and where one is
 * known an actionable hint (missing CAP_BPF, memlock limit on old kernels, attr too large for the kernel...).
 * `code` is always `"ERR_EBPF_SYSCALL"`; match `errnoName` for the cause.
 *
 * @example
 * ```ts
 * try { mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 0 }); }
 * catch (e) { if (e instanceof SyscallError && e.errnoName === "EINVAL") ... }
 * ```
 */
export class SyscallError extends EbpfError {
  /** The system call, e.g. `"bpf"`. */
  readonly syscall: string;
  /** The bpf command (`"BPF_PROG_LOAD"`) or ioctl request, when there is one. */
  readonly command: string | undefined;
  /** The errno value. */
  readonly errno: number;
  /** The errno name, e.g. `"EPERM"`. */
  readonly errnoName: string;
  /** What to try, when a common cause is known. */
  readonly hint: string | undefined;

  constructor(details: SyscallErrorDetails) {
    const name = errnoName(details.errno);
    const hint = details.hint ?? hintFor(details.syscall, details.command, details.errno);
    const what = details.command ? `${details.syscall}(${details.command})` : details.syscall;
    const msg = `${details.context ? `${details.context}: ` : ""}${what} failed: ${name} (errno ${details.errno})${hint ? `. Hint: ${hint}` : ""}`;
    super("ERR_EBPF_SYSCALL", msg, details);
    this.syscall = details.syscall;
    this.command = details.command;
    this.errno = details.errno;
    this.errnoName = name;
    this.hint = hint;
  }
}

/** Details of {@link NotSupportedError}. */
export interface NotSupportedDetails extends EbpfErrorOptions {
  /** What is missing, e.g. `"map type ringbuf"`, `"BPF_LINK_CREATE for XDP"`. */
  feature: string;
  /** The first mainline kernel that has it, e.g. `"5.8"`, when known. */
  minKernel?: string;
}

/**
 * The running kernel lacks a feature (found by a probe, or by an errno that means exactly that).
 *
 * @example
 * ```ts
 * throw new NotSupportedError({ feature: "map type ringbuf", minKernel: "5.8" });
 * ```
 */
export class NotSupportedError extends EbpfError {
  /** What is missing. */
  readonly feature: string;
  /** The first kernel that has it, when known. */
  readonly minKernel: string | undefined;

  constructor(details: NotSupportedDetails) {
    super(
      "ERR_EBPF_NOT_SUPPORTED",
      `${details.feature} is not supported by this kernel${details.minKernel ? ` (needs Linux ${details.minKernel} or later)` : ""}`,
      details,
    );
    this.feature = details.feature;
    this.minKernel = details.minKernel;
  }
}

/**
 * An fd was used after `close()` (or after ownership moved away with `release()`).
 *
 * @example
 * ```ts
 * fd.close(); fd.raw; // throws ClosedFdError (code ERR_EBPF_FD_CLOSED)
 * ```
 */
export class ClosedFdError extends EbpfError {
  constructor(what: string) {
    super("ERR_EBPF_FD_CLOSED", `${what} is closed`);
  }
}

/**
 * An argument is wrong before anything reaches the kernel: a key of the wrong size, an unknown command, an
 * attr that does not fit. Code `ERR_EBPF_INVALID_ARG`.
 */
export class InvalidArgumentError extends EbpfError {
  constructor(message: string, options?: EbpfErrorOptions) {
    super("ERR_EBPF_INVALID_ARG", message, options);
  }
}

let capCache: bigint | undefined;
/** Effective capabilities of this process, from /proc/self/status (0n when unreadable). */
export function effectiveCapabilities(): bigint {
  if (capCache !== undefined) return capCache;
  try {
    const line = readFileSync("/proc/self/status", "utf8")
      .split("\n")
      .find((l) => l.startsWith("CapEff:"));
    capCache = line ? BigInt(`0x${line.slice(7).trim()}`) : 0n;
  } catch {
    capCache = 0n;
  }
  return capCache;
}

const CAP_SYS_ADMIN = 21n;
const CAP_BPF = 39n;

let kernelOld: boolean | undefined;
function kernelBefore511(): boolean {
  if (kernelOld !== undefined) return kernelOld;
  const m = /^(\d+)\.(\d+)/.exec(readRelease());
  kernelOld = m ? Number(m[1]) * 1000 + Number(m[2]) < 5011 : false;
  return kernelOld;
}
function readRelease(): string {
  try {
    return readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  } catch {
    return "";
  }
}

/** The hint for a common errno of a syscall/command, or undefined. Exported for tests and for callers
 * building their own SyscallError. */
export function hintFor(syscall: string, command: string | undefined, errno: number): string | undefined {
  if (errno === Errno.EPERM) {
    const caps = effectiveCapabilities();
    const hasBpf = (caps & (1n << CAP_BPF)) !== 0n || (caps & (1n << CAP_SYS_ADMIN)) !== 0n;
    if (!hasBpf)
      return "this process lacks CAP_BPF (or CAP_SYS_ADMIN): run as root or grant CAP_BPF (+ CAP_PERFMON for tracing, CAP_NET_ADMIN for networking programs)";
    if (syscall === "bpf" && kernelBefore511())
      return "kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK, and this process could not raise it (needs CAP_SYS_RESOURCE): run under `ulimit -l unlimited`, or the load is refused for another reason (lockdown, LSM)";
    if (syscall === "perf_event_open")
      return "needs CAP_PERFMON (or CAP_SYS_ADMIN), or a lower /proc/sys/kernel/perf_event_paranoid";
    if (command === "BPF_PROG_LOAD")
      return "privileged but refused: kernel lockdown or an LSM may forbid this program type (fentry/fexit/lsm under lockdown), or the program needs CAP_PERFMON/CAP_NET_ADMIN";
    return undefined;
  }
  if (errno === Errno.E2BIG) {
    if (command === "BPF_MAP_UPDATE_ELEM" || command === "BPF_MAP_UPDATE_BATCH")
      return "the map is full (max_entries reached)";
    if (syscall === "bpf")
      return "the attr has non-zero bytes past what this kernel knows: a field or flag newer than the running kernel was set";
    if (syscall === "perf_event_open") return "perf_event_attr.size is larger than this kernel supports";
  }
  if (errno === Errno.EBADF) return "the fd is not open (closed, or never a valid fd)";
  if (errno === Errno.EINVAL && syscall === "bpf")
    return "the kernel refused the attr: an unknown command, map/program type, flag, or a field it does not take (non-zero attr tail)";
  if (errno === Errno.ENOSPC && command === "BPF_PROG_LOAD")
    return "the verifier log did not fit in the log buffer: retry with a larger one";
  if (errno === Errno.ENOMEM && syscall === "bpf" && kernelBefore511())
    return "kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK: raise it";
  if (errno === Errno.ENOSYS) return `the kernel does not have the ${syscall} system call`;
  if (errno === Errno.ENOTSUPP || errno === Errno.EOPNOTSUPP)
    return "this kernel does not support the operation for this object type (probe the feature first)";
  return undefined;
}
