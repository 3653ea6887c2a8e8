// libbpf's CO-RE rules on hand-built BTF: flavors, compatibility, ambiguity, TYPE_MATCHES, bitfields,
// enum64, load/store size adjustment and poisoning, and malformed specs giving typed errors.
import { describe, expect, it } from "vitest";
import {
  CALL,
  type CoreBtf,
  CoreError,
  CoreRelocator,
  type CoreType,
  type Instruction,
  BtfKind as K,
  ldx,
  mov64Imm,
  POISON_CALL_IMM,
  parseSpec,
  CoreReloKind as R,
  Size,
  typesMatch,
} from "../src/index.js";

type T = Partial<CoreType> & { kind: number };
function btf(types: T[], pointerSize = 8): CoreBtf {
  const full: CoreType[] = [{ kind: 0, name: "", kindFlag: false, size: 0, type: 0 }];
  for (const t of types) full.push({ name: "", kindFlag: false, size: 0, type: 0, ...t });
  return { typeCount: full.length, type: (id) => full[id], pointerSize };
}
const int = (name: string, size: number, signed = false): T => ({
  kind: K.Int,
  name,
  size,
  intEncoding: signed ? 1 : 0,
  intBits: size * 8,
  intOffset: 0,
});
const m = (name: string, type: number, bitOffset: number, bitfieldSize = 0) => ({
  name,
  type,
  bitOffset,
  bitfieldSize,
});
const struct = (name: string, size: number, members: ReturnType<typeof m>[], kindFlag = false): T => ({
  kind: K.Struct,
  name,
  size,
  members,
  kindFlag,
});

const rec = (typeId: number, accessString: string, kind: number) => ({ typeId, accessString, kind });

// Local: [1] int, [2] unsigned int, [3] struct foo___v1 { int a; unsigned int b; }
const local = btf([
  int("int", 4, true),
  int("unsigned int", 4),
  struct("foo___v1", 8, [m("a", 1, 0), m("b", 2, 32)]),
]);

describe("candidates and flavors", () => {
  it("matches a flavored local type to the target's plain and flavored names", () => {
    const target = btf([
      int("int", 4, true),
      int("unsigned int", 4),
      struct("foo", 16, [m("x", 1, 0), m("b", 2, 64), m("a", 1, 96)]),
    ]);
    const r = new CoreRelocator(local, { vmlinux: target });
    expect(r.apply(mov64Imm(1, 0), rec(3, "0:0", R.FIELD_BYTE_OFFSET))[0].imm).toBe(12);
    expect(r.apply(mov64Imm(1, 4), rec(3, "0:1", R.FIELD_BYTE_OFFSET))[0].imm).toBe(8);
    expect(r.apply(mov64Imm(1, 8), rec(3, "0", R.TYPE_SIZE))[0].imm).toBe(16);
    expect(r.apply(mov64Imm(1, 1), rec(3, "0", R.TYPE_ID_TARGET))[0].imm).toBe(3);
    expect(r.apply(mov64Imm(1, 3), rec(3, "0", R.TYPE_ID_LOCAL))[0].imm).toBe(3);
  });

  it("rejects candidates whose offsets disagree (ambiguity), like libbpf", () => {
    const target = btf([
      int("int", 4, true),
      int("unsigned int", 4),
      struct("foo___x", 8, [m("a", 1, 0), m("b", 2, 32)]),
      struct("foo___y", 8, [m("b", 2, 0), m("a", 1, 32)]),
    ]);
    const r = new CoreRelocator(local, { vmlinux: target });
    expect(() => r.apply(mov64Imm(1, 0), rec(3, "0:0", R.FIELD_BYTE_OFFSET))).toThrow(
      expect.objectContaining({ code: "ERR_EBPF_CORE_AMBIGUOUS" }),
    );
  });

  it("accepts several candidates that agree and narrows the cache to those that matched", () => {
    const target = btf([
      int("int", 4, true),
      int("unsigned int", 4),
      struct("foo___x", 8, [m("a", 1, 0), m("b", 2, 32)]),
      struct("foo___y", 8, [m("a", 1, 0), m("zz", 2, 32)]),
    ]);
    const r = new CoreRelocator(local, { vmlinux: target });
    expect(r.apply(mov64Imm(1, 0), rec(3, "0:0", R.FIELD_BYTE_OFFSET))[0].imm).toBe(0);
    // b exists only in foo___x: still found through the narrowed candidate list.
    expect(r.apply(mov64Imm(1, 4), rec(3, "0:1", R.FIELD_BYTE_OFFSET))[0].imm).toBe(4);
  });

  it("field exists = 0 and poisoning when the field is missing or incompatible", () => {
    // target b is a struct: int vs struct is incompatible.
    const target = btf([
      int("int", 4, true),
      struct("bar", 4, [m("q", 1, 0)]),
      struct("foo", 8, [m("a", 1, 0), m("b", 2, 32)]),
    ]);
    const r = new CoreRelocator(local, { vmlinux: target });
    expect(r.apply(mov64Imm(1, 1), rec(3, "0:1", R.FIELD_EXISTS))[0].imm).toBe(0);
    const [p] = r.apply(ldx(Size.W, 1, 2, 4), rec(3, "0:1", R.FIELD_BYTE_OFFSET));
    expect(p).toMatchObject({ opcode: CALL, src: 0, dst: 0, offset: 0, imm: POISON_CALL_IMM });
    expect((p as { poison?: unknown }).poison).toMatchObject({ reason: "no match in the target BTF" });
  });

  it("poisons both halves of an ld_imm64", () => {
    const target = btf([int("int", 4, true)]);
    const r = new CoreRelocator(local, { vmlinux: target });
    const insn: Instruction = { opcode: 0x18, dst: 1, src: 0, offset: 0, imm: 0, imm2: 0 };
    const out = r.apply(insn, rec(3, "0:0", R.FIELD_BYTE_OFFSET));
    expect(out.map((i) => [i.opcode, i.imm])).toEqual([
      [CALL, POISON_CALL_IMM],
      [CALL, POISON_CALL_IMM],
    ]);
  });
});

describe("load/store size adjustment", () => {
  // local: struct s { unsigned int v; int w; }  target: struct s { u64 v; long w; }
  const l = btf([int("unsigned int", 4), int("int", 4, true), struct("s", 8, [m("v", 1, 0), m("w", 2, 32)])]);
  const t = btf([
    int("unsigned long", 8),
    int("long", 8, true),
    struct("s", 16, [m("v", 1, 0), m("w", 2, 64)]),
  ]);

  it("widens/narrows loads of unsigned ints", () => {
    const r = new CoreRelocator(l, { vmlinux: t });
    const [out] = r.apply(ldx(Size.W, 1, 2, 0), rec(3, "0:0", R.FIELD_BYTE_OFFSET));
    expect(out).toMatchObject({ opcode: 0x79, offset: 0 }); // ldxdw
  });

  it("poisons loads of signed ints whose size changed", () => {
    const r = new CoreRelocator(l, { vmlinux: t });
    const [out] = r.apply(ldx(Size.W, 1, 2, 4), rec(3, "0:1", R.FIELD_BYTE_OFFSET));
    expect(out).toMatchObject({ opcode: CALL, imm: POISON_CALL_IMM });
  });

  it("rejects an instruction that does not hold the compiler's value", () => {
    const r = new CoreRelocator(l, { vmlinux: t });
    expect(() => r.apply(ldx(Size.W, 1, 2, 12), rec(3, "0:1", R.FIELD_BYTE_OFFSET))).toThrow(
      expect.objectContaining({ code: "ERR_EBPF_CORE_INSN" }),
    );
    expect(() => r.apply(mov64Imm(1, 99), rec(3, "0", R.TYPE_SIZE))).toThrow(/unexpected ALU immediate/);
  });
});

describe("bitfields", () => {
  // struct bf { unsigned int x:3 @ bit 5; unsigned int y:30 @ bit 30 }  (kind_flag layout)
  const l = btf([int("unsigned int", 4), struct("bf", 8, [m("x", 1, 5, 3), m("y", 1, 30, 30)], true)]);
  const calc = (access: string, kind: number, order: "little" | "big" = "little") =>
    Number(new CoreRelocator(l, { vmlinux: l }, order).resolve(rec(2, access, kind)).res.newVal);

  it("computes libbpf's load window and shifts", () => {
    expect(calc("0:0", R.FIELD_BYTE_OFFSET)).toBe(0);
    expect(calc("0:0", R.FIELD_BYTE_SIZE)).toBe(4);
    expect(calc("0:0", R.FIELD_LSHIFT_U64)).toBe(64 - (5 + 3));
    expect(calc("0:0", R.FIELD_RSHIFT_U64)).toBe(61);
    // y straddles a 4-byte boundary: an 8-byte window at offset 0.
    expect(calc("0:1", R.FIELD_BYTE_SIZE)).toBe(8);
    expect(calc("0:1", R.FIELD_LSHIFT_U64)).toBe(64 - 60);
    expect(calc("0:1", R.FIELD_SIGNED)).toBe(0);
  });

  it("uses the big-endian shift formula for big-endian objects", () => {
    expect(calc("0:0", R.FIELD_LSHIFT_U64, "big")).toBe((8 - 4) * 8 + 5);
  });
});

describe("enums", () => {
  const l = btf([
    {
      kind: K.Enum,
      name: "e___mine",
      size: 4,
      values: [
        { name: "A___mine", value: 1n },
        { name: "GONE", value: 2n },
      ],
    },
  ]);
  const t = btf([
    {
      kind: K.Enum64,
      name: "e",
      size: 8,
      values: [
        { name: "B", value: 5n },
        { name: "A", value: 0x1_0000_0002n },
      ],
    },
  ]);
  it("resolves enum values by essential name, including ENUM64", () => {
    const r = new CoreRelocator(l, { vmlinux: t });
    const [v] = r.apply(
      { opcode: 0x18, dst: 1, src: 0, offset: 0, imm: 1, imm2: 0 },
      rec(1, "0", R.ENUMVAL_VALUE),
    );
    expect([v.imm, v.imm2]).toEqual([2, 1]);
    expect(r.apply(mov64Imm(1, 1), rec(1, "1", R.ENUMVAL_EXISTS))[0].imm).toBe(0);
    expect(r.apply(mov64Imm(1, 1), rec(1, "0", R.ENUMVAL_EXISTS))[0].imm).toBe(1);
  });
});

describe("TYPE_MATCHES", () => {
  const l = btf([
    int("int", 4, true),
    struct("pair", 8, [m("a", 1, 0), m("b", 1, 32)]),
    { kind: K.Ptr, type: 2 },
    { kind: K.Fwd, name: "pair", kindFlag: false },
  ]);
  it("accepts a target with the same members in another order and more of them", () => {
    const t = btf([int("int", 4, true), struct("pair", 12, [m("c", 1, 0), m("b", 1, 32), m("a", 1, 64)])]);
    expect(typesMatch(l, 2, t, 2)).toBe(1);
  });
  it("rejects a missing member, a changed int size or signedness, a union for a struct", () => {
    expect(typesMatch(l, 2, btf([int("int", 4, true), struct("pair", 4, [m("a", 1, 0)])]), 2)).toBe(0);
    expect(
      typesMatch(l, 2, btf([int("int", 8, true), struct("pair", 16, [m("a", 1, 0), m("b", 1, 64)])]), 2),
    ).toBe(0);
    expect(typesMatch(l, 2, btf([int("int", 4), struct("pair", 8, [m("a", 1, 0), m("b", 1, 32)])]), 2)).toBe(
      0,
    );
    expect(
      typesMatch(
        l,
        2,
        btf([
          int("int", 4, true),
          { kind: K.Union, name: "pair", size: 4, members: [m("a", 1, 0), m("b", 1, 0)] },
        ]),
        2,
      ),
    ).toBe(0);
  });
  it("behind a pointer, a forward declaration matches the struct", () => {
    const t = btf([
      { kind: K.Fwd, name: "pair", kindFlag: false },
      { kind: K.Ptr, type: 1 },
    ]);
    expect(typesMatch(l, 3, t, 2)).toBe(1);
  });
  it("resolves through the relocator", () => {
    const t = btf([int("int", 4, true), struct("pair", 8, [m("a", 1, 0), m("b", 1, 32)])]);
    expect(
      new CoreRelocator(l, { vmlinux: t }).apply(mov64Imm(1, 1), rec(2, "0", R.TYPE_MATCHES))[0].imm,
    ).toBe(1);
  });
});

describe("malformed input gives typed errors", () => {
  const bad: [number, string, number, RegExp][] = [
    [3, "", R.FIELD_BYTE_OFFSET, /colon-separated/],
    [3, "0:x", R.FIELD_BYTE_OFFSET, /colon-separated/],
    [3, "0:-1", R.FIELD_BYTE_OFFSET, /colon-separated/],
    [3, "0:2", R.FIELD_BYTE_OFFSET, /member #2/],
    [3, "0:0:0", R.FIELD_BYTE_OFFSET, /no members or elements/],
    [0, "0", R.TYPE_EXISTS, /out of range/],
    [99, "0:0", R.FIELD_BYTE_OFFSET, /out of range/],
    [-1, "0", R.TYPE_SIZE, /out of range/],
    [3, "0:1", R.TYPE_SIZE, /take the spec "0"/],
    [3, "0", R.ENUMVAL_VALUE, /not an enum/],
    [3, "0:0", 42, /unknown relocation kind/],
    [3, Array(70).fill("0").join(":"), R.FIELD_BYTE_OFFSET, /longer than 64/],
  ];
  it.each(bad)("type %i spec %j kind %i", (typeId, access, kind, msg) => {
    expect(() => parseSpec(local, typeId, access, kind)).toThrow(CoreError);
    expect(() => parseSpec(local, typeId, access, kind)).toThrow(msg);
  });

  it("an anonymous root type is refused with a typed error", () => {
    const l = btf([int("int", 4, true), struct("", 4, [m("a", 1, 0)])]);
    const r = new CoreRelocator(l, { vmlinux: l });
    expect(() => r.apply(mov64Imm(1, 0), rec(2, "0:0", R.FIELD_BYTE_OFFSET))).toThrow(/anonymous struct/);
  });

  it("a broken target (member type out of range) gives a typed error, not a crash", () => {
    const t = btf([struct("foo", 8, [m("a", 77, 0)])]);
    const r = new CoreRelocator(local, { vmlinux: t });
    expect(() => r.apply(mov64Imm(1, 0), rec(3, "0:0", R.FIELD_BYTE_OFFSET))).toThrow(CoreError);
  });

  it("random specs and ids never escape as untyped errors", () => {
    let seed = 1;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const t = btf([
      int("int", 4, true),
      int("unsigned int", 4),
      struct("foo", 8, [m("a", 1, 0), m("b", 2, 32)]),
    ]);
    for (let i = 0; i < 2000; i++) {
      const access = Array.from({ length: 1 + rnd(4) }, () => String(rnd(4))).join(":");
      const r = new CoreRelocator(local, { vmlinux: t });
      try {
        r.apply(mov64Imm(1, rnd(16)), rec(rnd(6) - 1, access, rnd(14)));
      } catch (e) {
        expect(e).toBeInstanceOf(CoreError);
      }
    }
  });
});
