/**
 * `@ebpf/cli`: the `ebpf` command, also usable as a library (each subcommand returns its text).
 *
 * @example
 * ```ts
 * import { run } from "@ebpf/cli";
 * console.log(run(["object", "prog.bpf.o"]));
 * ```
 *
 * @packageDocumentation
 */
export { btfDump, disasm, features, list, objectInfo, run, UsageError, usage } from "./commands.js";
