/**
 * What to do about the verifier's most common complaints: one line per known reason, shown under the
 * reason in a {@link VerifierError}. The verifier's words are exact but terse; these say the usual cause in
 * C terms. Checked against the reason line only, first match wins.
 */

const HINTS: readonly (readonly [RegExp, string])[] = [
  [
    /number of funcs in func_info doesn't match number of subprogs/,
    "this kernel does not count callback functions as subprograms: callbacks passed by address (bpf_loop, bpf_for_each_map_elem, timers) need Linux 5.13, bpf_loop 5.17",
  ],
  [
    /invalid mem access '(map_value_or_null|ptr_or_null_|.*_or_null)'/,
    "check the pointer against NULL (e.g. what bpf_map_lookup_elem returned) before using it",
  ],
  [
    /invalid mem access '(scalar|inv)'/,
    "a plain number was used as a pointer: read kernel memory with bpf_probe_read_kernel or BPF_CORE_READ instead of dereferencing it",
  ],
  [
    /unreleased reference/,
    "a reference is still held at exit: release it on every path (bpf_ringbuf_submit/discard, bpf_sk_release, bpf_task_release...)",
  ],
  [
    /back-edge|infinite loop detected|loop detected/,
    "loops must be bounded (Linux 5.3+) with a bound the verifier can see; or use bpf_loop (5.17) or #pragma unroll",
  ],
  [
    /program is too large|BPF program is too large/,
    "the verifier's budget (1M instructions processed) was exceeded: split the program with tail calls or global functions, or bound loops tighter",
  ],
  [
    /!read_ok/,
    "a register was read before it was written: usually a value the compiler expected to be kept across a helper call",
  ],
  [
    /dereference of modified ctx ptr/,
    "read context fields at constant offsets from the program's context argument, not through a pointer derived from it",
  ],
  [
    /is outside of the (allowed memory range|packet)|invalid access to (map value|packet)|unbounded min value/,
    "bound the offset with an explicit check the verifier can see (if (i >= N) return ...), and for packets compare against data_end first",
  ],
  [
    /cannot call GPL-restricted function/,
    'the helper needs a GPL-compatible license: char LICENSE[] SEC("license") = "GPL";',
  ],
  [/unknown func (\w+)/, "this helper does not exist on this kernel or is not allowed for this program type"],
  [
    /invalid bpf_context access/,
    "this context field is not readable (or writable) for this program type or attach type",
  ],
];

/**
 * The hint for a verifier reason line (what usually causes it, what to do), or undefined for an unfamiliar one.
 *
 * @example
 * ```ts
 * verifierHint("R1 invalid mem access 'map_value_or_null'"); // "check the pointer against NULL ..."
 * ```
 */
export function verifierHint(reason: string): string | undefined {
  for (const [pattern, hint] of HINTS) if (pattern.test(reason)) return hint;
  return undefined;
}
