import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Btf,
  BtfKind,
  btfFeaturesOfKernel,
  ENUM64_PLACEHOLDER,
  FuncLinkage,
  kindName,
  marshalBtf,
  needsSanitization,
  parseBtf,
  sanitizeBtf,
} from "@ebpf/btf";
import { itRequires, needsTool } from "@ebpf/testing";
import { describe, expect, it } from "vitest";
import { buildBtf } from "./codec-fixtures.js";

const fixtures = join(import.meta.dirname, "fixtures", "codec");
// features.c: FUNC (global and static), FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG.
const features = parseBtf(readFileSync(join(fixtures, "features.el.btf")));

const NONE = { func: false, funcGlobal: false, datasec: false, float: false, declTag: false, typeTag: false };

function kinds(btf: Btf): string[] {
  const out: string[] = [];
  for (let id = 1; id < btf.count; id++) out.push(kindName(btf.kind(id)));
  return out;
}

function _hasBpftool(): boolean {
  try {
    execFileSync("bpftool", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("sanitizeBtf", () => {
  it("returns the input when the kernel has every feature", () => {
    expect(sanitizeBtf(features, {})).toBe(features);
    expect(needsSanitization(features, {})).toBe(false);
    expect(needsSanitization(features, { float: false })).toBe(true);
  });

  it("rewrites each missing kind as libbpf does, keeping every type id and size", () => {
    const s = sanitizeBtf(features, { datasec: false, float: false, declTag: false, typeTag: false });
    expect(s.count).toBe(features.count);
    for (let id = 1; id < features.count; id++) {
      const before = features.typeById(id);
      const after = s.typeById(id);
      switch (before.kind) {
        case BtfKind.Var:
        case BtfKind.DeclTag:
          expect(after).toMatchObject({
            kind: BtfKind.Int,
            name: before.name,
            size: 1,
            bits: 8,
            encoding: 0,
          });
          break;
        case BtfKind.Datasec:
          expect(after.kind).toBe(BtfKind.Struct);
          expect(after.name).toBe(before.name.replace(/\./g, "_"));
          if (after.kind === BtfKind.Struct) {
            expect(after.size).toBe(before.size);
            expect(after.members).toEqual(
              before.vars.map((v) => ({
                name: features.name(v.type),
                type: v.type,
                bitOffset: v.offset * 8,
                bitfieldSize: 0,
              })),
            );
          }
          break;
        case BtfKind.Float:
          expect(after).toMatchObject({ kind: BtfKind.Struct, name: "", size: before.size, members: [] });
          break;
        case BtfKind.TypeTag:
          expect(after).toMatchObject({ kind: BtfKind.Const, name: "", type: before.type });
          break;
        default:
          expect(after).toEqual(before);
      }
    }
  });

  it("turns FUNC into TYPEDEF and FUNC_PROTO into ENUM without func support", () => {
    const s = sanitizeBtf(features, { func: false });
    for (let id = 1; id < features.count; id++) {
      const before = features.typeById(id);
      const after = s.typeById(id);
      if (before.kind === BtfKind.Func) {
        expect(after).toMatchObject({ kind: BtfKind.Typedef, name: before.name, type: before.type });
      } else if (before.kind === BtfKind.FuncProto) {
        expect(after.kind).toBe(BtfKind.Enum);
        if (after.kind === BtfKind.Enum) {
          expect(after.size).toBe(4);
          expect(after.values).toEqual(before.params.map((p) => ({ name: p.name, value: p.type })));
        }
      }
    }
  });

  it("makes global functions static without global func support", () => {
    const s = sanitizeBtf(features, { funcGlobal: false });
    const fn = s.findByName("global_fn", BtfKind.Func)!;
    expect(features.findByName("global_fn", BtfKind.Func)!.linkage).toBe(FuncLinkage.Global);
    expect(fn.linkage).toBe(FuncLinkage.Static);
    expect(s.findByName("helper", BtfKind.Func)!.linkage).toBe(FuncLinkage.Static);
  });

  it("turns ENUM64 into a union over a placeholder INT and clears signed ENUMs without enum64", () => {
    const btf = buildBtf((b) => {
      b.enum64("big", 8, [
        ["A", 1n],
        ["B", -(2n ** 40n)],
      ]);
      b.enum("neg", 4, [["M", -1]], true);
      b.enum64("other", 8, [["C", 2n]]);
    });
    expect(btf.findByName("neg", BtfKind.Enum)!.values[0].value).toBe(-1);
    const s = sanitizeBtf(btf, { enum64: false });
    expect(s.count).toBe(btf.count + 1);
    const placeholder = btf.count;
    expect(s.typeById(placeholder)).toMatchObject({ kind: BtfKind.Int, name: ENUM64_PLACEHOLDER, size: 1 });
    expect(s.typeById(1)).toEqual({
      id: 1,
      kind: BtfKind.Union,
      name: "big",
      size: 8,
      kindFlag: false,
      members: [
        { name: "A", type: placeholder, bitOffset: 0, bitfieldSize: 0 },
        { name: "B", type: placeholder, bitOffset: 0, bitfieldSize: 0 },
      ],
    });
    expect(s.typeById(2)).toMatchObject({
      kind: BtfKind.Enum,
      signed: false,
      values: [{ name: "M", value: 0xffffffff }],
    });
    expect(s.typeById(3).kind).toBe(BtfKind.Union);
  });

  it("renames '?'-prefixed DATASECs without qmark support, and keeps byte order and split BTF", () => {
    const be = buildBtf((b) => {
      const int = b.int("int", 4, true);
      const v = b.variable("x", int);
      b.datasec("?.struct_ops", 4, [[v, 0, 4]]);
      b.float("double", 8);
    }, false);
    const s = sanitizeBtf(be, { qmarkDatasec: false, float: false });
    expect(s.littleEndian).toBe(false);
    expect(s.typeById(3)).toMatchObject({ kind: BtfKind.Datasec, name: "_.struct_ops" });
    expect(kinds(s)).toEqual(["INT", "VAR", "DATASEC", "STRUCT"]);
    const noDatasec = sanitizeBtf(be, { datasec: false });
    expect(noDatasec.typeById(3)).toMatchObject({ kind: BtfKind.Struct, name: "__struct_ops" });
  });

  it("sanitizes split BTF on top of its base", () => {
    const base = buildBtf((b) => {
      b.int("int", 4, true);
    });
    const b2 = new (class {
      // A split blob: one FLOAT and one TYPE_TAG on the base's int.
      bytes(): Uint8Array {
        const strings = new TextEncoder().encode("\0double\0tag\0");
        const words = [1, (16 << 24) >>> 0, 8, 8, (18 << 24) >>> 0, 1];
        const out = new Uint8Array(24 + words.length * 4 + strings.length);
        const dv = new DataView(out.buffer);
        dv.setUint16(0, 0xeb9f, true);
        dv.setUint8(2, 1);
        dv.setUint32(4, 24, true);
        dv.setUint32(12, words.length * 4, true);
        dv.setUint32(16, words.length * 4, true);
        dv.setUint32(20, strings.length, true);
        words.forEach((w, i) => {
          dv.setUint32(24 + i * 4, w, true);
        });
        out.set(strings, 24 + words.length * 4);
        return out;
      }
    })();
    const split = parseBtf(b2.bytes(), { base });
    expect(kinds(split).slice(1)).toEqual(["FLOAT", "TYPE_TAG"]);
    const s = sanitizeBtf(split, { float: false, typeTag: false });
    expect(s.base).toBe(base);
    expect(s.startId).toBe(2);
    expect(kinds(s).slice(1)).toEqual(["STRUCT", "CONST"]);
    expect(s.typeById(3)).toMatchObject({ kind: BtfKind.Const, type: 1 });
  });

  it("maps kernel versions to features", () => {
    expect(btfFeaturesOfKernel(5, 10)).toEqual({
      func: true,
      funcGlobal: true,
      datasec: true,
      qmarkDatasec: false,
      float: false,
      declTag: false,
      typeTag: false,
      enum64: false,
    });
    expect(Object.values(btfFeaturesOfKernel(6, 12)).every(Boolean)).toBe(true);
    expect(btfFeaturesOfKernel(4, 19).func).toBe(false);
  });

  itRequires(needsTool("bpftool"))("produces BTF that libbpf (bpftool) parses, with only old kinds", () => {
    const s = sanitizeBtf(features, { ...NONE, enum64: false });
    expect(new Set(kinds(s))).toEqual(new Set(["PTR", "STRUCT", "INT", "CONST", "ENUM", "TYPEDEF"]));
    const dir = mkdtempSync(join(tmpdir(), "ebpf-sanitize-"));
    try {
      const file = join(dir, "s.btf");
      writeFileSync(file, marshalBtf(s));
      const dump = execFileSync("bpftool", ["btf", "dump", "file", file]).toString();
      expect(dump).toContain("STRUCT '_data' size=0 vlen=1");
      expect(dump).not.toMatch(/FLOAT|DECL_TAG|TYPE_TAG|DATASEC|VAR|FUNC/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
