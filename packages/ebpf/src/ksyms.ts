/**
 * `__ksym` externs: kernel functions (kfuncs) and variables, resolved to BTF ids in the target BTF,
 * or — for untyped `extern const void x __ksym` — to addresses from `/proc/kallsyms`.
 */
import { readFileSync } from "node:fs";
import { type Btf, BtfKind } from "@ebpf/btf";
import type { ExternSpec } from "@ebpf/elf";
import type { KsymResolution } from "@ebpf/relocate";

let kallsyms: Map<string, bigint> | undefined;

function kallsymsAddress(name: string): bigint | undefined {
  if (!kallsyms) {
    kallsyms = new Map();
    try {
      for (const line of readFileSync("/proc/kallsyms", "utf8").split("\n")) {
        const [addr, , sym] = line.split(/\s+/);
        if (sym && !kallsyms.has(sym)) kallsyms.set(sym, BigInt(`0x${addr}`));
      }
    } catch {
      // unreadable: every untyped ksym stays unresolved
    }
  }
  const a = kallsyms.get(name);
  return a === 0n ? undefined : a; // zeroed addresses: kptr_restrict hides them
}

/**
 * Resolves a `.ksyms` extern against `target` (vmlinux BTF). Returns undefined when not found, which the
 * relocator turns into an error unless the extern is `__weak`.
 */
export function resolveKsym(extern: ExternSpec, target: Btf): KsymResolution | undefined {
  if (extern.kind === "kfunc") {
    const fn = target.findByName(extern.name, BtfKind.Func);
    return fn ? { btfId: fn.id } : undefined;
  }
  if (extern.typeId !== undefined) {
    const v = target.findByName(extern.name, BtfKind.Var);
    if (v) return { btfId: v.id };
  }
  const address = kallsymsAddress(extern.name);
  return address === undefined ? undefined : { address };
}
