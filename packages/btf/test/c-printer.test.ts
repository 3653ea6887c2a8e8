import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BtfKind, CPrinterError, formatC, parseBtf } from "@ebpf/btf";
import { objectDir } from "@ebpf/test-programs";
import { describeRequires, itRequires, needsPath, needsTool } from "@ebpf/testing";
import { describe, expect, it } from "vitest";
import { compileBpf, layoutDifferences, uniqueComposites } from "./c-printer-roundtrip.js";
import { buildBtf } from "./codec-fixtures.js";
import { elfSection } from "./helpers/elf-section.js";

const fixtures = join(import.meta.dirname, "fixtures", "codec");
const load = (name: string) => parseBtf(readFileSync(join(fixtures, name)));

describe("formatC on the fixture types", () => {
  const btf = load("types.el.btf");
  const header = formatC(btf);

  it("prints declarators of every shape", () => {
    expect(header).toContain("typedef int (*callback_t)(struct node *, const char *);");
    expect(header).toContain("\tvoid (*handlers[2])(int);");
    expect(header).toContain("\tconst char * const *names;".replace("* const", "*const"));
    expect(header).toContain("\tint (*matrix_ptr)[3];");
    expect(header).toContain("\tint matrix[2][3];");
    expect(header).toContain("\tconst volatile int cv;");
    expect(header).toContain("\tint flex[0];");
    expect(header).toMatch(/typedef struct {\n\tu32 id;\n\tu64 value;\n} pair_t;/);
  });

  it("prints bitfields, packed structs and padding", () => {
    expect(header).toContain("\tunsigned int a: 3;");
    expect(header).toContain("\ts64 g: 33;");
    expect(header).toMatch(/struct packed_s {[^}]*} __attribute__\(\(packed\)\);/);
    // struct aligned_s { char c; int x __aligned(16) } needs explicit padding before x and at the end.
    expect(header).toMatch(/struct aligned_s {\n\tchar c;\n(\t\w+: \d+;\n)+\tint x;\n(\t\w+: \d+;\n)+};/);
    expect(header).toMatch(/enum small {[^}]*} __attribute__\(\(mode\(QI\)\)\);/);
  });

  it("forward-declares a struct used through pointers before it is defined", () => {
    const fwd = header.indexOf("struct node;");
    const use = header.indexOf("typedef int (*callback_t)");
    expect(fwd).toBeGreaterThan(-1);
    expect(fwd).toBeLessThan(use);
    expect(header.indexOf("struct node {")).toBeGreaterThan(use);
  });

  it("wraps the types in preserve_access_index and an include guard", () => {
    expect(header.startsWith("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n")).toBe(true);
    expect(header).toContain(
      "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)",
    );
    expect(header.trimEnd().endsWith("#endif /* __VMLINUX_H__ */")).toBe(true);
    const bare = formatC(btf, { guard: null, preserveAccessIndex: false });
    expect(bare).not.toContain("#pragma");
    expect(bare).not.toContain("#ifndef");
  });

  it("prints only the requested roots and what they need", () => {
    const node = btf.findByName("node", BtfKind.Struct)!;
    const out = formatC(btf, { roots: [node.id] });
    expect(out).toContain("struct node {");
    expect(out).toContain("typedef int (*callback_t)");
    expect(out).not.toContain("struct all {");
  });

  itRequires(needsTool("clang"))("compiles, and clang lays the types out exactly as the BTF says", () => {
    for (const endian of ["el", "eb"]) {
      const b = load(`types.${endian}.btf`);
      const diffs = layoutDifferences(b, formatC(b), uniqueComposites(b), `bpf${endian}`);
      expect(diffs).toEqual([]);
    }
  });
});

describe("formatC edge cases", () => {
  it("renames duplicate names with ___N like bpftool, and keeps anonymous enums' constants", () => {
    const btf = buildBtf((b) => {
      const int = b.int("int", 4, true);
      b.struct("dup", 4, [{ name: "a", type: int, bitOffset: 0 }]);
      b.struct("dup", 8, [
        { name: "a", type: int, bitOffset: 0 },
        { name: "b", type: int, bitOffset: 32 },
      ]);
      b.enum("", 4, [
        ["ANON_X", 1],
        ["ANON_Y", 2],
      ]);
      b.typedef("dup_t", int);
      b.typedef("dup_t", b.ptr(int));
    });
    const h = formatC(btf);
    expect(h).toContain("struct dup {");
    expect(h).toContain("struct dup___2 {");
    expect(h).toContain("typedef int dup_t;");
    expect(h).toContain("typedef int *dup_t___2;");
    expect(h).toMatch(/enum {\n\tANON_X = 1,\n\tANON_Y = 2,\n};/);
  });

  it("prints 64-bit enums with suffixes and the recorded size", () => {
    const btf = buildBtf((b) => {
      b.enum64("e64", 8, [
        ["SMALL", 1n],
        ["BIG", 0xffffffffffffffffn],
      ]);
      b.enum64("e64small", 8, [["ONE", 1n]]);
    });
    const h = formatC(btf);
    expect(h).toContain("BIG = 18446744073709551615ULL,");
    expect(h).toMatch(/enum e64 {[^}]*}\n?;/);
    expect(h).toMatch(/enum e64small {[^}]*} __attribute__\(\(mode\(DI\)\)\);/);
  });

  itRequires(needsTool("clang"))(
    "declares kfuncs (FUNCs tagged bpf_kfunc) on request, like newer bpftool",
    () => {
      const btf = buildBtf((b) => {
        const int = b.int("int", 4, true);
        const task = b.struct("task", 4, [{ name: "pid", type: int, bitOffset: 0 }]);
        const proto = b.funcProto(b.ptr(task), [["p", b.ptr(task)]]);
        const acquire = b.func("task_acquire", proto, 2);
        b.declTag("bpf_kfunc", acquire);
        const fast = b.func("fast_one", b.funcProto(int, []), 2);
        b.declTag("bpf_kfunc", fast);
        b.declTag("bpf_fastcall", fast);
        b.func("not_a_kfunc", proto, 2);
      });
      expect(formatC(btf)).not.toContain("__ksym");
      const h = formatC(btf, { kfuncs: true });
      expect(h).toContain("#ifndef BPF_NO_KFUNC_PROTOTYPES");
      expect(h).toContain("extern struct task *task_acquire(struct task *p) __weak __ksym;");
      expect(h).toContain("extern int fast_one(void) __bpf_fastcall __weak __ksym;");
      expect(h).not.toContain("not_a_kfunc");
      compileBpf(
        h,
        '#include "vmlinux.h"\nint use(struct task *t) { return task_acquire(t)->pid + fast_one(); }\n',
      );
    },
  );

  it("throws CPrinterError for a struct that contains itself by value", () => {
    const btf = buildBtf((b) => {
      // [1] struct loop { struct loop inner; }
      b.struct("loop", 4, [{ name: "inner", type: 1, bitOffset: 0 }]);
    });
    expect(() => formatC(btf)).toThrow(CPrinterError);
  });

  it("throws CPrinterError for an unknown root", () => {
    const btf = buildBtf((b) => {
      b.int("int", 4, true);
    });
    expect(() => formatC(btf, { roots: [99] })).toThrow(CPrinterError);
  });

  itRequires(needsTool("clang"))(
    "compiles type tags, restrict pointers, function pointers returning pointers",
    () => {
      const btf = buildBtf((b) => {
        const int = b.int("int", 4, true);
        const char = b.int("char", 1, true);
        const tagged = b.typeTag("user", int);
        const fp = b.funcProto(b.ptr(char), [
          ["a", b.restrict(b.ptr(tagged))],
          ["", 0],
        ]);
        b.typedef("fn_t", b.ptr(fp));
        const inner = b.funcProto(int, [["x", int]]);
        const outer = b.funcProto(b.ptr(inner), []);
        b.typedef("getter_t", b.ptr(outer));
      });
      const h = formatC(btf, { preserveAccessIndex: false });
      expect(h).toContain(
        'typedef char *(*fn_t)(int __attribute__((btf_type_tag("user"))) *restrict a, ...);',
      );
      expect(h).toContain("typedef int (*(*getter_t)(void))(int x);");
      compileBpf(h, '#include "vmlinux.h"\nfn_t f;\ngetter_t g;\n');
    },
  );
});

describeRequires(needsTool("clang"), needsPath(objectDir("el"), "pnpm build"))(
  "formatC on the BTF of every BPF test object",
  () => {
    for (const endian of ["el", "eb"] as const) {
      it(`prints headers that reproduce every layout (${endian})`, () => {
        const objects = readdirSync(objectDir(endian)).filter((f) => f.endsWith(".bpf.o"));
        expect(objects.length).toBeGreaterThan(0);
        for (const file of objects) {
          const raw = elfSection(readFileSync(join(objectDir(endian), file)), ".BTF");
          if (!raw) continue;
          const btf = parseBtf(raw.slice());
          const diffs = layoutDifferences(btf, formatC(btf), uniqueComposites(btf), `bpf${endian}`);
          expect(diffs, file).toEqual([]);
        }
      }, 120_000);
    }
  },
);
