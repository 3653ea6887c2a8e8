// marshalBtf round trips byte for byte; the builder's output is checked against bpftool.
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { BtfBuilder, BtfKind, formatRaw, IntEncoding, marshalBtf, parseBtf, VarLinkage } from "@ebpf/btf";
import { objectDir } from "@ebpf/test-programs";
import { describeKernel } from "@ebpf/testing";
import { afterAll, describe, expect, it } from "vitest";
import { bpftoolRaw, dumpSection, firstDifference, objectFiles, tempDir } from "./helpers/golden.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

describeKernel("marshal: kernel BTF", () => {
  it("re-encodes /sys/kernel/btf/vmlinux byte for byte", () => {
    const input = readFileSync("/sys/kernel/btf/vmlinux");
    expect(sameBytes(marshalBtf(parseBtf(input)), input)).toBe(true);
  });
});

describe("marshal: test objects", () => {
  for (const endian of ["el", "eb"] as const) {
    for (const file of objectFiles(objectDir(endian))) {
      it(`${basename(file)} (${endian}) round trips, and converts to the other byte order`, () => {
        const input = dumpSection(file, ".BTF", tmp.dir);
        const btf = parseBtf(input);
        expect(sameBytes(marshalBtf(btf), input)).toBe(true);
        const swapped = marshalBtf(btf, { littleEndian: endian !== "el" });
        const again = parseBtf(swapped);
        expect(again.littleEndian).toBe(endian !== "el");
        expect(formatRaw(again)).toBe(formatRaw(btf));
        expect(sameBytes(marshalBtf(again, { littleEndian: endian === "el" }), input)).toBe(true);
      });
    }
  }
});

/** One type of every kind, including what clang 14 cannot emit (ENUM64, signed enums). */
function everyKind(b: BtfBuilder): void {
  const int = b.addInt("int", 4, IntEncoding.Signed);
  const uint = b.addInt("unsigned int", 4);
  const char = b.addInt("char", 1, IntEncoding.Char);
  b.addInt("_Bool", 1, IntEncoding.Bool);
  const ptr = b.addPtr(int);
  const arr = b.addArray(char, uint, 16);
  const bits = b.addStruct("bits", 8, [
    { name: "a", type: uint, bitOffset: 0, bitfieldSize: 3 },
    { name: "b", type: int, bitOffset: 3, bitfieldSize: 29 },
    { name: "p", type: ptr, bitOffset: 32 },
  ]);
  b.addUnion("u", 16, [
    { name: "s", type: bits, bitOffset: 0 },
    { name: "name", type: arr, bitOffset: 0 },
  ]);
  b.addEnum("e32", 4, [
    { name: "NEG", value: -1 },
    { name: "POS", value: 7 },
  ]);
  b.addEnum("u32e", 4, [{ name: "BIG", value: 0xffffffff }]);
  b.addEnum64("e64", 8, [
    { name: "HUGE", value: 0xffffffff00000001n },
    { name: "SMALL", value: 1n },
  ]);
  b.addEnum64("s64", 8, [{ name: "MINUS", value: -5_000_000_000n }]);
  b.addFwd("opaque");
  b.addFwd("opaque_u", true);
  const td = b.addTypedef("int_t", int);
  b.addVolatile(b.addConst(td));
  b.addRestrict(ptr);
  const proto = b.addFuncProto(int, [
    { name: "x", type: int },
    { name: "", type: 0 },
  ]);
  const fn = b.addFunc("f", proto);
  b.addDeclTag("tag", fn, -1);
  b.addDeclTag("ptag", fn, 0);
  b.addTypeTag("user", int);
  const v = b.addVar("v", int, VarLinkage.GlobalAllocated);
  const sv = b.addVar("sv", int, VarLinkage.Static);
  b.addDatasec(".data", 8, [
    { type: v, offset: 0, size: 4 },
    { type: sv, offset: 4, size: 4 },
  ]);
  b.addFloat("double", 8);
}

describe("builder", () => {
  for (const littleEndian of [true, false]) {
    it(`builds every kind (${littleEndian ? "LE" : "BE"}), printed by bpftool exactly as by us`, () => {
      const b = new BtfBuilder({ littleEndian });
      everyKind(b);
      const bytes = b.marshal();
      const path = join(tmp.dir, `every-kind-${littleEndian}.btf`);
      writeFileSync(path, bytes);
      const btf = parseBtf(bytes);
      expect(btf.littleEndian).toBe(littleEndian);
      expect(
        firstDifference(formatRaw(btf), bpftoolRaw(path), tmp.dir, `every-kind-${littleEndian}`),
      ).toBeUndefined();
      expect(sameBytes(marshalBtf(btf), bytes)).toBe(true);
      const e64 = btf.findByName("e64", BtfKind.Enum64);
      expect(e64?.values[0].value).toBe(0xffffffff00000001n);
      expect(btf.findByName("s64", BtfKind.Enum64)?.values[0].value).toBe(-5_000_000_000n);
      expect(btf.findByName("e32", BtfKind.Enum)?.values[0].value).toBe(-1);
      expect(btf.findByName("u32e", BtfKind.Enum)?.values[0].value).toBe(0xffffffff);
    });
  }

  it("extends parsed BTF: ids continue, existing bytes are kept", () => {
    const input = dumpSection(join(objectDir("el"), "btf_kinds.bpf.o"), ".BTF", tmp.dir);
    const btf = parseBtf(input);
    const b = BtfBuilder.from(btf);
    expect(b.nextId).toBe(btf.count);
    const id = b.addStruct("added", 4, [
      { name: "x", type: btf.findByName("int", BtfKind.Int)!.id, bitOffset: 0 },
    ]);
    const out = b.build();
    expect(out.count).toBe(btf.count + 1);
    expect(out.findByName("added")?.id).toBe(id);
    expect(out.sizeOf(id)).toBe(4);
    expect(formatRaw(out).startsWith(formatRaw(btf))).toBe(true);
  });

  it("builds split BTF on a base and bpftool reads it with --base-btf", () => {
    const base = new BtfBuilder();
    const int = base.addInt("int", 4, IntEncoding.Signed);
    base.addStruct("base_s", 4, [{ name: "x", type: int, bitOffset: 0 }]);
    const baseBytes = base.marshal();
    const basePath = join(tmp.dir, "base.btf");
    writeFileSync(basePath, baseBytes);
    const baseBtf = parseBtf(baseBytes);

    const split = new BtfBuilder({ base: baseBtf });
    expect(split.startId).toBe(3);
    const p = split.addPtr(int);
    split.addStruct("mod_s", 8, [
      { name: "x", type: p, bitOffset: 0 },
      { name: "y", type: 2, bitOffset: 0 },
    ]);
    const splitBytes = split.marshal();
    const splitPath = join(tmp.dir, "split.btf");
    writeFileSync(splitPath, splitBytes);
    const btf = parseBtf(splitBytes, { base: baseBtf });
    expect(btf.startId).toBe(3);
    expect(btf.count).toBe(5);
    expect(btf.findByName("base_s")?.id).toBe(2);
    expect(btf.resolve(btf.findByName("mod_s", BtfKind.Struct)!.members[0].type).kind).toBe(BtfKind.Ptr);
    // "x" is shared with the base: referenced there, not copied.
    expect(btf.stringBytes().length).toBeLessThan(16);
    expect(
      firstDifference(formatRaw(btf), bpftoolRaw(splitPath, basePath), tmp.dir, "split"),
    ).toBeUndefined();
    expect(sameBytes(marshalBtf(btf), splitBytes)).toBe(true);
  });
});
