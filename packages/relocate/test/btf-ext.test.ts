import { parseBtfExt } from "@ebpf/btf";
import { describe, expect, it } from "vitest";
import {
  fromBtf,
  fromBtfExt,
  ParseError,
  parseBtfExtInfo,
  RelocationError,
  relocateObject,
} from "../src/index.js";
import { loadObject } from "./helpers.js";

describe("BTF.ext", () => {
  const obj = loadObject("core_kinds");
  const bytes = obj.spec.btfExtBytes!;
  const strings = (o: number) => obj.btf.stringAt(o);

  it("reads func info, line info and CO-RE records by section", () => {
    const ext = parseBtfExtInfo(bytes, strings);
    expect([...ext.funcInfo.keys()]).toEqual(["xdp"]);
    expect(ext.lineInfo.get("xdp")!.length).toBeGreaterThan(20);
    const relos = ext.coreRelos.get("xdp")!;
    expect(relos.length).toBeGreaterThan(25);
    expect(relos[0]).toMatchObject({ accessString: "0:2", kind: 0 });
  });

  it("big-endian objects give the same records", () => {
    const eb = loadObject("core_kinds", "eb");
    const a = parseBtfExtInfo(bytes, strings);
    const b = parseBtfExtInfo(eb.spec.btfExtBytes!, (o) => eb.btf.stringAt(o));
    expect(b.coreRelos).toEqual(a.coreRelos);
    expect(b.funcInfo).toEqual(a.funcInfo);
  });

  it.each([
    ["empty input", new Uint8Array(0)],
    ["bad magic", Uint8Array.from([1, 2, ...bytes.subarray(2)])],
    ["truncated", bytes.subarray(0, 40)],
    [
      "header length past the end",
      (() => {
        const b = bytes.slice();
        new DataView(b.buffer).setUint32(4, 1 << 20, true);
        return b;
      })(),
    ],
  ])("%s gives a ParseError", (_, input) => {
    expect(() => parseBtfExtInfo(input, strings)).toThrow(ParseError);
  });

  it("a string offset out of range gives a ParseError", () => {
    expect(() =>
      parseBtfExtInfo(bytes, () => {
        throw new Error("no such string");
      }),
    ).toThrow(ParseError);
  });

  it("a CO-RE record that is not instruction-aligned gives a RelocationError", () => {
    const ext = parseBtfExtInfo(bytes, strings);
    const relos = ext.coreRelos.get("xdp")!.map((r, k) => (k === 3 ? { ...r, insnOff: r.insnOff + 4 } : r));
    const bad = { ...ext, coreRelos: new Map([["xdp", relos]]) };
    expect(() =>
      relocateObject(obj.spec, { localBtf: fromBtf(obj.btf), ext: bad, target: fromBtf(obj.btf) }),
    ).toThrow(RelocationError);
  });
});

describe("agreement with @ebpf/btf's parseBtfExt", () => {
  it.each(["core_kinds", "reloc_link", "reloc_callback", "reloc_extern", "reloc_sections"])("%s", (name) => {
    for (const endian of ["el", "eb"] as const) {
      const o = loadObject(name, endian);
      const ours = parseBtfExtInfo(o.spec.btfExtBytes!, (off) => o.btf.stringAt(off));
      expect(fromBtfExt(parseBtfExt(o.spec.btfExtBytes!, o.btf))).toEqual(ours);
    }
  });
});
