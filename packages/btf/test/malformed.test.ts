// Malformed input must give a ParseError naming the offset and what was expected: never a RangeError, a
// crash or a hang. Hand-made cases for each check, then every truncation and seeded random corruption.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Btf,
  BtfBuilder,
  BtfError,
  createCodec,
  EbpfError,
  formatC,
  formatRaw,
  IntEncoding,
  marshalBtf,
  ParseError,
  parseBtf,
} from "@ebpf/btf";
import { objectDir } from "@ebpf/test-programs";
import { afterAll, describe, expect, it } from "vitest";
import { elfSection } from "./helpers/elf-section.js";
import { tempDir } from "./helpers/golden.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function parseError(bytes: Uint8Array, base?: Btf): ParseError {
  try {
    parseBtf(bytes, { base });
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw new Error(`expected a ParseError, got ${String(e)}`, { cause: e });
  }
  throw new Error("expected a ParseError, but the input parsed");
}

/** A small valid blob: header 24, then types, then strings. */
function small(): { bytes: Uint8Array; dv: DataView; typeLen: number } {
  const b = new BtfBuilder();
  const int = b.addInt("int", 4, IntEncoding.Signed);
  b.addStruct("s", 8, [
    { name: "a", type: int, bitOffset: 0 },
    { name: "b", type: int, bitOffset: 32 },
  ]);
  const bytes = b.marshal();
  const dv = new DataView(bytes.buffer);
  return { bytes, dv, typeLen: dv.getUint32(12, true) };
}

describe("malformed BTF: each check", () => {
  it("rejects bad magic, version, flags and short headers", () => {
    const { bytes } = small();
    expect(parseError(bytes.slice(0, 10)).expected).toMatch(/24-byte BTF header/);
    const m = bytes.slice();
    m[0] = 0x12;
    expect(parseError(m)).toMatchObject({ offset: 0, expected: "magic 0xeb9f", code: "ERR_EBPF_PARSE" });
    const v = bytes.slice();
    v[2] = 2;
    expect(parseError(v)).toMatchObject({ offset: 2, expected: "version 1" });
    const f = bytes.slice();
    f[3] = 1;
    expect(parseError(f)).toMatchObject({ offset: 3 });
  });

  it("rejects header lengths and sections past the end", () => {
    const { bytes, dv } = small();
    const h = bytes.slice();
    new DataView(h.buffer).setUint32(4, 1 << 30, true);
    expect(parseError(h).offset).toBe(4);
    const t = bytes.slice();
    new DataView(t.buffer).setUint32(12, dv.getUint32(12, true) + 400, true);
    expect(parseError(t)).toMatchObject({ offset: 12 });
    const s = bytes.slice();
    new DataView(s.buffer).setUint32(20, 0xffffff00, true);
    expect(parseError(s)).toMatchObject({ offset: 20 });
    const u = bytes.slice();
    new DataView(u.buffer).setUint32(8, 2, true);
    expect(parseError(u).offset).toBe(8);
  });

  it("rejects unterminated string sections and string offsets out of range", () => {
    const { bytes, typeLen } = small();
    const last = bytes.slice();
    last[last.length - 1] = 0x41;
    expect(parseError(last).expected).toMatch(/NUL byte terminating/);
    const name = bytes.slice();
    new DataView(name.buffer).setUint32(24 + 16 + 12, 0xfffff, true); // first member's name_off
    const e = parseError(name);
    expect(e.offset).toBe(24 + 16 + 12);
    expect(e.expected).toMatch(/string offset below/);
    expect(typeLen).toBeGreaterThan(0);
  });

  it("rejects type ids past the end, unknown kinds, truncated records and absurd vlen", () => {
    const { bytes } = small();
    const ref = bytes.slice();
    new DataView(ref.buffer).setUint32(24 + 16 + 16, 999, true); // first member's type
    expect(parseError(ref)).toMatchObject({ offset: 24 + 16 + 16 });
    expect(parseError(ref).expected).toMatch(/type id below 3/);
    const kind = bytes.slice();
    kind[24 + 7] = 25; // INT's info: kind byte
    expect(parseError(kind).expected).toMatch(/known BTF kind/);
    const vlen = bytes.slice();
    new DataView(vlen.buffer).setUint16(24 + 16 + 4, 0xffff, true); // struct vlen
    expect(parseError(vlen)).toMatchObject({ offset: 24 + 16 });
  });

  it("rejects loops through typedefs, qualifiers, pointers and arrays", () => {
    for (const make of [
      (b: BtfBuilder) => b.addTypedef("t", 1),
      (b: BtfBuilder) => b.addConst(1),
      (b: BtfBuilder) => b.addPtr(1),
      (b: BtfBuilder) => b.addArray(1, 1, 4),
    ]) {
      const b = new BtfBuilder();
      make(b);
      expect(parseError(b.marshal()).expected).toBe("a type chain that ends");
    }
    const b = new BtfBuilder();
    b.addTypedef("a", 2);
    b.addVolatile(3);
    b.addConst(1);
    const e = parseError(b.marshal());
    expect(e.message).toMatch(/reference loop/);
  });

  it("verifiedByKernel skips the loop check, and queries still stop on a loop with a typed error", () => {
    const b = new BtfBuilder();
    b.addTypedef("a", 2);
    b.addVolatile(3);
    b.addConst(1);
    b.addPtr(1);
    b.addArray(1, 1, 4);
    b.addStruct("s", 8, [{ name: "m", type: 1, bitOffset: 0 }]);
    const bytes = b.marshal();
    expect(() => parseBtf(bytes)).toThrow(ParseError);
    const btf = parseBtf(bytes, { verifiedByKernel: true });
    const t0 = performance.now();
    // Queries that walk the chain stop with a ParseError naming the loop...
    for (const query of [
      () => btf.resolveId(1),
      () => btf.resolve(1),
      () => btf.sizeOf(1),
      () => btf.alignOf(1),
      () => btf.sizeOf(5),
      () => btf.findMember(6, "m.x"),
    ])
      expect(query).toThrow(ParseError);
    // ...and those that do not walk it answer as usual.
    expect(btf.sizeOf(6)).toBe(8);
    expect([btf.typeName(1), btf.typeName(4), btf.typeName(5)]).toEqual(["a", "a *", "a[4]"]);
    expect(() => formatC(btf)).toThrow(EbpfError);
    expect(() => createCodec(btf, 6)).toThrow(EbpfError);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("reports a struct that contains itself by value as a ParseError from the query, not a stack overflow", () => {
    const b = new BtfBuilder();
    b.addStruct("self", 8, [{ name: "me", type: 1, bitOffset: 0 }]);
    const btf = b.build();
    expect(() => btf.alignOf(1)).toThrow(ParseError);
    expect(btf.sizeOf(1)).toBe(8);
  });

  it("bounds the work on types that fan out as a DAG (no exponential walks)", () => {
    const b = new BtfBuilder();
    const int = b.addInt("int", 4, IntEncoding.Signed);
    // 25 levels (within the depth limit, 2^25 paths): proto(i) takes two pointers to proto(i+1);
    // struct(i) holds two anonymous struct(i+1).
    const levels = 25;
    const protos = Array.from({ length: levels }, (_, i) => b.nextId + i * 2);
    for (let i = 0; i < levels; i++) {
      const next = i + 1 < levels ? protos[i + 1] : int;
      b.addFuncProto(int, [
        { name: "a", type: i + 1 < levels ? next + 1 : int },
        { name: "b", type: i + 1 < levels ? next + 1 : int },
      ]);
      b.addPtr(protos[i]);
    }
    const structs = Array.from({ length: levels }, (_, i) => b.nextId + i);
    for (let i = 0; i < levels; i++) {
      const inner = i + 1 < levels ? structs[i + 1] : int;
      b.addStruct(`s${i}`, 8, [
        { name: "", type: inner, bitOffset: 0 },
        { name: "", type: inner, bitOffset: 0 },
      ]);
    }
    const btf = b.build();
    const t0 = performance.now();
    expect(() => btf.typeName(protos[0])).toThrow(BtfError);
    expect(btf.alignOf(structs[0])).toBe(4);
    expect(() => btf.findMember(structs[0], "missing")).toThrow(BtfError);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("rejects split BTF whose ids or strings point past the base", () => {
    const base = new BtfBuilder();
    base.addInt("int", 4, IntEncoding.Signed);
    const baseBtf = base.build();
    const split = new BtfBuilder({ base: baseBtf });
    split.addPtr(1);
    const bytes = split.marshal();
    expect(parseBtf(bytes, { base: baseBtf }).count).toBe(3);
    expect(() => parseBtf(bytes)).toThrow(ParseError);
  });
});

/** Every operation a user might run on parsed BTF; anything but BtfError/ParseError is a bug. */
function exercise(btf: Btf): void {
  const tolerated = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof BtfError) && !(e instanceof ParseError)) throw e;
    }
  };
  tolerated(() => formatRaw(btf));
  tolerated(() => marshalBtf(btf));
  for (let id = 0; id < btf.count; id++) {
    tolerated(() => btf.sizeOf(id));
    tolerated(() => btf.alignOf(id));
    tolerated(() => btf.typeName(id));
    tolerated(() => btf.resolve(id));
    tolerated(() => btf.members(id));
  }
  tolerated(() => btf.findByName("int"));
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("malformed BTF: truncation and corruption of real objects", () => {
  for (const endian of ["el", "eb"] as const) {
    // A plain Uint8Array copy: Buffer#slice would share memory and let corruptions accumulate.
    const input = new Uint8Array(
      elfSection(readFileSync(join(objectDir(endian), "btf_kinds.bpf.o")), ".BTF")!,
    );

    it(`every truncation of btf_kinds (${endian}) gives a ParseError`, () => {
      for (let n = 0; n < input.length; n++) {
        const e = parseError(input.slice(0, n));
        expect(e.offset).toBeGreaterThanOrEqual(0);
        expect(e.offset).toBeLessThanOrEqual(input.length);
      }
    });

    it(`1000 random corruptions of btf_kinds (${endian}) parse or give a ParseError, never anything else`, () => {
      const rand = prng(endian === "el" ? 1 : 2);
      let parsed = 0;
      for (let i = 0; i < 1000; i++) {
        const m = input.slice();
        const flips = 1 + Math.floor(rand() * 4);
        for (let f = 0; f < flips; f++) {
          const at = Math.floor(rand() * m.length);
          m[at] = rand() < 0.5 ? Math.floor(rand() * 256) : m[at] ^ (1 << Math.floor(rand() * 8));
        }
        let btf: Btf;
        try {
          btf = parseBtf(m);
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
          continue;
        }
        parsed++;
        exercise(btf);
      }
      expect(parsed).toBeGreaterThan(0);
    });
  }
});
