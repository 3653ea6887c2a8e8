// The oracle: fixtures/codec/types.c initialises globals in their own sections; clang compiled it for both
// byte orders, so the section bytes are what the compiler laid out for the C initialisers below.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Btf,
  BtfKind,
  CodecError,
  createCodec,
  EbpfError,
  intCodec,
  parseBtf,
  rawCodec,
  u32Codec,
  u64Codec,
} from "@ebpf/btf";
import { describe, expect, it } from "vitest";
import { buildBtf } from "./codec-fixtures.js";

const fixtures = join(import.meta.dirname, "fixtures", "codec");
const btfOf = (endian: string) => parseBtf(readFileSync(join(fixtures, `types.${endian}.btf`)));
const dataOf = (name: string, endian: string) =>
  new Uint8Array(readFileSync(join(fixtures, `data.${name}.${endian}.bin`)));
const idOf = (btf: Btf, name: string, kind: BtfKind = BtfKind.Struct) => btf.findByName(name, kind)!.id;

function float32Of(bits: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, bits);
  return dv.getFloat32(0);
}

function expectedAll(le: boolean) {
  return {
    c: 65,
    sc: -5,
    uc: 200,
    s: -1234,
    us: 60000,
    i: -123456789,
    u: 4000000000,
    l: -9000000000000000000n,
    ul: 18000000000000000000n,
    ll: -42n,
    ull: 0x0102030405060708n,
    b: true,
    f: 1.5,
    d: -2.25,
    name: "hello",
    mac: new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]),
    matrix: [
      [1, 2, 3],
      [-4, -5, -6],
    ],
    in: [
      { s: 7, name: "ab" },
      { s: -8, name: "cdefg" },
    ],
    un: {
      i: 0x41424344,
      f: float32Of(0x41424344),
      bytes: new Uint8Array(le ? [0x44, 0x43, 0x42, 0x41] : [0x41, 0x42, 0x43, 0x44]),
    },
    x: 11,
    y: 0x1234,
    z: le ? 0x34 : 0,
    // clang 14 records enum color as unsigned, so BLUE (-1) reads as 0xffffffff.
    col: 4294967295,
    sm: 2,
    b64: 0xfedcba9876543210n,
    bf: { a: 5, b: -3, c: 0xabcdef1234n, d: true, e: 1, f: 0x99, g: -4294967296n, h: 100 },
    pair: { id: 9, value: 10n },
    ptr: 0n,
    cv: 77,
    big: -2n,
    ubig: (0x0123456789abcdefn << 64n) | 0xfedcba9876543210n,
    nodes: [0n, 0n],
    flex: [],
  };
}

for (const endian of ["el", "eb"]) {
  const le = endian === "el";
  describe(`createCodec on compiler-laid-out data (${endian})`, () => {
    const btf = btfOf(endian);

    it("decodes every kind of member of struct all", () => {
      const codec = createCodec(btf, idOf(btf, "all"));
      expect(codec.size).toBe(272);
      expect(codec.decode(dataOf("all", endian))).toEqual(expectedAll(le));
    });

    it("re-encodes decoded values to the same bytes", () => {
      for (const [name, type] of [
        ["all", "all"],
        ["packed", "packed_s"],
        ["bits", "bits"],
        ["holes", "holes"],
        ["aligned", "aligned_s"],
        ["node", "node"],
      ]) {
        const codec = createCodec(btf, idOf(btf, type));
        const bytes = dataOf(name, endian);
        expect(codec.encode(codec.decode(bytes)), name).toEqual(bytes);
      }
    });

    it("encodes plain values to the compiler's bytes", () => {
      const codec = createCodec(btf, idOf(btf, "all"));
      expect(codec.encode(expectedAll(le))).toEqual(dataOf("all", endian));
    });

    it("handles packed structs and straddling bitfields", () => {
      const codec = createCodec(btf, idOf(btf, "packed_s"));
      expect(codec.size).toBe(20);
      expect(codec.decode(dataOf("packed", endian))).toEqual({
        c: 122,
        i: -2,
        l: 0x1122334455667788n,
        x: 0x1abcd,
        y: 0xfffff,
        s: -300,
      });
    });

    it("decodes extreme bitfield values", () => {
      const codec = createCodec(btf, idOf(btf, "bits"));
      expect(codec.decode(dataOf("bits", endian))).toEqual({
        a: 7,
        b: -16,
        c: 0xffffffffffn,
        d: false,
        e: 2,
        f: 1,
        g: 4294967295n,
        h: 127,
      });
    });

    it("decodes a DATASEC into its variables, and a VAR into its value", () => {
      const sec = createCodec(btf, idOf(btf, ".data.holes", BtfKind.Datasec));
      expect(sec.decode(dataOf("holes", endian))).toEqual({
        g_holes: { a: 1, b: 2n, c: "\u0003\u0004\u0005", d: 6, e: 7 },
      });
      const v = createCodec(btf, idOf(btf, "g_color", BtfKind.Var));
      expect(v.decode(dataOf("color", endian))).toBe(5);
    });

    it("reads and writes enums by name", () => {
      const codec = createCodec(btf, idOf(btf, "all"), { enums: "name" });
      const v = codec.decode(dataOf("all", endian)) as Record<string, unknown>;
      expect(v.sm).toBe("S2");
      expect(v.col).toBe("BLUE");
      expect((v.bf as Record<string, unknown>).e).toBe("S1");
      expect(codec.encode(v)).toEqual(dataOf("all", endian));
      const color = createCodec(btf, idOf(btf, "color", BtfKind.Enum), { enums: "name" });
      expect(color.encode("GREEN")).toEqual(dataOf("color", endian));
      expect(color.decode(color.encode(42))).toBe(42);
    });

    it("offers chars as bytes and 64-bit values as numbers", () => {
      const codec = createCodec(btf, idOf(btf, "all"), { chars: "bytes", int64: "number" });
      const v = codec.decode(dataOf("all", endian)) as Record<string, unknown>;
      expect(v.name).toEqual(new Uint8Array([104, 101, 108, 108, 111, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
      expect(v.ll).toBe(-42);
      expect(v.pair).toEqual({ id: 9, value: 10 });
    });
  });
}

describe("codec API", () => {
  const btf = btfOf("el");
  const pair = createCodec<{ id: number; value: bigint }>(btf, idOf(btf, "pair_t", BtfKind.Typedef));

  it("encodes into a target at an offset and decodes from DataView or Uint8Array at an offset", () => {
    const buf = new Uint8Array(40).fill(0xff);
    pair.encode({ id: 1, value: 2n }, buf, 8);
    expect(buf.subarray(0, 8).every((b) => b === 0xff)).toBe(true);
    expect(buf.subarray(24).every((b) => b === 0xff)).toBe(true);
    expect(pair.decode(buf, 8)).toEqual({ id: 1, value: 2n });
    expect(pair.decode(new DataView(buf.buffer, 8))).toEqual({ id: 1, value: 2n });
  });

  it("zero-fills missing fields and padding", () => {
    expect(pair.encode({ id: 3 } as { id: number; value: bigint })).toEqual(
      new Uint8Array([3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    );
  });

  it("accepts numbers for 64-bit fields and -1 for unsigned fields, as C does", () => {
    const bytes = pair.encode({ id: -1, value: 5 as unknown as bigint });
    expect(pair.decode(bytes)).toEqual({ id: 0xffffffff, value: 5n });
  });

  it("rejects bad values with CodecError naming the field", () => {
    const all = createCodec(btf, idOf(btf, "all"));
    const cases: [unknown, RegExp][] = [
      [{ uc: 256 }, /value\.uc: integer 256 does not fit in 8 bits/],
      [{ i: "12" }, /value\.i: expected an integer/],
      [{ i: 1.5 }, /value\.i: expected an integer/],
      [{ name: "x".repeat(17) }, /value\.name: 17 bytes do not fit in char\[16\]/],
      [{ matrix: [[1, 2, 3, 4]] }, /value\.matrix\[0\]: 4 elements do not fit/],
      [{ bf: { a: 8 } }, /value\.bf\.a: integer 8 does not fit in 3 bits/],
      [{ in: 5 }, /value\.in: expected an array/],
      [{ pair: null }, /value\.pair: expected an object, got null/],
      [42, /value: expected an object/],
    ];
    for (const [value, message] of cases) {
      expect(() => all.encode(value)).toThrow(CodecError);
      expect(() => all.encode(value)).toThrow(message);
    }
    const color = createCodec(btf, idOf(btf, "color", BtfKind.Enum));
    expect(() => color.encode("PURPLE")).toThrow(/'PURPLE' is not an enumerator of enum 'color'/);
  });

  it("rejects short buffers and bad targets", () => {
    expect(() => pair.decode(new Uint8Array(15))).toThrow(
      /cannot decode 16 bytes at offset 0 of a 15-byte buffer/,
    );
    expect(() => pair.decode(new Uint8Array(16), 1)).toThrow(CodecError);
    expect(() => pair.encode({ id: 1, value: 1n }, new Uint8Array(8))).toThrow(CodecError);
  });

  it("refuses types without a byte representation, with a typed error", () => {
    const node = btf.findByName("callback_t", BtfKind.Typedef)!;
    const proto = (btf.typeById((btf.typeById(node.type) as { type: number }).type) as { id: number }).id;
    for (const id of [0, proto, 9999]) {
      expect(() => createCodec(btf, id)).toThrow(CodecError);
      expect(() => createCodec(btf, id)).toThrow(EbpfError);
    }
    const fwd = buildBtf((b) => {
      b.fwd("later");
    });
    expect(() => createCodec(fwd, 1)).toThrow(/has no byte representation/);
  });

  it("handles 64-bit enums, legacy bitfields and unions in hand-made BTF, both byte orders", () => {
    for (const le of [true, false]) {
      const btf = buildBtf((b) => {
        const e = b.enum64("e", 8, [
          ["LOW", 1n],
          ["HIGH", 0x8000000000000000n],
        ]);
        const legacy = b.int("unsigned int", 4, false, 4); // 4 value bits in a 4-byte INT
        const u8 = b.int("unsigned char", 1, false);
        const u = b.union("u", 4, [
          { name: "word", type: b.int("unsigned int", 4, false), bitOffset: 0 },
          { name: "low", type: u8, bitOffset: 0 },
        ]);
        b.struct("s", 16, [
          { name: "e", type: e, bitOffset: 0 },
          { name: "nib", type: legacy, bitOffset: 64 },
          { name: "nib2", type: legacy, bitOffset: 68 },
          { name: "u", type: u, bitOffset: 96 },
        ]);
      }, le);
      const codec = createCodec(btf, 6, { enums: "name" });
      const bytes = codec.encode({ e: "HIGH", nib: 0xa, nib2: 0x5, u: { word: 0x01020304 } });
      expect(bytes[le ? 7 : 0]).toBe(0x80);
      expect(bytes[8]).toBe(le ? 0x5a : 0xa5);
      expect(codec.decode(bytes)).toEqual({
        e: "HIGH",
        nib: 0xa,
        nib2: 5,
        u: { word: 0x01020304, low: le ? 4 : 1 },
      });
    }
  });
});

describe("codecs without BTF", () => {
  it("rawCodec copies bytes in and out", () => {
    const raw = rawCodec(4);
    expect(raw.size).toBe(4);
    const out = raw.encode(new Uint8Array([1, 2]));
    expect(out).toEqual(new Uint8Array([1, 2, 0, 0]));
    const decoded = raw.decode(out);
    out[0] = 9;
    expect(decoded).toEqual(new Uint8Array([1, 2, 0, 0]));
    expect(() => raw.encode(new Uint8Array(5))).toThrow(CodecError);
    expect(() => rawCodec(-1)).toThrow(CodecError);
  });

  it("u32/u64/intCodec in either byte order", () => {
    expect(u32Codec(true).encode(0x01020304)).toEqual(new Uint8Array([4, 3, 2, 1]));
    expect(u32Codec(false).encode(0x01020304)).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(u64Codec(true).decode(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0x80]))).toBe(0x8000000000000001n);
    const s16 = intCodec(2, { signed: true, littleEndian: true });
    expect(s16.decode(s16.encode(-2))).toBe(-2);
    const u128 = intCodec(16, { littleEndian: false });
    expect(u128.decode(u128.encode(2n ** 127n + 5n))).toBe(2n ** 127n + 5n);
    expect(() => u32Codec().encode(2 ** 32)).toThrow(CodecError);
  });
});
