// libbpf as an oracle: open every little-endian test object with bpf_object__open_file (no kernel
// involved) and compare programs (name, section, type, expected attach type, autoload, instruction count)
// and maps (type, sizes, max_entries, flags, map_extra, numa_node, inner map) with parseBpfObject.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { objectDir } from "@ebpf/test-programs";
import { describeWhen, needsPath, needsTool } from "@ebpf/testing";
import { expect, it } from "vitest";
import { type MapSpec, parseBpfObject } from "../src/index.js";

const source = join(import.meta.dirname, "oracle/libbpf-open.c");

function buildOracle(): string {
  const out = join(mkdtempSync(join(tmpdir(), "elf-oracle-")), "libbpf-open");
  execFileSync(process.env.CLANG ?? "clang", ["-O1", "-o", out, source, "-lbpf"], { stdio: "pipe" });
  return out;
}

// libbpf 1.1 (Debian bookworm) predates these SEC names; it reports them as BPF_PROG_TYPE_UNSPEC.
const NEWER_THAN_LIBBPF_1_1 = new Set(["sk_skb/verdict", "struct_ops.s/ops_init"]);

const lower = (s: string, prefix: string) => s.slice(prefix.length).toLowerCase();

function mapLine(m: MapSpec): string {
  const base = [m.name, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags, m.mapExtra, m.numaNode ?? 0];
  const inner = m.innerMap
    ? ["inner", m.innerMap.type, m.innerMap.keySize, m.innerMap.valueSize, m.innerMap.maxEntries]
    : [];
  return [...base, ...inner].join("\t");
}

function compare(path: string, out: string): void {
  const spec = parseBpfObject(readFileSync(path));
  const lines = out.trim().split("\n").filter(Boolean);
  const libbpfProgs = lines.filter((l) => l.startsWith("prog\t")).map((l) => l.split("\t").slice(1));
  expect(spec.programs.map((p) => p.name)).toEqual(libbpfProgs.map((p) => p[0]));
  for (const [name, section, type, attach, autoload, insns] of libbpfProgs) {
    const p = spec.programs.find((x) => x.name === name);
    if (!p) throw new Error(`missing ${name}`);
    expect(p.section).toBe(section);
    expect(String(Number(p.autoload))).toBe(autoload);
    expect(String(p.size / 8)).toBe(insns);
    if (type === "unspec" && NEWER_THAN_LIBBPF_1_1.has(section)) {
      expect(p.type).not.toBe("BPF_PROG_TYPE_UNSPEC");
      continue;
    }
    expect(lower(p.type, "BPF_PROG_TYPE_")).toBe(type);
    // libbpf reports 0 (BPF_CGROUP_INET_INGRESS) when no attach type is set.
    expect(p.expectedAttachType ? lower(p.expectedAttachType, "BPF_") : "cgroup_inet_ingress").toBe(attach);
  }
  const libbpfMaps = lines.filter((l) => l.startsWith("map\t")).map((l) => l.slice(4));
  expect(spec.maps.map(mapLine)).toEqual(libbpfMaps);
}

describeWhen(
  "libbpf oracle (bpf_object__open_file)",
  () => {
    const oracle = buildOracle();
    const objects = readdirSync(objectDir("el")).filter((f) => f.endsWith(".bpf.o"));

    const opened: string[] = [];
    for (const file of objects.sort()) {
      const path = join(objectDir("el"), file);
      let out: string;
      try {
        out = execFileSync(oracle, [path], { encoding: "utf8" });
      } catch {
        // libbpf 1.1 refuses some valid objects (static programs outside .text, legacy maps): no oracle.
        continue;
      }
      opened.push(file);
      it(`${file}: programs and maps match libbpf`, () => compare(path, out));
    }

    it("a statically linked object (bpftool gen object) matches libbpf and its parts", () => {
      const dir = mkdtempSync(join(tmpdir(), "elf-link-"));
      const linked = join(dir, "linked.bpf.o");
      const parts = ["elf_callbacks.bpf.o", "elf_btf_maps.bpf.o"].map((f) => join(objectDir("el"), f));
      execFileSync("bpftool", ["gen", "object", linked, ...parts], { stdio: "pipe" });
      compare(linked, execFileSync(oracle, [linked], { encoding: "utf8" }));
      const spec = parseBpfObject(readFileSync(linked));
      const [a, b] = parts.map((p) => parseBpfObject(readFileSync(p)));
      expect(spec.programs.map((p) => p.name)).toEqual([...a.programs, ...b.programs].map((p) => p.name));
      expect(spec.programs.map((p) => p.relocations.map((r) => r.target))).toEqual(
        [...a.programs, ...b.programs].map((p) => p.relocations.map((r) => r.target)),
      );
      expect(spec.maps.map((m) => [m.name, m.initialValues])).toEqual(
        b.maps.map((m) => [m.name, m.initialValues]),
      );
    });

    it("libbpf could open the objects this test relies on", () => {
      for (const f of ["minimal.bpf.o", "elf_btf_maps.bpf.o", "elf_data.bpf.o", "elf_sec_names.bpf.o"]) {
        expect(opened).toContain(f);
      }
    });
  },
  needsPath("/usr/include/bpf/libbpf.h", "apt: libbpf-dev; tools/setup.sh installs it"),
  needsTool("gcc"),
);
