import { existsSync } from "node:fs";
import { loadKernelBtf } from "@ebpf/btf/node";
import { describe, expect, it } from "vitest";
import { CoreReloKind, constant, type Instruction, LD_IMM64, POISON_CALL_IMM } from "../src/index.js";
import { expectedCoreKinds, fixturePath, loadObject, loadObjectFile, relocate } from "./helpers.js";

/** Constants stored into out[k] by straight-line code: `rX = imm; *(u64 *)(rOut + 8k) = rX`. */
function storedConstants(insns: Instruction[]): Map<number, bigint> {
  const regs = new Map<number, bigint>();
  const out = new Map<number, bigint>();
  for (const i of insns) {
    if (i.opcode === 0xb7) regs.set(i.dst, BigInt(i.imm));
    else if (i.opcode === LD_IMM64 && i.src === 0) regs.set(i.dst, constant(i));
    else if (i.opcode === 0x7b && regs.has(i.src)) out.set(i.offset / 8, regs.get(i.src)!);
  }
  return out;
}

describe.runIf(existsSync("/sys/kernel/btf/vmlinux"))("CO-RE kinds against the running kernel's BTF", () => {
  const obj = loadObject("core_kinds");
  const kernel = loadKernelBtf();
  const result = relocate(obj, kernel);
  const prog = result.programs.find((p) => p.name === "core_kinds")!;
  const expected = expectedCoreKinds(kernel, obj.btf);

  it("computes every relocation value as the kernel's types dictate", () => {
    const got = storedConstants(prog.instructions);
    for (let k = 0; k <= 26; k++) {
      if (k === 25) continue; // behind a branch, checked by the kernel test run
      expect({ k, v: got.get(k) }).toEqual({ k, v: expected[k] });
    }
  });

  it("covers all field, type and enum kinds clang emits", () => {
    const kinds = new Set(result.core.map((c) => c.kind));
    for (const k of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) expect(kinds.has(k)).toBe(true);
  });

  it("poisons the unsatisfiable relocation in dead code, libbpf style", () => {
    expect(prog.poisoned).toHaveLength(1);
    const { slot, poison } = prog.poisoned[0];
    expect(poison.kind).toBe(CoreReloKind.FIELD_BYTE_OFFSET);
    expect(poison.local).toContain("task_struct___mine.no_such_field_here");
    let s = 0;
    const insn = prog.instructions.find((i) => {
      const hit = s === slot;
      s += i.opcode === LD_IMM64 ? 2 : 1;
      return hit;
    })!;
    expect(insn).toMatchObject({ opcode: 0x85, src: 0, imm: POISON_CALL_IMM });
  });

  it("reports local and target specs as type paths", () => {
    const skbNext = result.core.find((c) => c.local.includes("sk_buff___flat.next"))!;
    expect(skbNext.target).toMatch(/struct sk_buff\.next \(0:0:0:0 @ offset 0\)/);
    const missing = result.core.find((c) => c.local.includes("no_such_kernel_type___x"))!;
    expect(missing.target).toBeUndefined();
    expect(missing.newVal).toBe(0n);
  });
});

describe.runIf(existsSync("/sys/kernel/btf/vmlinux"))("strict mode", () => {
  it("throws on a poisoned relocation, naming function, relocation, type path and source line", () => {
    const obj = loadObject("core_poison");
    let err: unknown;
    try {
      relocate(obj, loadKernelBtf(), { strict: true });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "ERR_EBPF_CORE_POISONED" });
    expect((err as Error).message).toMatch(
      /program "core_poisoned": CO-RE relocation #0 \(byte_off \[\d+\] struct task_struct___poison\.field_the_kernel_lacks \(0:1 @ offset 4\)\): no match in the target BTF at .*core_poison\.bpf\.c:\d+/,
    );
  });
});

describe.runIf(existsSync("/sys/kernel/btf/vmlinux"))("TYPE_MATCHES (clang-16 fixture)", () => {
  it("matches subsets and rejects changed member types, unknown enumerators and kind changes", () => {
    const obj = loadObjectFile(fixturePath("core_matches.bpf.o"));
    const out = relocate(obj, loadKernelBtf());
    const got = storedConstants(out.programs[0].instructions);
    expect([0, 1, 2, 3, 4, 5, 6].map((k) => got.get(k))).toEqual([1n, 0n, 1n, 0n, 0n, 1n, 1n]);
    expect(out.core.filter((c) => c.kind === CoreReloKind.TYPE_MATCHES)).toHaveLength(6);
  });
});
