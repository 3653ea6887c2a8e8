/**
 * BPF_PROG_LOAD with readable failures: the first attempt runs without a log (the fast path); when it
 * fails, the load is repeated with a log buffer that grows until the log fits, and the log becomes a
 * {@link VerifierError}.
 */
import {
  decodeInstructions,
  encodeInstructions,
  formatInstruction,
  type Instruction,
  slots,
} from "@ebpf/relocate";
import {
  BpfProgType,
  Errno,
  errnoName,
  type Fd,
  haveProgAttachType,
  haveProgType,
  kernelAtLeast,
  kernelSyscalls,
  kernelVersion,
  LoadError,
  type ProgLoadOptions,
  requireProgAttachType,
  requireProgType,
  type Syscalls,
} from "@ebpf/sys";
import { VerifierError, type VerifierSourceLine } from "./errors.js";
import type { ProgramLoadSpec } from "./spec.js";
import { verifierHint } from "./verifier-hints.js";
import { parseVerifierLog } from "./verifier-log.js";

const FUNC_INFO_REC_SIZE = 8;
const LINE_INFO_REC_SIZE = 16;
const FIRST_LOG_SIZE = 64 * 1024;

/** The name of a `BpfProgType` value, lower case (`"xdp"`, `"sched_cls"`). */
export function progTypeName(type: number): string {
  const e = Object.entries(BpfProgType).find(([, v]) => v === type);
  return e ? e[0].toLowerCase() : `type ${type}`;
}

function encodeFuncInfo(recs: readonly { insnOff: number; typeId: number }[]): Uint8Array {
  const out = new Uint8Array(recs.length * FUNC_INFO_REC_SIZE);
  const v = new DataView(out.buffer);
  recs.forEach((r, i) => {
    v.setUint32(i * 8, r.insnOff, true);
    v.setUint32(i * 8 + 4, r.typeId, true);
  });
  return out;
}

function encodeLineInfo(
  recs: readonly { insnOff: number; fileNameOff: number; lineOff: number; lineCol: number }[],
): Uint8Array {
  const out = new Uint8Array(recs.length * LINE_INFO_REC_SIZE);
  const v = new DataView(out.buffer);
  recs.forEach((r, i) => {
    const o = i * LINE_INFO_REC_SIZE;
    v.setUint32(o, r.insnOff, true);
    v.setUint32(o + 4, r.fileNameOff, true);
    v.setUint32(o + 8, r.lineOff, true);
    v.setUint32(o + 12, r.lineCol, true);
  });
  return out;
}

/** How the verifier log is taken when a load fails. */
export interface VerifierLogOptions {
  /** 1 (default): the path to the error; 2: every instruction and state (much longer). */
  level?: 1 | 2;
  /** First log buffer size in bytes (default 64 KiB); it grows until the log fits. */
  initialSize?: number;
}

/** The attach target of a tracing/ext/lsm/iter program, as BPF_PROG_LOAD wants it. */
export interface ResolvedAttachTarget {
  attachBtfId?: number;
  /** struct_ops: the member index, which the kernel takes as the expected attach type. */
  expectedAttachType?: number;
  attachBtfObjFd?: Fd;
  attachProgFd?: Fd;
}

/**
 * Loads a program and returns its fd. Throws {@link VerifierError} when the verifier rejects it, or the
 * kernel's `LoadError` (a SyscallError naming the program) when it fails without a log (EPERM under
 * lockdown, an unknown program type...).
 */
export function loadProgramFd(
  spec: ProgramLoadSpec,
  target: ResolvedAttachTarget = {},
  sys: Syscalls = kernelSyscalls,
  logOptions: VerifierLogOptions = {},
): Fd {
  const decoded =
    spec.instructions instanceof Uint8Array ? undefined : (spec.instructions as readonly Instruction[]);
  const insns = decoded ? encodeInstructions(decoded) : (spec.instructions as Uint8Array);
  const funcInfo = spec.btf?.funcInfo?.length ? encodeFuncInfo(spec.btf.funcInfo) : undefined;
  const lineInfo = spec.btf?.lineInfo?.length ? encodeLineInfo(spec.btf.lineInfo) : undefined;
  const options: ProgLoadOptions = {
    type: spec.type,
    insns,
    license: spec.license,
    name: sanitizeName(spec.name),
    // Kernels before 5.0 refuse kprobe programs whose kern_version is not the running kernel's.
    kernVersion: spec.kernVersion ?? (spec.type === BpfProgType.KPROBE ? kernelVersion().code : undefined),
    flags: spec.flags,
    expectedAttachType: target.expectedAttachType ?? spec.expectedAttachType,
    ifindex: spec.ifindex,
    btfFd: spec.btf?.fd,
    funcInfo,
    funcInfoCnt: funcInfo ? spec.btf?.funcInfo?.length : undefined,
    funcInfoRecSize: funcInfo ? FUNC_INFO_REC_SIZE : undefined,
    lineInfo,
    lineInfoCnt: lineInfo ? spec.btf?.lineInfo?.length : undefined,
    lineInfoRecSize: lineInfo ? LINE_INFO_REC_SIZE : undefined,
    attachBtfId: target.attachBtfId ?? spec.attachBtfId,
    attachBtfObjFd: target.attachBtfObjFd ?? spec.attachBtfObjFd,
    attachProgFd: target.attachProgFd ?? spec.attachProgFd,
    fdArray: spec.fdArray ? Int32Array.from(spec.fdArray) : undefined,
  };
  let first: LoadError;
  try {
    return sys.progLoad(options);
  } catch (e) {
    if (!(e instanceof LoadError)) throw e;
    first = e;
  }
  // Retry with a log; grow the buffer while the kernel says it did not fit (ENOSPC).
  const maxLog = kernelAtLeast(5, 2) ? 1 << 26 : (1 << 24) - 1;
  let size = Math.min(maxLog, Math.max(logOptions.initialSize ?? FIRST_LOG_SIZE, 128));
  let failure: LoadError = first;
  for (;;) {
    const logBuf = new Uint8Array(size);
    try {
      return sys.progLoad({ ...options, logLevel: logOptions.level ?? 1, logBuf });
    } catch (e) {
      if (!(e instanceof LoadError)) throw e;
      failure = e;
    }
    if (failure.errno !== Errno.ENOSPC || size >= maxLog) break;
    // log_true_size (6.4+, counting the NUL) is exactly what is needed; older kernels make us guess.
    size = Math.min(maxLog, failure.logTrueSize > size ? failure.logTrueSize : size * 4);
  }
  const truncated = failure.errno === Errno.ENOSPC;
  const log = failure.log;
  const errno = truncated ? first.errno : failure.errno;
  // An expected attach type the kernel does not know fails with EINVAL, or with a verifier complaint for
  // the BTF-targeted types: say which feature is missing. (struct_ops passes a member index there.)
  if (
    sys === kernelSyscalls &&
    spec.type !== BpfProgType.STRUCT_OPS &&
    target.expectedAttachType === undefined &&
    errno !== Errno.EPERM
  )
    unsupportedAttachType(spec.type, spec.expectedAttachType);
  if (log.trim() === "") {
    // A type the kernel does not know fails with EINVAL before the verifier writes anything.
    if (errno === Errno.EINVAL && sys === kernelSyscalls) unsupportedType(spec.type);
    throw new LoadError({
      syscall: "bpf",
      command: "BPF_PROG_LOAD",
      errno,
      log,
      logTrueSize: failure.logTrueSize,
      context: `program "${spec.name}" (${progTypeName(spec.type)}${spec.attachTo ? ` ${spec.attachTo}` : ""})`,
    });
  }
  throw verifierError(spec.name, errno, log, truncated, decoded ?? safeDecode(insns));
}

/** Throws NotSupportedError (with the first kernel that has it) when the running kernel lacks the type. */
function unsupportedType(type: number): void {
  let known: boolean;
  try {
    known = haveProgType(type);
  } catch {
    return; // the probe itself was refused: report the original failure
  }
  if (!known) requireProgType(type);
}

/** Throws NotSupportedError when the kernel lacks `attachType` for programs of `type`. */
function unsupportedAttachType(type: number, attachType: number | undefined): void {
  if (attachType === undefined) return;
  let known: boolean;
  try {
    // A missing program type is reported as such below.
    known = !haveProgType(type) || haveProgAttachType(type, attachType);
  } catch {
    return; // the probe itself was refused: report the original failure
  }
  if (!known) requireProgAttachType(type, attachType);
}

function safeDecode(bytes: Uint8Array): Instruction[] | undefined {
  try {
    return decodeInstructions(bytes);
  } catch {
    return undefined;
  }
}

/** Kernel program names: up to 15 characters of [A-Za-z0-9_.]. */
function sanitizeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, "_").slice(0, 15);
}

/** Builds the {@link VerifierError} for a failed load's log. */
export function verifierError(
  program: string,
  errno: number,
  log: string,
  truncated: boolean,
  insns: readonly Instruction[] | undefined,
): VerifierError {
  const summary = parseVerifierLog(log);
  let source: VerifierSourceLine | undefined;
  let context = "";
  if (insns && summary.insnIndex !== undefined) {
    const at = indexOfSlot(insns, summary.insnIndex);
    if (at >= 0) {
      for (let k = at; k >= 0; k--) {
        const l = insns[k].line;
        if (l) {
          source = { file: l.fileName, line: l.lineNumber, text: l.line.trim() };
          break;
        }
      }
      context = disassemblyAround(insns, at);
    }
  }
  if (!source && summary.source) source = summary.source;
  return new VerifierError({
    program,
    reason: summary.reason,
    errno,
    errnoName: errnoName(errno),
    insnIndex: summary.insnIndex,
    source,
    context,
    log,
    truncated,
    hint: verifierHint(summary.reason),
  });
}

function indexOfSlot(insns: readonly Instruction[], slot: number): number {
  let s = 0;
  for (let k = 0; k < insns.length; k++) {
    if (s === slot) return k;
    if (s > slot) return -1;
    s += slots(insns[k]);
  }
  return -1;
}

const CONTEXT = 3;

function disassemblyAround(insns: readonly Instruction[], at: number): string {
  const out: string[] = [];
  let slot = 0;
  for (let k = 0; k < insns.length; k++) {
    const i = insns[k];
    if (k >= at - CONTEXT && k <= at + CONTEXT) {
      // Source lines where they start inside the window, like bpftool's `; ...` annotations.
      if (i.line) out.push(`         ; ${i.line.line.trim()}`);
      const mark = k === at ? ">" : " ";
      out.push(`  ${mark}${String(slot).padStart(5)}: ${formatInstruction(i)}`);
    }
    slot += slots(i);
  }
  return out.join("\n");
}
