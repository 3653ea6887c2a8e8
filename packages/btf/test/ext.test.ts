// BTF.ext: func_info, line_info and CO-RE relocations from the test objects, checked against the C sources
// and the objects' own BTF; record sizes larger than the known layout; malformed blocks.
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { BtfKind, CoreReloKind, ParseError, parseBtf, parseBtfExt } from "@ebpf/btf";
import { objectDir, sourceDir } from "@ebpf/test-programs";
import { describe, expect, it } from "vitest";
import { elfSection } from "./helpers/elf-section.js";
import { objectFiles } from "./helpers/golden.js";

function load(file: string) {
  const elf = readFileSync(file);
  const btf = parseBtf(elfSection(elf, ".BTF")!);
  const extBytes = elfSection(elf, ".BTF.ext");
  return { btf, extBytes };
}

describe("BTF.ext of the test objects", () => {
  for (const endian of ["el", "eb"] as const) {
    for (const file of objectFiles(objectDir(endian))) {
      const name = basename(file);
      it(`${name} (${endian}): func_info names FUNCs, line_info matches the C source`, () => {
        const { btf, extBytes } = load(file);
        if (!extBytes) return; // objects without BPF code have no BTF.ext
        const ext = parseBtfExt(extBytes, btf);
        expect(ext.littleEndian).toBe(endian === "el");
        expect(ext.funcInfoRecSize).toBe(8);
        expect(ext.lineInfoRecSize).toBe(16);
        for (const sec of ext.funcInfo)
          for (const r of sec.records) {
            expect(btf.kind(r.typeId)).toBe(BtfKind.Func);
            expect(r.insnOff % 8).toBe(0);
          }
        const source = readFileSync(join(sourceDir, name.replace(/\.o$/, ".c")), "utf8").split("\n");
        let checked = 0;
        for (const sec of ext.lineInfo)
          for (const r of sec.records) {
            // Line 0 marks compiler-generated code (no source line).
            if (r.lineNumber === 0 || !r.fileName.endsWith(name.replace(/\.o$/, ".c"))) continue;
            expect(source[r.lineNumber - 1]).toBe(r.line);
            checked++;
          }
        expect(checked).toBeGreaterThan(0);
        for (const sec of ext.coreRelos)
          for (const r of sec.records) {
            expect(r.kind).toBeLessThanOrEqual(CoreReloKind.TypeMatches);
            expect(r.accessStr).toMatch(/^\d+(:\d+)*$/);
            expect(r.typeId).toBeLessThan(btf.count);
          }
      });
    }
  }

  it("finds the func_info of btf_kinds.bpf.o's programs", () => {
    const { btf, extBytes } = load(join(objectDir("el"), "btf_kinds.bpf.o"));
    const ext = parseBtfExt(extBytes!, btf);
    const names = ext.funcInfo.flatMap((s) => s.records.map((r) => `${s.section}:${btf.name(r.typeId)}`));
    expect(names).toEqual(expect.arrayContaining(["xdp:btf_prog", ".text:btf_helper"]));
  });
});

/** A BTF.ext with one func_info section whose records are `recSize` bytes. */
function synthetic(recSize: number, btfSecName: number, typeId: number): Uint8Array {
  const n = 2;
  const block = 4 + 8 + n * recSize;
  const out = new Uint8Array(32 + block);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, 0xeb9f, true);
  out[2] = 1;
  dv.setUint32(4, 32, true);
  dv.setUint32(8, 0, true);
  dv.setUint32(12, block, true);
  dv.setUint32(16, block, true);
  dv.setUint32(20, 0, true);
  dv.setUint32(24, block, true);
  dv.setUint32(28, 0, true);
  dv.setUint32(32, recSize, true);
  dv.setUint32(36, btfSecName, true);
  dv.setUint32(40, n, true);
  for (let i = 0; i < n; i++) {
    dv.setUint32(44 + i * recSize, i * 64, true);
    if (recSize >= 8) dv.setUint32(48 + i * recSize, typeId, true);
    for (let p = 8; p < recSize; p++) out[44 + i * recSize + p] = 0xee;
  }
  return out;
}

describe("BTF.ext record sizes and malformed input", () => {
  const { btf } = load(join(objectDir("el"), "btf_kinds.bpf.o"));
  const fn = btf.findByName("btf_prog", BtfKind.Func)!.id;
  const sec = btf.findString("xdp")!;

  it("honours a record size larger than the known layout", () => {
    for (const recSize of [8, 12, 24]) {
      const ext = parseBtfExt(synthetic(recSize, sec, fn), btf);
      expect(ext.funcInfoRecSize).toBe(recSize);
      expect(ext.funcInfo[0].section).toBe("xdp");
      expect(ext.funcInfo[0].records).toEqual([
        { insnOff: 0, typeId: fn },
        { insnOff: 64, typeId: fn },
      ]);
    }
  });

  it("rejects short records, bad counts, bad strings and truncation with ParseError", () => {
    expect(() => parseBtfExt(synthetic(4, sec, fn), btf)).toThrow(/record size of at least 8/);
    expect(() => parseBtfExt(synthetic(8, 0xfffffff, fn), btf)).toThrow(/section name string offset/);
    expect(() => parseBtfExt(synthetic(8, sec, 0xffffff), btf)).toThrow(/type id below/);
    const good = synthetic(12, sec, fn);
    for (let n = 0; n < good.length; n++) {
      try {
        parseBtfExt(good.slice(0, n), btf);
        throw new Error(`truncation to ${n} bytes parsed`);
      } catch (e) {
        expect(e).toBeInstanceOf(ParseError);
      }
    }
    const count = good.slice();
    new DataView(count.buffer).setUint32(40, 0x7fffffff, true);
    expect(() => parseBtfExt(count, btf)).toThrow(ParseError);
  });
});
