// Test helper: proves a printed header reproduces the BTF it came from. It compiles the header with clang
// (-g, BPF target) together with one variable of every uniquely named struct and union, parses the BTF
// clang emits, and compares sizes, member names, bit offsets and bitfield widths with the original.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Btf, BtfKind, type BtfStruct, type BtfUnion, parseBtf } from "@ebpf/btf";
import { elfSection } from "./helpers/elf-section.js";

export const clang = process.env.CLANG ?? "clang";

export function hasClang(): boolean {
  try {
    execFileSync(clang, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Compiles `source` (with `header` available as "vmlinux.h") for BPF; returns the object bytes. */
export function compileBpf(
  header: string,
  source: string,
  extraArgs: string[] = [],
  target = "bpfel",
): { object: Uint8Array; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "ebpf-cprinter-"));
  writeFileSync(join(dir, "vmlinux.h"), header);
  writeFileSync(join(dir, "main.c"), source);
  try {
    execFileSync(
      clang,
      [
        "-O2",
        "-g",
        "-target",
        target,
        "-Wall",
        "-Werror",
        "-I",
        dir,
        ...extraArgs,
        "-c",
        "main.c",
        "-o",
        "main.o",
      ],
      { cwd: dir, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 },
    );
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`clang failed:\n${stderr.split("\n").slice(0, 40).join("\n")}`);
  }
  const object = readFileSync(join(dir, "main.o"));
  rmSync(dir, { recursive: true, force: true });
  return { object, dir };
}

/** Size as C sees it: `__builtin_va_list` is the compiler's own (a pointer on BPF), not the kernel's. */
function printedSize(btf: Btf, id: number): number {
  let cur = id;
  for (let i = 0; i < 64 && btf.kind(cur) === BtfKind.Typedef; i++) {
    if (btf.name(cur) === "__builtin_va_list") return 8;
    cur = (btf.typeById(cur) as { type: number }).type;
  }
  try {
    return btf.sizeOf(cur);
  } catch {
    return 0;
  }
}

interface Shape {
  size: number;
  members: string[];
}

function shapeOf(btf: Btf, t: BtfStruct | BtfUnion, prefix = "", base = 0, out: string[] = []): string[] {
  for (const m of t.members) {
    let bits = m.bitfieldSize;
    let off = base + m.bitOffset;
    const r = btf.resolve(m.type);
    if (!t.kindFlag && r.kind === BtfKind.Int && r.bits !== r.size * 8) {
      bits = r.bits;
      off += r.offset;
    }
    if (m.name === "" && (r.kind === BtfKind.Struct || r.kind === BtfKind.Union)) {
      shapeOf(btf, r, prefix, off, out);
      continue;
    }
    const size = printedSize(btf, m.type);
    out.push(`${prefix}${m.name}@${off}${bits ? `:${bits}` : `/${size}`}`);
  }
  return out;
}

/** Named structs and unions whose name is unique in `btf` (duplicates get `___N` names when printed). */
export function uniqueComposites(btf: Btf): (BtfStruct | BtfUnion)[] {
  const count = new Map<string, number>();
  const out: (BtfStruct | BtfUnion)[] = [];
  for (let id = 1; id < btf.count; id++) {
    const k = btf.kind(id);
    if (k !== BtfKind.Struct && k !== BtfKind.Union && k !== BtfKind.Enum && k !== BtfKind.Enum64) continue;
    const name = btf.name(id);
    if (name) count.set(name, (count.get(name) ?? 0) + 1);
  }
  for (let id = 1; id < btf.count; id++) {
    const k = btf.kind(id);
    if (k !== BtfKind.Struct && k !== BtfKind.Union) continue;
    const name = btf.name(id);
    if (name && count.get(name) === 1) out.push(btf.typeById(id) as BtfStruct | BtfUnion);
  }
  return out;
}

/**
 * Compiles `header` with a variable of each of `types` and returns the differences between the layouts
 * clang produced and the ones in `btf` (empty when the header is faithful).
 */
export function layoutDifferences(
  btf: Btf,
  header: string,
  types: (BtfStruct | BtfUnion)[],
  target = "bpfel",
): string[] {
  const lines = ['#include "vmlinux.h"'];
  for (const t of types) {
    const kw = t.kind === BtfKind.Union ? "union" : "struct";
    lines.push(`${kw} ${t.name} __rt_${kw}_${t.name} __attribute__((section(".rt"), used));`);
  }
  const { object } = compileBpf(header, `${lines.join("\n")}\n`, [], target);
  const raw = elfSection(object, ".BTF");
  if (!raw && types.length === 0) return []; // it compiled, and there is nothing to compare
  if (!raw) throw new Error("clang emitted no .BTF");
  const got = parseBtf(raw.slice());
  const diffs: string[] = [];
  const want = new Map<string, Shape>();
  for (const t of types) {
    want.set(`${t.kind}:${t.name}`, { size: t.size, members: shapeOf(btf, t) });
  }
  const seen = new Set<string>();
  for (let id = 1; id < got.count; id++) {
    const k = got.kind(id);
    if (k !== BtfKind.Struct && k !== BtfKind.Union) continue;
    const t = got.typeById(id) as BtfStruct | BtfUnion;
    const key = `${t.kind}:${t.name}`;
    const w = want.get(key);
    if (!w || seen.has(key)) continue;
    seen.add(key);
    if (t.size !== w.size) diffs.push(`${t.name}: size ${t.size}, want ${w.size}`);
    const m = shapeOf(got, t);
    if (m.join(" ") !== w.members.join(" "))
      diffs.push(`${t.name}: members\n  got  ${m.join(" ")}\n  want ${w.members.join(" ")}`);
  }
  for (const key of want.keys()) if (!seen.has(key)) diffs.push(`${key}: missing from clang's BTF`);
  return diffs;
}
