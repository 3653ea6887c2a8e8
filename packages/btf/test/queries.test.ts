// Queries on btf_kinds.bpf.c, whose layout we know from the C source (and from clang's own offsets).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BtfBuilder, BtfError, BtfKind, formatRaw, IntEncoding, parseBtf } from "@ebpf/btf";
import { objectDir } from "@ebpf/test-programs";
import { describe, expect, it } from "vitest";
import { elfSection } from "./helpers/elf-section.js";

for (const endian of ["el", "eb"] as const) {
  describe(`queries on btf_kinds.bpf.o (${endian})`, () => {
    const btf = parseBtf(elfSection(readFileSync(join(objectDir(endian), "btf_kinds.bpf.o")), ".BTF")!);
    const all = btf.findByName("btf_all", BtfKind.Struct)!;

    it("looks up by name and kind through the index", () => {
      expect(all.kind).toBe(BtfKind.Struct);
      expect(btf.findByName("btf_all", BtfKind.Union)).toBeUndefined();
      expect(btf.findByName("no_such_type")).toBeUndefined();
      expect(btf.findAllByName("int").length).toBe(1);
      expect(btf.findIdsByName("btf_all")).toEqual([all.id]);
      expect(btf.typeById(all.id)).toBe(all); // cached
    });

    it("computes sizes and alignments like the compiler", () => {
      expect(btf.sizeOf(all.id)).toBe(120);
      expect(btf.alignOf(all.id)).toBe(8);
      const bits = btf.findByName("btf_bits", BtfKind.Struct)!;
      expect(btf.sizeOf(bits.id)).toBe(16);
      const matrix = btf.findMember(all.id, "matrix")!;
      expect(btf.sizeOf(matrix.type)).toBe(24);
      expect(btf.alignOf(matrix.type)).toBe(4);
      expect(btf.sizeOf(btf.findMember(all.id, "cv")!.type)).toBe(4);
      expect(btf.pointerSize).toBe(8);
      const fn = btf.findByName("btf_helper", BtfKind.Func)!;
      expect(() => btf.sizeOf(fn.id)).toThrow(BtfError);
      expect(() => btf.sizeOf(0)).toThrow(/no size/);
      expect(() => btf.typeById(btf.count)).toThrow(BtfError);
      for (const bad of [-1, 1.5, Number.NaN, 2 ** 32 + 1]) {
        expect(() => btf.typeById(bad)).toThrow(BtfError);
        expect(() => btf.kind(bad)).toThrow(BtfError);
        expect(() => btf.name(bad)).toThrow(BtfError);
      }
      expect(() => btf.stringAt(0.5)).toThrow(BtfError);
      expect(() => btf.stringAt(1e9)).toThrow(BtfError);
    });

    it("gives member offsets, including bitfields and nested paths", () => {
      expect(btf.findMember(all.id, "u")).toMatchObject({ bitOffset: 128, byteOffset: 16, bitfieldSize: 0 });
      expect(btf.findMember(all.id, "bits.c")).toMatchObject({ bitOffset: 8, bitfieldSize: 7 });
      expect(btf.findMember(all.id, "bits.d")).toMatchObject({
        bitOffset: 15,
        bitfieldSize: 40,
        byteOffset: 1,
      });
      expect(btf.findMember(all.id, "u.bytes")).toMatchObject({ bitOffset: 128 });
      expect(btf.findMember(all.id, "nope")).toBeUndefined();
      expect(btf.members(all.id).map((m) => m.name)).toContain("flex");
      expect(() => btf.members(btf.findByName("int")!.id)).toThrow(BtfError);
    });

    it("reads enum values with their signedness", () => {
      const small = btf.findByName("btf_small", BtfKind.Enum)!;
      // clang 14 emits enums unsigned: -2 is stored as 0xfffffffe.
      expect(btf.enumValue(small.id, "SMALL_A")).toBe(small.signed ? -2 : 0xfffffffe);
      expect(btf.enumValue(small.id, "SMALL_B")).toBe(3);
      expect(btf.enumValue(small.id, "NOPE")).toBeUndefined();
    });

    it("resolves through typedefs, qualifiers and type tags", () => {
      const cv = btf.findMember(all.id, "cv")!;
      const r = btf.resolve(cv.type);
      expect(r.kind === BtfKind.Int && r.encoding === IntEncoding.Signed).toBe(true);
      const up = btf.resolve(btf.findMember(all.id, "up")!.type);
      expect(up.kind).toBe(BtfKind.Ptr);
      if (up.kind === BtfKind.Ptr) expect(btf.typeById(up.type).kind).toBe(BtfKind.TypeTag);
    });

    it("spells C-like type names", () => {
      const name = (m: string) => {
        const x = btf.findMember(all.id, m)!;
        return btf.typeName(x.type, m);
      };
      expect(name("cv")).toBe("const volatile int cv");
      expect(name("rp")).toBe("int *restrict rp");
      expect(name("opaque")).toBe("struct btf_opaque *opaque");
      expect(name("fu")).toBe("union btf_fwd_union *fu");
      expect(name("matrix")).toBe("int matrix[2][3]");
      expect(name("fn")).toBe("int (*fn)(int, struct btf_bits *)");
      expect(btf.typeName(btf.findByName("btf_helper", BtfKind.Func)!.id)).toBe(
        "int btf_helper(struct btf_all *p, int x)",
      );
      const up = btf.resolve(btf.findMember(all.id, "up")!.type).id;
      expect(btf.typeName(up)).toBe('int __attribute__((btf_type_tag("user"))) *');
    });

    it("iterates over its own types in id order", () => {
      const ids = [...btf].map((t) => t.id);
      expect(ids[0]).toBe(1);
      expect(ids.length).toBe(btf.count - 1);
      expect(btf.types().length).toBe(btf.count - 1);
    });
  });
}

describe("names outside ASCII and in split BTF", () => {
  it("finds types whose names are not ASCII (per-name decoding path)", () => {
    const b = new BtfBuilder();
    const int = b.addInt("int", 4, IntEncoding.Signed);
    b.addTypedef("naïve_t", int);
    b.addTypedef("naïve_t", int);
    b.addStruct("größe", 4, [{ name: "ü", type: int, bitOffset: 0 }]);
    const btf = b.build();
    expect(btf.findIdsByName("naïve_t")).toEqual([2, 3]);
    expect(btf.findByName("größe", BtfKind.Struct)?.members[0].name).toBe("ü");
    expect(btf.name(4)).toBe("größe");
    expect(formatRaw(btf)).toContain("[4] STRUCT 'größe' size=4 vlen=1");
  });

  it("finds split types named by base strings, and base types first", () => {
    const base = new BtfBuilder();
    const int = base.addInt("int", 4, IntEncoding.Signed);
    base.addTypedef("shared", int);
    const baseBtf = base.build();
    const split = new BtfBuilder({ base: baseBtf });
    split.addStruct("shared", 4, [{ name: "x", type: int, bitOffset: 0 }]);
    split.addTypedef("own", int);
    const btf = split.build();
    expect(btf.findIdsByName("shared")).toEqual([2, 3]);
    expect(btf.findByName("shared")?.kind).toBe(BtfKind.Typedef);
    expect(btf.findByName("shared", BtfKind.Struct)?.id).toBe(3);
    expect(btf.findByName("own")?.id).toBe(4);
    expect(btf.findByName("int")?.id).toBe(1);
    expect(btf.findByName("")).toBeUndefined();
  });
});

describe("findIdsByEssentialName (CO-RE candidates)", () => {
  function build(names: string[], base?: ReturnType<BtfBuilder["build"]>) {
    const b = new BtfBuilder(base ? { base } : {});
    const int = base ? 1 : b.addInt("int", 4, IntEncoding.Signed);
    for (const n of names) b.addStruct(n, 4, [{ name: "x", type: int, bitOffset: 0 }]);
    return b.build();
  }

  for (const ascii of [true, false]) {
    it(`matches the name and its ___flavor variants, in id order (${ascii ? "ASCII" : "non-ASCII"} strings)`, () => {
      // A non-ASCII name anywhere switches the BTF to its per-name (Map) index.
      const extra = ascii ? "plain" : "größe";
      const btf = build([
        "task___v2",
        "task",
        extra,
        "task___v1",
        "task__x",
        "task____y",
        "_task",
        "task___",
      ]);
      // ids: int=1, task___v2=2, task=3, extra=4, task___v1=5, task__x=6, task____y=7, _task=8, task___=9
      expect(btf.findIdsByEssentialName("task")).toEqual([2, 3, 5]);
      // "task____y": the separator must be X___Y with X and Y not underscores, so it is its own essential name.
      expect(btf.findIdsByEssentialName("task____y")).toEqual([7]);
      expect(btf.findIdsByEssentialName("task___")).toEqual([9]);
      expect(btf.findIdsByEssentialName("nothing")).toEqual([]);
      // The last separator counts, as in libbpf: a___b___c is a flavor of a___b.
      const nested = build(["a___b___c", "a___b", "a"]);
      expect(nested.findIdsByEssentialName("a___b")).toEqual([2, 3]);
      expect(nested.findIdsByEssentialName("a")).toEqual([3, 4]); // a___b is a flavor of a
    });
  }

  it("searches base types first, then the split BTF's own", () => {
    const base = build(["sock___old", "sock"]);
    const split = build(["sock___new", "other"], base);
    expect(split.findIdsByEssentialName("sock")).toEqual([2, 3, 4]);
  });
});
