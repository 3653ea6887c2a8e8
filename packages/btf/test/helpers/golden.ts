// Helpers for golden tests against bpftool and llvm-objcopy.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function hasTool(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A temporary directory removed by the returned cleanup function. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `ebpf-btf-${process.pid}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `bpftool btf dump file <path> format raw` (with `base` for split BTF). */
export function bpftoolRaw(path: string, base?: string): string {
  const args = ["btf", "dump", "file", path, "format", "raw"];
  if (base) args.unshift("--base-btf", base);
  return execFileSync("bpftool", args, { maxBuffer: 1 << 30 }).toString();
}

/** Extracts a section of an ELF object with llvm-objcopy. */
export function dumpSection(object: string, section: string, dir: string): Uint8Array {
  const out = join(dir, `${section.replace(/\W/g, "_")}-${Math.random().toString(36).slice(2)}.bin`);
  execFileSync("llvm-objcopy", [`--dump-section=${section}=${out}`, object, join(dir, "discard.o")]);
  return readFileSync(out);
}

/** Writes both texts to files and returns the first differing line, or undefined when equal. */
export function firstDifference(ours: string, theirs: string, dir: string, name: string): string | undefined {
  if (ours === theirs) return undefined;
  writeFileSync(join(dir, `${name}.ours`), ours);
  writeFileSync(join(dir, `${name}.bpftool`), theirs);
  const a = ours.split("\n");
  const b = theirs.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}:\n  ours:    ${a[i]}\n  bpftool: ${b[i]}`;
  }
  return "texts differ";
}

export function objectFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".bpf.o"))
    .map((f) => join(dir, f));
}
