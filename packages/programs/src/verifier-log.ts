/**
 * Reading the verifier's log: the one-line reason it rejected a program, the instruction it was looking
 * at, and the source line the kernel printed for it (when the program had line_info).
 */

/** What {@link parseVerifierLog} finds in a log. */
export interface VerifierLogSummary {
  /** The verifier's reason, one line (e.g. `invalid bpf_context access off=100 size=4`). */
  reason: string;
  /** The instruction (slot index) the verifier was at, when the log says. */
  insnIndex: number | undefined;
  /** The last `; <source> @ <file>:<line>` annotation before that instruction, if the log has one. */
  source: { text: string; file: string; line: number } | undefined;
}

// Lines the verifier prints after the error: statistics, not reasons.
const TRAILER = [
  /^processed \d+ insns/,
  /^verification time \d+/,
  /^stack depth /,
  /^-- END PROG LOAD LOG --/,
  /^Error: /,
];
const INSN_LINE = /^(\d+): \([0-9a-f]{2}\)/;
const STATE_LINE = /^(\d+): (R\d|frame\d|\(\w+\)|safe)/;
const SOURCE_LINE = /^; (.*?)(?: @ (.+):(\d+))?$/;
const INSN_IN_REASON = /\b(?:insn|from insn) (\d+)\b/;

/**
 * Summarises a verifier log.
 *
 * @example
 * ```ts
 * parseVerifierLog("0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\nprocessed 1 insns").reason; // "R0 !read_ok"
 * ```
 */
export function parseVerifierLog(log: string): VerifierLogSummary {
  const lines = log.split("\n").map((l) => l.trimEnd());
  let end = lines.length;
  while (end > 0 && (lines[end - 1] === "" || TRAILER.some((r) => r.test(lines[end - 1])))) end--;
  if (end === 0) return { reason: "", insnIndex: undefined, source: undefined };
  const reasonLine = end - 1;
  const reason = lines[reasonLine].trim();

  let insnIndex: number | undefined;
  let insnLine = -1;
  const inReason = INSN_IN_REASON.exec(reason);
  if (inReason) insnIndex = Number(inReason[1]);
  for (let i = reasonLine - (INSN_LINE.test(reason) ? 0 : 1); i >= 0; i--) {
    const m = INSN_LINE.exec(lines[i]);
    if (m) {
      insnLine = i;
      insnIndex ??= Number(m[1]);
      break;
    }
    if (insnIndex === undefined) {
      const s = STATE_LINE.exec(lines[i]);
      if (s && /^\d+$/.test(s[1]) && i === reasonLine - 1) {
        // "5: R0=..." right before the reason: the state at the instruction that failed.
        insnIndex = Number(s[1]);
        insnLine = i;
        break;
      }
    }
  }

  // The kernel prints a `; source @ file:line` annotation where a line_info record starts, so the nearest
  // one above the failing instruction is the line it belongs to.
  let source: VerifierLogSummary["source"];
  for (let i = insnLine; i >= 0; i--) {
    const line = lines[i];
    if (line.startsWith("; ")) {
      const m = SOURCE_LINE.exec(line);
      if (m?.[2]) source = { text: m[1].trim(), file: m[2], line: Number(m[3]) };
      break;
    }
  }
  return { reason, insnIndex, source };
}
