// Linking, map/data/extern relocations and malformed relocation input, on the compiled test objects
// (pure: no kernel; kernel BTF only where CO-RE needs a target).
import { existsSync } from "node:fs";
import { BtfKind } from "@ebpf/btf";
import { loadKernelBtf } from "@ebpf/btf/node";
import type { BpfObjectSpec } from "@ebpf/elf";
import { describe, expect, it } from "vitest";
import {
  CALL,
  disassemble,
  fromBtf,
  type Instruction,
  kconfigLayout,
  LD_IMM64,
  POISON_CALL_KFUNC_BASE,
  PseudoLd,
  RelocationError,
  relocateObject,
  slots,
} from "../src/index.js";
import { loadObject, relocate } from "./helpers.js";

const hasKernelBtf = existsSync("/sys/kernel/btf/vmlinux");

/** Slot index → instruction. */
function bySlot(insns: Instruction[]): Map<number, Instruction> {
  const m = new Map<number, Instruction>();
  let s = 0;
  for (const i of insns) {
    m.set(s, i);
    s += slots(i);
  }
  return m;
}

describe("linking", () => {
  const obj = loadObject("reloc_link");
  const out = relocateObject(obj.spec, { localBtf: fromBtf(obj.btf), ext: obj.ext });
  const callback = loadObject("reloc_callback");

  it("appends each reachable subprogram once, depth-first in first-call order (libbpf's layout)", () => {
    const main = out.programs.find((p) => p.name === "link_main")!;
    expect(main.subprograms).toEqual(["add_square", "square", "global_helper"]);
    const other = out.programs.find((p) => p.name === "link_other")!;
    expect(other.subprograms).toEqual(["square", "global_helper"]);
    // A callback (ld_imm64 of a function) is appended where it is first referenced, like a call.
    const cb = relocateObject(callback.spec, { localBtf: fromBtf(callback.btf), ext: callback.ext });
    expect(cb.programs[0].subprograms).toEqual(["loop_cb", "square"]);
  });

  it("points every call and callback reference at the start of its function", () => {
    const cb = relocateObject(callback.spec, { localBtf: fromBtf(callback.btf), ext: callback.ext });
    for (const p of [...out.programs, ...cb.programs]) {
      const slotsOf = bySlot(p.instructions);
      let s = 0;
      for (const i of p.instructions) {
        const isCall = i.opcode === CALL && i.src === 1;
        const isFunc = i.opcode === LD_IMM64 && i.src === PseudoLd.FUNC;
        if (isCall || isFunc) {
          const target = slotsOf.get(s + i.imm + 1);
          expect(target?.symbol, `${p.name} slot ${s}`).toBe(i.reference?.name);
        }
        s += slots(i);
      }
    }
  });

  it("carries func_info for every function and line_info for the whole program", () => {
    const main = out.programs.find((p) => p.name === "link_main")!;
    expect(main.funcInfo.map((f) => obj.btf.name(f.typeId))).toEqual([
      "link_main",
      "add_square",
      "square",
      "global_helper",
    ]);
    expect(main.funcInfo[0].insnOff).toBe(0);
    expect(main.lineInfo.length).toBeGreaterThan(10);
    expect(disassemble(main.instructions)).toMatch(/^global_helper:$/m);
    const cb = relocateObject(callback.spec, { localBtf: fromBtf(callback.btf), ext: callback.ext });
    expect(cb.programs[0].funcInfo.map((f) => callback.btf.name(f.typeId))).toEqual([
      "callback_main",
      "loop_cb",
      "square",
    ]);
  });

  it("resolves maps and global data to fd placeholders with offsets, or to fd_array indexes", () => {
    const main = out.programs.find((p) => p.name === "link_main")!;
    const lds = main.instructions.filter((i) => i.opcode === LD_IMM64 && i.reference);
    const map = lds.find((i) => i.reference?.kind === "map")!;
    expect(map).toMatchObject({ src: PseudoLd.MAP_FD, imm: out.mapNames.indexOf("results"), imm2: 0 });
    const data = lds.filter((i) => i.reference?.kind === "data");
    expect(data.map((i) => [i.src, out.mapNames[i.imm], i.imm2])).toEqual(
      expect.arrayContaining([
        [PseudoLd.MAP_VALUE, ".data", 0],
        [PseudoLd.MAP_VALUE, ".rodata", 0],
        [PseudoLd.MAP_VALUE, ".bss", 0],
      ]),
    );
    const byIdx = relocateObject(obj.spec, {
      localBtf: fromBtf(obj.btf),
      ext: obj.ext,
      mapMode: "index",
      mapValue: (n) => (n === "results" ? 7 : undefined),
    });
    const ins = byIdx.programs[0].instructions.filter((i) => i.reference?.kind === "map");
    expect(ins[0]).toMatchObject({ src: PseudoLd.MAP_IDX, imm: 7 });
    expect(byIdx.programs[0].instructions.find((i) => i.reference?.kind === "data")?.src).toBe(
      PseudoLd.MAP_IDX_VALUE,
    );
  });

  it("lists the maps each program uses, in order of first use", () => {
    expect(out.programs.map((p) => [p.name, p.maps])).toEqual([
      ["link_main", [".rodata", "results", ".data", ".bss"]],
      ["link_other", [".data", ".bss"]],
    ]);
  });

  it("big-endian objects link to the same program", () => {
    const eb = loadObject("reloc_link", "eb");
    const outEb = relocateObject(eb.spec, { localBtf: fromBtf(eb.btf), ext: eb.ext });
    const strip = (i: Instruction) => [i.opcode, i.dst, i.src, i.offset, i.imm, i.imm2 ?? 0];
    expect(outEb.programs.map((p) => p.instructions.map(strip))).toEqual(
      out.programs.map((p) => p.instructions.map(strip)),
    );
  });
});

describe.runIf(hasKernelBtf)("CO-RE in big-endian objects", () => {
  it("gives the little-endian values except the byte-order dependent left shifts", () => {
    const kernel = loadKernelBtf();
    const le = relocate(loadObject("core_kinds"), kernel);
    const eb = relocate(loadObject("core_kinds", "eb"), kernel);
    const diff = le.core.flatMap((c, k) => (c.newVal !== eb.core[k].newVal ? [c.kind] : []));
    expect(new Set(diff)).toEqual(new Set([4])); // FIELD_LSHIFT_U64 only
  });
});

describe("externs", () => {
  const obj = loadObject("reloc_extern");
  const kernelIds = new Map([
    ["bpf_task_acquire", 111],
    ["bpf_task_release", 222],
  ]);
  const ksym = (e: { name: string }) => {
    const id = kernelIds.get(e.name);
    return id === undefined ? undefined : { btfId: id, fdArrayIndex: 0 };
  };
  const run = (extra = {}) =>
    relocateObject(obj.spec, {
      localBtf: fromBtf(obj.btf),
      ext: obj.ext,
      target: { typeCount: 1, type: () => undefined },
      ksym,
      ...extra,
    });

  it("lays out .kconfig like libbpf (alignment desc, size asc, name)", () => {
    const { offsets, size } = kconfigLayout(obj.spec.externs, fromBtf(obj.btf));
    // Offsets printed by libbpf 1.1 (`bpftool -d prog loadall`) for this object.
    expect(Object.fromEntries(offsets)).toEqual({
      CONFIG_BPF_JIT: 0,
      CONFIG_HZ: 4,
      CONFIG_NOT_A_REAL_OPTION_XYZ: 8,
      LINUX_KERNEL_VERSION: 12,
      CONFIG_BPF_SYSCALL: 16,
      CONFIG_DEFAULT_HOSTNAME: 17,
    });
    expect(size).toBe(33);
  });

  it("kconfig loads become map-value loads of .kconfig; kfuncs get BTF ids; a weak missing kfunc is poisoned", () => {
    const p = run().programs[0];
    const kcfg = p.instructions.filter((i) => i.reference?.kind === "kconfig");
    expect(kcfg.map((i) => [i.src, i.imm2])).toContainEqual([PseudoLd.MAP_VALUE, 12]);
    const calls = p.instructions.filter((i) => i.opcode === CALL && i.reference?.kind === "kfunc");
    expect(calls.map((i) => [i.src, i.imm, i.offset])).toEqual([
      [2, 111, 0],
      [2, 222, 0],
      [0, POISON_CALL_KFUNC_BASE + 6, 0], // libbpf numbers it extern #6
    ]);
    // Address tests of weak kfuncs (`if (bpf_task_acquire)`): BTF-id loads when resolved, 0 when not.
    const addrs = p.instructions.filter((i) => i.opcode === LD_IMM64 && i.reference?.kind === "kfunc");
    expect(addrs.map((i) => [i.reference?.name, i.src, i.imm, i.imm2])).toEqual([
      ["bpf_task_release", PseudoLd.BTF_ID, 222, 0],
      ["bpf_task_acquire", PseudoLd.BTF_ID, 111, 0],
      ["bpf_kfunc_that_does_not_exist", 0, 0, 0],
    ]);
  });

  it("weak kfuncs the kernel lacks (bpf_task_acquire before 6.2) are poisoned calls and 0 addresses", () => {
    const p = run({ ksym: () => undefined }).programs[0];
    const calls = p.instructions.filter((i) => i.opcode === CALL && i.reference?.kind === "kfunc");
    // libbpf numbers the ksym externs after the 6 kconfig ones, by name.
    expect(calls.map((i) => [i.reference?.name, i.src, i.imm])).toEqual([
      ["bpf_task_acquire", 0, POISON_CALL_KFUNC_BASE + 7],
      ["bpf_task_release", 0, POISON_CALL_KFUNC_BASE + 8],
      ["bpf_kfunc_that_does_not_exist", 0, POISON_CALL_KFUNC_BASE + 6],
    ]);
    const addrs = p.instructions.filter((i) => i.opcode === LD_IMM64 && i.reference?.kind === "kfunc");
    expect(addrs.map((i) => [i.src, i.imm, i.imm2])).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  it("module kfuncs carry their fd_array index in the call's offset", () => {
    const p = run({
      ksym: (e: { name: string }) =>
        e.name.startsWith("bpf_task") ? { btfId: 9, fdArrayIndex: 3 } : undefined,
    }).programs[0];
    const calls = p.instructions.filter((i) => i.opcode === CALL && i.src === 2);
    expect(calls.map((i) => [i.imm, i.offset])).toEqual([
      [9, 3],
      [9, 3],
    ]);
  });

  it("a non-weak kernel symbol that cannot be resolved is an error naming it", () => {
    // The same object with bpf_task_acquire declared without __weak (libbpf fails such an object too).
    const spec = structuredClone(obj.spec);
    spec.externs = spec.externs.map((e) => (e.name === "bpf_task_acquire" ? { ...e, weak: false } : e));
    const strict = () =>
      relocateObject(spec, {
        localBtf: fromBtf(obj.btf),
        ext: obj.ext,
        target: { typeCount: 1, type: () => undefined },
        ksym: () => undefined,
      });
    expect(strict).toThrow(RelocationError);
    expect(strict).toThrow(/kernel symbol "bpf_task_acquire" not found/);
  });

  it.runIf(hasKernelBtf)("typed __ksym variables become BTF-id loads; weak missing ones load 0", () => {
    const o = loadObject("reloc_ksym");
    const kernel = loadKernelBtf();
    const res = relocateObject(o.spec, {
      localBtf: fromBtf(o.btf),
      ext: o.ext,
      target: fromBtf(kernel),
      ksym: (e) => {
        const id = kernel.findIdsByName(e.name, BtfKind.Var)[0];
        return id === undefined ? undefined : { btfId: id, btfObjFd: 0 };
      },
    });
    const lds = res.programs[0].instructions.filter((i) => i.reference?.kind === "ksym");
    expect(lds.map((i) => [i.reference?.name, i.src, i.imm])).toEqual([
      ["runqueues", PseudoLd.BTF_ID, kernel.findIdsByName("runqueues", BtfKind.Var)[0]],
      ["no_such_kernel_variable", 0, 0],
    ]);
  });
});

describe("malformed relocation input gives typed errors", () => {
  const obj = loadObject("reloc_link");
  const clone = (): BpfObjectSpec => structuredClone(obj.spec);
  const relocateSpec = (spec: BpfObjectSpec) =>
    relocateObject(spec, { localBtf: fromBtf(obj.btf), ext: obj.ext });

  it("a call to a missing function", () => {
    const spec = clone();
    spec.subprograms = spec.subprograms.filter((f) => f.name !== "square");
    expect(() => relocateSpec(spec)).toThrow(RelocationError);
    // square is static, called pc-relative without a relocation: named by its location.
    expect(() => relocateSpec(spec)).toThrow(/"add_square" instruction 2 calls missing function \.text\+64/);
  });

  it("a relocation pointing outside its function", () => {
    const spec = clone();
    const r = spec.programs[0].relocations[0];
    spec.programs[0].relocations.push({ ...r, offset: 8 * 10_000, insnIndex: 10_000 });
    expect(() => relocateSpec(spec)).toThrow(/outside the function/);
  });

  it("a relocation pointing into the second half of an ld_imm64", () => {
    const spec = clone();
    const r = spec.programs[0].relocations.find((x) => x.target.kind === "map")!;
    spec.programs[0].relocations.push({ ...r, offset: r.offset + 8, insnIndex: r.insnIndex + 1 });
    expect(() => relocateSpec(spec)).toThrow(/inside an ld_imm64/);
  });

  it("a map relocation on an instruction that is not ld_imm64", () => {
    const spec = clone();
    const r = spec.programs[0].relocations.find((x) => x.target.kind === "map")!;
    const exit = spec.programs[0].instructions.length / 8 - 1; // the program's last instruction
    spec.programs[0].relocations.push({ ...r, offset: exit * 8, insnIndex: exit });
    expect(() => relocateSpec(spec)).toThrow(/non-ld_imm64/);
  });

  it("a reference to a map the object does not define", () => {
    const spec = clone();
    spec.maps = [];
    expect(() => relocateSpec(spec)).toThrow(/unknown map "results"/);
  });

  it("truncated instruction bytes", () => {
    const spec = clone();
    spec.programs[0].instructions = spec.programs[0].instructions.subarray(0, 13);
    expect(() => relocateSpec(spec)).toThrow(/multiple of 8/);
  });
});
