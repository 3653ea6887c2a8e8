// Objects written for libbpf load unchanged: for every BPF object in the repository, the programs libbpf
// (bpftool prog loadall) gets past the verifier must load through Ebpf.loadFile too, and our maps must match
// libbpf's in number, type and sizes.
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { objectDir } from "@ebpf/test-programs";
import { describeKernel, needsTool } from "@ebpf/testing";
import { expect, it } from "vitest";
import { Ebpf, Program } from "../src/index.js";

const examples = new URL("../../../examples/dist/bpf/", import.meta.url).pathname;
const objects = [
  ...readdirSync(objectDir("el")).map((f) => join(objectDir("el"), f)),
  ...readdirSync(examples).map((f) => join(examples, f)),
].filter((f) => f.endsWith(".bpf.o"));

/** The programs libbpf loads from an object (all or nothing, as bpftool loadall), or undefined if it fails. */
function libbpfPrograms(path: string): string[] | undefined {
  const dir = `/sys/fs/bpf/ebpf_compat_${process.pid}`;
  rmSync(dir, { recursive: true, force: true });
  try {
    execFileSync("bpftool", ["prog", "loadall", path, dir], { stdio: "pipe" });
    return readdirSync(dir).sort();
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Known gaps, by object file: libbpf loads them and we do not yet. The test asserts they still fail, so
 * fixing one makes the test fail until the entry is removed.
 */
const KNOWN_GAPS: Record<string, RegExp> = {};

/** Loads every autoload program of `path` through the façade; returns their (kernel-truncated) names. */
function ourPrograms(path: string): string[] {
  const ours: string[] = [];
  using bpf = Ebpf.loadFile(path);
  for (const name of bpf.programs()) {
    const spec = bpf.spec.programs.find((p) => p.name === name)!;
    if (!spec.autoload) continue;
    bpf.program(name, Program).load();
    ours.push(name.slice(0, 15));
  }
  return ours.sort();
}

describeKernel(
  "libbpf compatibility",
  () => {
    it("loads every object libbpf loads, with the same programs", () => {
      let compared = 0;
      const failures: string[] = [];
      for (const path of objects) {
        const theirs = libbpfPrograms(path);
        if (!theirs) continue; // fixtures no loader accepts (broken on purpose, legacy-only layouts…)
        const gap = KNOWN_GAPS[path.split("/").pop()!];
        if (gap) {
          expect(() => ourPrograms(path), `${path} is listed as a known gap`).toThrow(gap);
          continue;
        }
        try {
          expect(ourPrograms(path), path).toEqual(theirs.map((n) => n.slice(0, 15)));
          compared++;
        } catch (e) {
          failures.push(`${path}: ${(e as Error).message.split("\n")[0]}`);
        }
      }
      expect(failures).toEqual([]);
      expect(compared).toBeGreaterThanOrEqual(8);
    }, 300_000);
  },
  needsTool("bpftool"),
);
