import { readFileSync } from "node:fs";
import { BtfKind, parseBtf, sanitizeBtf } from "@ebpf/btf";
import { parseBpfObject } from "@ebpf/elf";
import { parseBtfExtInfo } from "@ebpf/relocate";
import { objectPath } from "@ebpf/test-programs";
import { describe, expect, it } from "vitest";
import { fixupObjectBtf, withStringsOf } from "../src/index.js";

describe("object BTF for the kernel (pure)", () => {
  const spec = parseBpfObject(readFileSync(objectPath("prog_broken")));

  it("fills DATASEC sizes and variable offsets from the ELF", () => {
    const before = parseBtf(spec.btfBytes!);
    const id = before.findIdsByName("license", BtfKind.Datasec)[0];
    expect(before.typeById(id)).toMatchObject({ size: 0 });
    const after = parseBtf(fixupObjectBtf(spec));
    const license = spec.sections.find((s) => s.name === "license")!;
    expect(after.typeById(id)).toMatchObject({ size: license.size });
    expect(after.count).toBe(before.count);
  });

  it("sanitizing for an old kernel keeps every line_info string offset valid", () => {
    const btf = parseBtf(fixupObjectBtf(spec));
    // Pretend the kernel knows neither DATASEC nor FUNC linkage: types are rewritten.
    const old = sanitizeBtf(btf, { datasec: false, funcGlobal: false });
    expect(old).not.toBe(btf);
    const rebuilt = parseBtf(withStringsOf(btf, old));
    const ext = parseBtfExtInfo(spec.btfExtBytes!, (o) => btf.stringAt(o));
    let checked = 0;
    for (const recs of ext.lineInfo.values())
      for (const r of recs) {
        expect(rebuilt.stringAt(r.lineOff)).toBe(btf.stringAt(r.lineOff));
        expect(rebuilt.stringAt(r.fileNameOff)).toBe(btf.stringAt(r.fileNameOff));
        checked++;
      }
    expect(checked).toBeGreaterThan(5);
    expect(rebuilt.findIdsByName("license", BtfKind.Datasec)).toEqual([]);
    expect(rebuilt.count).toBe(old.count);
  });
});
