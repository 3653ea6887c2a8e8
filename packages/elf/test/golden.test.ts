// Golden tests: the raw ELF view and the object model against llvm-readelf / llvm-objdump on every test
// object, in both byte orders.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { objectDir } from "@ebpf/test-programs";
import { describe, expect, it } from "vitest";
import { type BpfObjectSpec, type FunctionSpec, parseBpfObject, readElf } from "../src/index.js";

const ENDIANS = ["el", "eb"] as const;
// Every test object of the repository that exists in both byte orders.
const bigEndian = new Set(readdirSync(objectDir("eb")));
const objects = readdirSync(objectDir("el"))
  .filter((f) => f.endsWith(".bpf.o") && bigEndian.has(f))
  .sort();

function tool(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}

interface ReadelfSection {
  index: number;
  name: string;
  type: string;
  offset: number;
  size: number;
}

// `llvm-readelf -S --wide`: "  [ 3] xdp   PROGBITS  0000000000000000 000070 000090 00  AX  0   0  8"
function readelfSections(path: string): ReadelfSection[] {
  const out: ReadelfSection[] = [];
  for (const line of tool("llvm-readelf", ["-S", "--wide", path]).split("\n")) {
    const m = /^\s*\[\s*(\d+)\]\s(.*?)\s+([A-Z_0-9]+)\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s/.exec(
      line,
    );
    if (!m) continue;
    out.push({
      index: +m[1],
      name: m[2].trim(),
      type: m[3],
      offset: parseInt(m[5], 16),
      size: parseInt(m[6], 16),
    });
  }
  return out;
}

interface ObjdumpSymbol {
  value: number;
  binding: string;
  type: string;
  section: string;
  size: number;
  name: string;
}

// `llvm-objdump -t`: "0000000000000000 g     F xdp	0000000000000048 xdp_first"
function objdumpSymbols(path: string): ObjdumpSymbol[] {
  const out: ObjdumpSymbol[] = [];
  for (const line of tool("llvm-objdump", ["-t", path]).split("\n")) {
    const m = /^([0-9a-f]{16}) (.)(.)(.)(.)(.)(.)(.) (\S+)\t([0-9a-f]{16}) ?(.*)$/.exec(line);
    if (!m) continue;
    out.push({
      value: parseInt(m[1], 16),
      binding: m[2],
      type: m[8],
      section: m[9],
      size: parseInt(m[10], 16),
      name: m[11],
    });
  }
  return out;
}

interface ReadelfReloc {
  section: string;
  offset: number;
  type: string;
  symbol: string;
}

// `llvm-readelf -r`: a "Relocation section '.relxdp' ..." header, then "offset info type value name".
function readelfRelocs(path: string): ReadelfReloc[] {
  const out: ReadelfReloc[] = [];
  let section = "";
  for (const line of tool("llvm-readelf", ["-r", path]).split("\n")) {
    const h = /^Relocation section '(.*)' at offset/.exec(line);
    if (h) {
      section = h[1].replace(/^\.rela?/, "");
      continue;
    }
    const m = /^([0-9a-f]{16})\s+([0-9a-f]{16})\s+(R_BPF_\w+)\s+([0-9a-f]{16})\s+(.*)$/.exec(line);
    if (m) out.push({ section, offset: parseInt(m[1], 16), type: m[3], symbol: m[5].trim() });
  }
  return out;
}

const RELOC_TYPES: Record<number, string> = {
  0: "R_BPF_NONE",
  1: "R_BPF_64_64",
  2: "R_BPF_64_ABS64",
  3: "R_BPF_64_ABS32",
  4: "R_BPF_64_NODYLD32",
  10: "R_BPF_64_32",
};

describe.each(objects)("%s", (file) => {
  for (const endian of ENDIANS) {
    const path = join(objectDir(endian), file);
    const bytes = readFileSync(path);

    it(`${endian}: section headers match llvm-readelf -S`, () => {
      const elf = readElf(bytes);
      const golden = readelfSections(path);
      expect(elf.sections.length).toBe(golden.length);
      for (const g of golden) {
        const s = elf.sections[g.index];
        expect({ name: s.name, offset: s.offset, size: s.size }).toEqual({
          name: g.name,
          offset: g.offset,
          size: g.size,
        });
      }
    });

    it(`${endian}: symbols match llvm-objdump -t`, () => {
      const elf = readElf(bytes);
      const golden = objdumpSymbols(path);
      // objdump skips the null symbol; it prints section symbols by section name, as we do.
      const ours = elf.symbols.slice(1);
      expect(ours.length).toBe(golden.length);
      for (let i = 0; i < golden.length; i++) {
        const g = golden[i];
        const s = ours[i];
        const sectionName =
          s.sectionIndex === 0
            ? "*UND*"
            : s.sectionIndex === 0xfff1
              ? "*ABS*"
              : elf.sections[s.sectionIndex].name;
        expect({ name: s.name, value: s.value, size: s.size, section: sectionName }).toEqual({
          name: g.name,
          value: g.value,
          size: g.size,
          section: g.section,
        });
        if (g.type === "F") expect(s.type).toBe("func");
        if (g.type === "O") expect(s.type).toBe("object");
        if (g.binding === "g") expect(s.binding).toBe("global");
        if (g.binding === "l") expect(s.binding).toBe("local");
        if (g.binding === "w") expect(s.binding).toBe("weak");
      }
    });

    it(`${endian}: every relocation matches llvm-readelf -r`, () => {
      const elf = readElf(bytes);
      const golden = readelfRelocs(path);
      const ours: ReadelfReloc[] = [];
      for (const index of [...elf.relocationSections.keys()].sort((a, b) => a - b)) {
        for (const r of elf.relocations(index)) {
          ours.push({
            section: elf.sections[index].name,
            offset: r.offset,
            type: RELOC_TYPES[r.type] ?? String(r.type),
            symbol: elf.symbols[r.symbolIndex].name,
          });
        }
      }
      const key = (r: ReadelfReloc) => `${r.section}@${r.offset}:${r.type}:${r.symbol}`;
      expect(ours.map(key).sort()).toEqual(golden.map(key).sort());
    });

    it(`${endian}: programs and subprograms are the FUNC symbols of executable sections`, () => {
      const spec = parseBpfObject(bytes);
      const funcs = objdumpSymbols(path).filter((s) => s.type === "F");
      const ours = [...spec.programs, ...spec.subprograms].map(
        (f) => `${f.sectionName}:${f.name}:${f.offset}`,
      );
      expect(ours.sort()).toEqual(funcs.map((f) => `${f.section}:${f.name}:${f.value}`).sort());
      for (const p of spec.programs) {
        expect(p.sectionName).not.toBe(".text");
        expect(p.linkage).not.toBe("local");
      }
      // Function relocations, rebased to the section, are exactly the section's relocations.
      const golden = readelfRelocs(path).filter((r) =>
        [...spec.programs, ...spec.subprograms].some((f) => f.sectionName === r.section),
      );
      const fromModel = [...spec.programs, ...spec.subprograms].flatMap((f) =>
        f.relocations.map(
          (r) => `${f.sectionName}@${f.offset + r.offset}:${RELOC_TYPES[r.type]}:${r.symbol}`,
        ),
      );
      expect(fromModel.sort()).toEqual(
        golden.map((r) => `${r.section}@${r.offset}:${r.type}:${r.symbol}`).sort(),
      );
    });
  }

  it("big- and little-endian copies give the same model", () => {
    // clang's codegen may differ slightly between bpfel and bpfeb (instruction counts), so function sizes
    // and instruction offsets are left out; everything else must be identical.
    const fn = (f: FunctionSpec) => ({
      name: f.name,
      sectionName: f.sectionName,
      linkage: f.linkage,
      calls: f.calls,
      relocations: f.relocations.map((r) => ({
        type: r.type,
        symbol: r.symbol,
        symbolType: r.symbolType,
        symbolSection: r.symbolSection,
        target: { ...r.target, offset: r.target.kind === "func" ? undefined : r.target.offset },
      })),
    });
    const strip = (s: BpfObjectSpec) =>
      JSON.parse(
        JSON.stringify(
          {
            programs: s.programs.map((p) => ({
              ...fn(p),
              type: p.type,
              expectedAttachType: p.expectedAttachType,
              attachTo: p.attachTo,
              sleepable: p.sleepable,
              autoload: p.autoload,
              subprograms: p.subprograms,
            })),
            subprograms: s.subprograms.map(fn),
            maps: s.maps,
            structOps: s.structOps.map(({ data, ...rest }) => rest),
            dataSections: s.dataSections.map(({ contents, ...rest }) => rest),
            externs: s.externs,
            license: s.license,
            kernelVersion: s.kernelVersion,
          },
          (_k, v) => (typeof v === "bigint" ? v.toString() : v),
        ),
      );
    const el = parseBpfObject(readFileSync(join(objectDir("el"), file)));
    const eb = parseBpfObject(readFileSync(join(objectDir("eb"), file)));
    expect(eb.byteOrder).toBe("big");
    expect(el.byteOrder).toBe("little");
    expect(strip(eb)).toEqual(strip(el));
  });
});
