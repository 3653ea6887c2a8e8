/**
 * Kernel function lists for kprobe.multi patterns: the traceable functions of
 * `available_filter_functions` (as libbpf expands `kprobe.multi/<glob>`), else the text symbols of
 * `/proc/kallsyms` where tracefs cannot be read.
 */
import { readFileSync } from "node:fs";
import { AttachError } from "../errors.js";
import { tracefsRoot } from "./tracefs.js";

/** A kernel function name as kprobes take it (letters, digits, `_` and the `.` of `.isra.0`-like clones). */
export const KERNEL_FUNCTION_NAME = /^[A-Za-z0-9_.]+$/;

/** libbpf's glob: `*` any run of characters, `?` any one; everything else matches itself. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`);
}

/** ftrace's placeholder for a function whose mcount site was dropped: never attachable. */
const INVALID = "__ftrace_invalid_address__";

function readList(): { text: string; kallsyms: boolean } {
  let root: string | undefined;
  try {
    root = tracefsRoot();
  } catch {
    root = undefined;
  }
  if (root !== undefined) {
    try {
      return { text: readFileSync(`${root}/available_filter_functions`, "utf8"), kallsyms: false };
    } catch {
      // unreadable (lockdown, no CONFIG_DYNAMIC_FTRACE): kallsyms below
    }
  }
  try {
    return { text: readFileSync("/proc/kallsyms", "utf8"), kallsyms: true };
  } catch (cause) {
    throw new AttachError(
      "cannot list kernel functions: neither available_filter_functions nor /proc/kallsyms is readable",
      { code: "ERR_EBPF_ATTACH_TARGET", cause },
    );
  }
}

/**
 * The kernel functions whose names match glob `pattern` (`*`, `?`), in the kernel's order, each once:
 * from `available_filter_functions` (functions ftrace can trace, so kprobe.multi can attach to them;
 * module functions included), else from the text symbols of `/proc/kallsyms`. Skips ftrace's
 * `__ftrace_invalid_address__` placeholders, and lists a name that several static functions share once
 * (the kernel resolves a name to one address: the first of them in kallsyms; twice would be ESRCH).
 *
 * @example
 * ```ts
 * kernelFunctionsMatching("__x64_sys_getp*"); // ["__x64_sys_getpid", "__x64_sys_getppid", ...]
 * ```
 * @throws AttachError (ERR_EBPF_ATTACH_TARGET) when no list of kernel functions can be read
 */
export function kernelFunctionsMatching(pattern: string): string[] {
  const re = globToRegExp(pattern);
  const { text, kallsyms } = readList();
  const seen = new Set<string>();
  for (const line of text.split("\n")) {
    let name: string | undefined;
    if (kallsyms) {
      // "ffffffff81000000 T _stext [module]"
      const f = line.split(/\s+/);
      if (f.length < 3 || (f[1] !== "t" && f[1] !== "T")) continue;
      name = f[2];
    } else {
      name = line.split(/\s/, 1)[0];
    }
    if (!name || !re.test(name) || name.startsWith(INVALID) || !KERNEL_FUNCTION_NAME.test(name)) continue;
    seen.add(name);
  }
  return [...seen];
}
