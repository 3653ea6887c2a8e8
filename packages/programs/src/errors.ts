/** Errors of program loading and attaching. */
import { EbpfError, type EbpfErrorOptions } from "@ebpf/errors";

/** Where in the C source a verifier error points. */
export interface VerifierSourceLine {
  /** Source file, as the compiler recorded it. */
  file: string;
  /** 1-based line number. */
  line: number;
  /** The text of the source line. */
  text: string;
}

/** Details of a {@link VerifierError}. */
export interface VerifierErrorDetails extends EbpfErrorOptions {
  /** The program's name. */
  program: string;
  /** The verifier's reason, one line. */
  reason: string;
  /** errno of BPF_PROG_LOAD (usually EACCES or EINVAL). */
  errno: number;
  /** errno name. */
  errnoName: string;
  /** The slot index of the failing instruction, when the log names one. */
  insnIndex: number | undefined;
  /** The C source line of that instruction (from line_info), when known. */
  source: VerifierSourceLine | undefined;
  /** Disassembly around the failing instruction, the failing one marked with `>`. */
  context: string;
  /** The full verifier log. */
  log: string;
  /** True when the log was cut short (the buffer limit was reached). */
  truncated: boolean;
  /** What usually causes this reason and what to do, when the reason is a well-known one. */
  hint?: string;
}

/**
 * The verifier rejected a program. The message names the program and states the verifier's reason on its
 * first line, then the failing instruction's C source line and the disassembly around it; the whole log
 * is in {@link VerifierError.log}. Code `ERR_EBPF_VERIFIER`.
 *
 * @example
 * ```ts
 * try {
 *   Program.load(spec);
 * } catch (e) {
 *   if (e instanceof VerifierError) console.error(e.message, "\n", e.log);
 * }
 * ```
 */
export class VerifierError extends EbpfError {
  /** The program's name. */
  readonly program: string;
  /** The verifier's reason, one line. */
  readonly reason: string;
  /** errno of BPF_PROG_LOAD. */
  readonly errno: number;
  /** errno name (`"EACCES"`, `"EINVAL"`...). */
  readonly errnoName: string;
  /** The slot index of the failing instruction, when the log names one. */
  readonly insnIndex: number | undefined;
  /** The C source line of the failing instruction, when known. */
  readonly source: VerifierSourceLine | undefined;
  /** Disassembly around the failing instruction. */
  readonly context: string;
  /** The full verifier log. */
  readonly log: string;
  /** True when the log was cut short. */
  readonly truncated: boolean;
  /** What usually causes this reason and what to do, for well-known reasons. */
  readonly hint: string | undefined;

  constructor(d: VerifierErrorDetails) {
    const lines = [`program "${d.program}" rejected by the verifier: ${d.reason || d.errnoName}`];
    if (d.source) lines.push(`  at ${d.source.file}:${d.source.line}: ${d.source.text}`);
    if (d.hint) lines.push(`  hint: ${d.hint}`);
    if (d.context) lines.push(d.context);
    super("ERR_EBPF_VERIFIER", lines.join("\n"), d);
    this.program = d.program;
    this.reason = d.reason;
    this.errno = d.errno;
    this.errnoName = d.errnoName;
    this.insnIndex = d.insnIndex;
    this.source = d.source;
    this.context = d.context;
    this.log = d.log;
    this.truncated = d.truncated;
    this.hint = d.hint;
  }
}

/**
 * Attaching, detaching or querying a program failed for a reason that is not a plain syscall error (a
 * missing target, a wrong program type for the attach API). Code `ERR_EBPF_ATTACH` unless stated.
 */
export class AttachError extends EbpfError {
  constructor(message: string, options?: EbpfErrorOptions & { code?: string }) {
    super(options?.code ?? "ERR_EBPF_ATTACH", message, options);
  }
}
