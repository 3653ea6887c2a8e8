/** BPF_PROG_LOAD and BPF_BTF_LOAD: loads that return a verifier/BTF log. */
import { BpfCmd, BtfLoadAttr, ProgLoadAttr } from "./abi.generated.js";
import { cString, putString } from "./attr.js";
import { bpfCmdName, bpfRaw, fillAttr } from "./bpf-call.js";
import { Errno } from "./errno.js";
import { SyscallError, type SyscallErrorDetails } from "./errors.js";
import { Fd, rawFd } from "./fd.js";
import { addressOf } from "./libc.js";

/** BPF_PROG_LOAD attempts while the kernel answers EAGAIN (libbpf makes 5). */
const PROG_LOAD_ATTEMPTS = 5;

/** Options of {@link progLoad}: the fields of the BPF_PROG_LOAD attr. */
export interface ProgLoadOptions {
  /** A {@link BpfProgType} value. */
  type: number;
  /** Encoded instructions, 8 bytes each. */
  insns: Uint8Array;
  /** e.g. `"GPL"`, `"Dual MIT/GPL"`. */
  license: string;
  /** 0 = no log, 1 = log on failure, 2 = verbose; 4 = stats. A log buffer is needed when non-zero. */
  logLevel?: number;
  /** Receives the verifier log (NUL-terminated). Needed for logLevel > 0. */
  logBuf?: Uint8Array;
  kernVersion?: number;
  /** `BpfFlags.BPF_F_*` program flags (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS...). */
  flags?: number;
  /** Up to 15 characters; truncated. */
  name?: string;
  ifindex?: number;
  /** A {@link BpfAttachType} value. */
  expectedAttachType?: number;
  btfFd?: Fd | number;
  funcInfoRecSize?: number;
  funcInfo?: Uint8Array;
  funcInfoCnt?: number;
  lineInfoRecSize?: number;
  lineInfo?: Uint8Array;
  lineInfoCnt?: number;
  attachBtfId?: number;
  /** attach_prog_fd (freplace/fentry on a BPF program)... */
  attachProgFd?: Fd | number;
  /** ...or attach_btf_obj_fd (a module's BTF); they share the field. */
  attachBtfObjFd?: Fd | number;
  /** Map/BTF fds for BPF_PSEUDO_MAP_IDX / kfunc calls, as 32-bit ints. */
  fdArray?: Int32Array;
  coreRelos?: Uint8Array;
  coreReloCnt?: number;
  coreReloRecSize?: number;
  progTokenFd?: Fd | number;
}

/**
 * A failed BPF_PROG_LOAD or BPF_BTF_LOAD: a {@link SyscallError} that also carries the kernel's log.
 * EACCES/EINVAL with a log usually means the verifier rejected the program; ENOSPC means the log did
 * not fit (retry with a larger `logBuf`).
 */
export class LoadError extends SyscallError {
  /** The log the kernel wrote (empty when no log buffer was given). */
  readonly log: string;
  /** log_true_size: the size the full log needs, when the kernel reports it (6.4+); else 0. */
  readonly logTrueSize: number;

  constructor(details: SyscallErrorDetails & { log: string; logTrueSize: number }) {
    super(details);
    this.log = details.log;
    this.logTrueSize = details.logTrueSize;
  }
}

/** Decodes a NUL-terminated log buffer. */
export function decodeLog(buf: Uint8Array | undefined): string {
  if (!buf) return "";
  const end = buf.indexOf(0);
  return new TextDecoder().decode(end < 0 ? buf : buf.subarray(0, end));
}

const optFd = (fd: Fd | number | undefined) => (fd === undefined ? undefined : rawFd(fd));

/**
 * BPF_PROG_LOAD. Returns the owned program fd; on failure throws {@link LoadError} with the errno and the
 * verifier log (when `logBuf` was given). On success the log (if any) is in `logBuf`.
 *
 * @example
 * ```ts
 * const log = new Uint8Array(1 << 16);
 * try {
 *   using prog = progLoad({ type: BpfProgType.XDP, insns, license: "GPL", logLevel: 1, logBuf: log });
 * } catch (e) {
 *   if (e instanceof LoadError) console.error(e.errnoName, e.log);
 * }
 * ```
 */
export function progLoad(options: ProgLoadOptions): Fd {
  if (options.insns.byteLength % 8 !== 0 || options.insns.byteLength === 0)
    throw new SyscallError({
      syscall: "bpf",
      command: "BPF_PROG_LOAD",
      errno: 22,
      hint: "insns must be a non-empty multiple of 8 bytes",
    });
  const license = cString(options.license);
  const logBuf = options.logBuf;
  if (logBuf) logBuf[0] = 0;
  const s = fillAttr(ProgLoadAttr, {
    prog_type: options.type,
    insn_cnt: options.insns.byteLength / 8,
    insns: addressOf(options.insns),
    license: addressOf(license),
    log_level: logBuf && logBuf.byteLength > 0 ? (options.logLevel ?? 1) : 0,
    log_size: logBuf && (options.logLevel ?? 1) ? logBuf.byteLength : undefined,
    log_buf: logBuf && (options.logLevel ?? 1) && logBuf.byteLength ? addressOf(logBuf) : undefined,
    kern_version: options.kernVersion,
    prog_flags: options.flags,
    prog_ifindex: options.ifindex,
    expected_attach_type: options.expectedAttachType,
    prog_btf_fd: optFd(options.btfFd),
    func_info_rec_size: options.funcInfoRecSize,
    func_info: options.funcInfo ? addressOf(options.funcInfo) : undefined,
    func_info_cnt: options.funcInfoCnt,
    line_info_rec_size: options.lineInfoRecSize,
    line_info: options.lineInfo ? addressOf(options.lineInfo) : undefined,
    line_info_cnt: options.lineInfoCnt,
    attach_btf_id: options.attachBtfId,
    attach_prog_fd: optFd(options.attachProgFd ?? options.attachBtfObjFd),
    fd_array: options.fdArray ? addressOf(options.fdArray) : undefined,
    core_relos: options.coreRelos ? addressOf(options.coreRelos) : undefined,
    core_relo_cnt: options.coreReloCnt,
    core_relo_rec_size: options.coreReloRecSize,
    prog_token_fd: optFd(options.progTokenFd),
  });
  if (options.name) putString(s.bytes, ProgLoadAttr.fields.prog_name, options.name);
  let r = bpfRaw(BpfCmd.PROG_LOAD, s.address, ProgLoadAttr.byteSize);
  // The verifier gives up with EAGAIN when a signal is pending (a profiler's SIGPROF, a timer): like libbpf,
  // try again a few times before reporting it.
  for (let attempt = 1; r === -Errno.EAGAIN && attempt < PROG_LOAD_ATTEMPTS; attempt++)
    r = bpfRaw(BpfCmd.PROG_LOAD, s.address, ProgLoadAttr.byteSize);
  if (r < 0) {
    const trueSize = s.view.getUint32(ProgLoadAttr.fields.log_true_size.offset, true);
    throw new LoadError({
      syscall: "bpf",
      command: bpfCmdName(BpfCmd.PROG_LOAD),
      errno: -r,
      log: decodeLog(logBuf),
      logTrueSize: trueSize,
      context: options.name ? `program "${options.name}"` : undefined,
    });
  }
  return new Fd(r, "prog");
}

/** Options of {@link btfLoad}. */
export interface BtfLoadOptions {
  /** Raw BTF (header + types + strings). */
  btf: Uint8Array;
  logLevel?: number;
  logBuf?: Uint8Array;
  btfFlags?: number;
  btfTokenFd?: Fd | number;
}

/**
 * BPF_BTF_LOAD. Returns the owned BTF fd; throws {@link LoadError} with the kernel's BTF log on failure.
 *
 * @example
 * ```ts
 * using btfFd = btfLoad({ btf: bytes });
 * ```
 */
export function btfLoad(options: BtfLoadOptions): Fd {
  const logBuf = options.logBuf;
  if (logBuf) logBuf[0] = 0;
  const withLog = logBuf !== undefined && logBuf.byteLength > 0;
  const s = fillAttr(BtfLoadAttr, {
    btf: addressOf(options.btf),
    btf_size: options.btf.byteLength,
    btf_log_buf: withLog ? addressOf(logBuf) : undefined,
    btf_log_size: withLog ? logBuf.byteLength : undefined,
    btf_log_level: withLog ? (options.logLevel ?? 1) : undefined,
    btf_flags: options.btfFlags,
    btf_token_fd: optFd(options.btfTokenFd),
  });
  const r = bpfRaw(BpfCmd.BTF_LOAD, s.address, BtfLoadAttr.byteSize);
  if (r < 0) {
    throw new LoadError({
      syscall: "bpf",
      command: bpfCmdName(BpfCmd.BTF_LOAD),
      errno: -r,
      log: decodeLog(logBuf),
      logTrueSize: s.view.getUint32(BtfLoadAttr.fields.btf_log_true_size.offset, true),
    });
  }
  return new Fd(r, "btf");
}
