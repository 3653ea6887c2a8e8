/**
 * Matching an ELF section name against the SEC table, with libbpf's rules.
 */
import { SEC_TABLE } from "./sec-table.js";
import type { SecDef, SecMatch } from "./types.js";

/**
 * True when `name` matches `def.pattern` under libbpf's rules (see `sec-table.ts`).
 *
 * @example
 * ```ts
 * const kprobe = SEC_TABLE.find((d) => d.pattern === "kprobe+")!;
 * secDefMatches(kprobe, "kprobe/do_unlinkat"); // true
 * secDefMatches(kprobe, "kprobes"); // false
 * ```
 */
export function secDefMatches(def: SecDef, name: string): boolean {
  const p = def.pattern;
  if (p.endsWith("/")) return name.startsWith(p);
  if (p.endsWith("+")) {
    const prefix = p.slice(0, -1);
    if (!name.startsWith(prefix)) return false;
    return name.length === prefix.length || name[prefix.length] === "/";
  }
  return name === p;
}

/**
 * Maps a section name to program type, expected attach type and attach target. A leading `?` (do not
 * autoload) must be stripped by the caller. Returns `undefined` for names libbpf does not know.
 *
 * @example
 * ```ts
 * matchSectionName("kretprobe/do_unlinkat");
 * // { programType: "BPF_PROG_TYPE_KPROBE", expectedAttachType: undefined, attachTo: "do_unlinkat", ... }
 * ```
 */
export function matchSectionName(name: string, table: readonly SecDef[] = SEC_TABLE): SecMatch | undefined {
  // Every pattern that can match starts with the name's first character: look only at those, in order.
  const candidates = table === SEC_TABLE ? (BY_FIRST_CHAR.get(name.charCodeAt(0)) ?? []) : table;
  for (const def of candidates) {
    if (!secDefMatches(def, name)) continue;
    let attachTo: string | undefined;
    if (def.pattern.endsWith("+")) {
      const prefixLength = def.pattern.length - 1;
      if (name.length > prefixLength) attachTo = name.slice(prefixLength + 1);
    }
    return {
      def,
      programType: def.programType,
      expectedAttachType: def.expectedAttachType,
      attachTo,
      sleepable: def.flags.includes("sleepable"),
    };
  }
  return undefined;
}

const BY_FIRST_CHAR = new Map<number, SecDef[]>();
for (const def of SEC_TABLE) {
  const c = def.pattern.charCodeAt(0);
  const list = BY_FIRST_CHAR.get(c);
  if (list) list.push(def);
  else BY_FIRST_CHAR.set(c, [def]);
}
