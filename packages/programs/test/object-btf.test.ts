import { readFileSync } from "node:fs";
import { BtfBuilder, BtfKind, IntEncoding, parseBtf, sanitizeBtf } from "@ebpf/btf";
import { type BpfObjectSpec, parseBpfObject } from "@ebpf/elf";
import { parseBtfExtInfo } from "@ebpf/relocate";
import { LoadError } from "@ebpf/sys";
import { objectPath } from "@ebpf/test-programs";
import { describeKernel } from "@ebpf/testing";
import { describe, expect, it } from "vitest";
import { fixupObjectBtf, loadObjectBtf, withStringsOf } from "../src/index.js";

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

describeKernel("object BTF rejected by the kernel", () => {
  it("names the kernel's reason from the BTF log", () => {
    const b = new BtfBuilder();
    const int = b.addInt("int", 4, IntEncoding.Signed);
    const v = b.add({ kind: BtfKind.Var, name: "x", type: int, linkage: 1 });
    // No ELF section of that name: the fixup leaves size 0, which the kernel refuses.
    b.add({ kind: BtfKind.Datasec, name: ".bogus", size: 0, vars: [{ type: v, offset: 0, size: 4 }] });
    const bytes = b.marshal();
    const fake = { btfBytes: bytes, btf: undefined, sections: [], symbols: [] } as unknown as BpfObjectSpec;
    let err: unknown;
    try {
      loadObjectBtf(fake).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).message).toMatch(
      /^the object's BTF was rejected \(.*size == 0.*\): bpf\(BPF_BTF_LOAD\)/,
    );
    expect((err as LoadError).log).toContain(".bogus");
  });
});
