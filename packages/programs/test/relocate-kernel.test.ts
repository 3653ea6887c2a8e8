// @ebpf/relocate's kernel proof. It lives here, in a package that may use @ebpf/sys, so that relocate stays
// pure down to its dev dependencies; it shares relocate's test helpers and fixtures.
// (b) libbpf as an oracle: the same object loaded by bpftool (libbpf) and by us must give the kernel's
// identical xlated instructions (map ids normalised), with line info on the same instructions.
// (c) our relocated programs run in the kernel (BPF_PROG_TEST_RUN) and compute the expected values.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { BtfKind } from "@ebpf/btf";
import { loadKernelBtf } from "@ebpf/btf/node";
import type { BpfObjectSpec } from "@ebpf/elf";
import {
  CALL,
  encodeFuncInfo,
  encodeInstructions,
  encodeKconfig,
  encodeLineInfo,
  formatInstruction,
  fromBtf,
  type Instruction,
  LD_IMM64,
  POISON_CALL_KFUNC_BASE,
  PseudoCall,
  parseKernelConfig,
  poisonErrorFromLog,
  type RelocatedObject,
} from "@ebpf/relocate";
import {
  BpfAttachType,
  BpfFlags,
  BpfMapType,
  BpfProgType,
  btfLoad,
  type Fd,
  LoadError,
  mapCreate,
  mapFreeze,
  mapLookupElem,
  mapUpdateElem,
  progInfo,
  progLoad,
  progTestRun,
} from "@ebpf/sys";
import { objectPath, vmlinuxHeader } from "@ebpf/test-programs";
import { describeKernel, kernelAtLeast, needsTool } from "@ebpf/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  expectedCoreKinds,
  fixturePath,
  fixupDatasecs,
  type LoadedObject,
  loadObject,
  loadObjectFile,
  relocate,
} from "../../relocate/test/helpers.js";

/** The running kernel's config plus LINUX_KERNEL_VERSION from uname, as libbpf computes them. */
const kernelConfig = (() => {
  let config: Map<string, string> | undefined;
  return (name: string): string | undefined => {
    if (name === "LINUX_KERNEL_VERSION") {
      // libbpf reads "%d.%d.%d" from the release: "6.12.117+deb12-amd64" is 6.12.117.
      const [, a, b, c] = (/^(\d+)\.(\d+)\.(\d+)/.exec(release()) ?? []).map(Number);
      return String((a << 16) + (b << 8) + Math.min(c, 255));
    }
    // Debian kernels have no /proc/config.gz, only /boot/config-<release>.
    config ??= parseKernelConfig(
      existsSync("/proc/config.gz")
        ? gunzipSync(readFileSync("/proc/config.gz")).toString("utf8")
        : readFileSync(`/boot/config-${release()}`, "utf8"),
    );
    return config.get(name);
  };
})();

interface XlatedInsn {
  disasm: string;
  src?: string;
  proto?: string;
  opcodes: { code: string; src_reg: string; dst_reg: string; off: string[]; imm: string[] };
}

/** Rebuild the instruction bpftool shows from its `opcodes` field (little-endian bytes). */
function fromOpcodes(o: XlatedInsn["opcodes"]): Instruction {
  const b = (xs: string[]) => Uint8Array.from(xs.map((x) => Number.parseInt(x, 16)));
  const off = new DataView(b(o.off).buffer).getInt16(0, true);
  const imm = new DataView(b(o.imm).buffer);
  const insn: Instruction = {
    opcode: Number.parseInt(o.code, 16),
    dst: Number.parseInt(o.dst_reg, 16),
    src: Number.parseInt(o.src_reg, 16),
    offset: off,
    imm: imm.getInt32(0, true),
  };
  if (insn.opcode === LD_IMM64) insn.imm2 = imm.getInt32(8, true);
  return insn;
}

function xlated(args: string[]): XlatedInsn[] {
  return JSON.parse(
    execFileSync("bpftool", ["-j", "prog", "dump", "xlated", ...args, "opcodes"], { encoding: "utf8" }),
  );
}

/** Replace map ids with their order of first appearance, so two loads compare equal. */
function normalise(insns: XlatedInsn[]): string[] {
  const ids = new Map<string, number>();
  return insns.map((i) =>
    i.disasm.replace(/map\[id:(\d+)\]/g, (_, id: string) => {
      if (!ids.has(id)) ids.set(id, ids.size);
      return `map[#${ids.get(id)}]`;
    }),
  );
}

/** Load an object with libbpf (bpftool) and return each program's xlated dump. */
function libbpfXlated(name: string, path = objectPath(name)): Map<string, XlatedInsn[]> {
  const dir = `/sys/fs/bpf/relocate_test_${process.pid}_${name}`;
  rmSync(dir, { recursive: true, force: true });
  execFileSync("bpftool", ["prog", "loadall", path, dir], { stdio: "pipe" });
  try {
    const out = new Map<string, XlatedInsn[]>();
    for (const prog of execFileSync("ls", [dir], { encoding: "utf8" }).split("\n").filter(Boolean)) {
      out.set(prog, xlated(["pinned", `${dir}/${prog}`]));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Our side: create every map and data map, relocate with their fds, load every program. */
class OurLoad {
  readonly maps = new Map<string, Fd>();
  readonly progs = new Map<string, Fd>();
  result!: RelocatedObject;

  /**
   * `withBtf` loads the object's BTF with func/line info. Objects with externs need libbpf's BTF
   * sanitizing (extern VAR/FUNC linkage, .ksyms/.kconfig datasecs) before the kernel takes their BTF;
   * that belongs to the loader, so they are loaded without BTF here.
   */
  constructor(
    readonly obj: LoadedObject,
    readonly withBtf = true,
  ) {}

  createMaps(spec: BpfObjectSpec, kernelConfig: (name: string) => string | undefined) {
    for (const m of spec.maps) {
      this.maps.set(
        m.name,
        mapCreate({
          type: m.type,
          keySize: m.keySize,
          valueSize: m.valueSize,
          maxEntries: m.maxEntries,
          flags: m.flags,
        }),
      );
    }
    // Data sections and .kconfig as libbpf makes them: one-element arrays, read-only ones frozen.
    const data = spec.dataSections.map((d) => ({
      name: d.name,
      contents: d.contents,
      readonly: d.kind === "rodata",
    }));
    if (spec.externs.some((e) => e.kind === "kconfig")) {
      const contents = encodeKconfig(spec.externs, fromBtf(this.obj.btf), kernelConfig);
      data.push({ name: ".kconfig", contents, readonly: true });
    }
    for (const d of data) {
      const fd = mapCreate({
        type: BpfMapType.ARRAY,
        keySize: 4,
        valueSize: d.contents.length,
        maxEntries: 1,
        name: d.name.slice(0, 15),
        flags: d.readonly ? BpfFlags.BPF_F_RDONLY_PROG : 0,
      });
      mapUpdateElem(fd, new Uint8Array(4), d.contents);
      if (d.readonly) mapFreeze(fd);
      this.maps.set(d.name, fd);
    }
  }

  load(kernel: ReturnType<typeof loadKernelBtf>, names?: string[]) {
    this.createMaps(this.obj.spec, kernelConfig);
    const btf = this.withBtf ? btfLoad({ btf: fixupDatasecs(this.obj.spec) }) : undefined;
    if (btf) this.maps.set("\0btf", btf);
    this.result = relocate(this.obj, kernel, {
      mapValue: (n) => this.maps.get(n)?.raw,
      ksym: (e) => {
        const id = kernel.findIdsByName(e.name, e.kind === "kfunc" ? BtfKind.Func : BtfKind.Var)[0];
        return id === undefined ? undefined : { btfId: id, fdArrayIndex: 0 };
      },
    });
    for (const p of this.result.programs) {
      if (names && !names.includes(p.name)) continue;
      const ps = this.obj.spec.programs.find((x) => x.name === p.name)!;
      const type = BpfProgType[ps.type.replace("BPF_PROG_TYPE_", "") as keyof typeof BpfProgType];
      const attach = ps.expectedAttachType?.replace(/^BPF_/, "") as keyof typeof BpfAttachType | undefined;
      // BTF attach targets as libbpf finds them: tp_btf → typedef btf_trace_<tp>, iter → func bpf_iter_<name>.
      const attachBtfId =
        ps.expectedAttachType === "BPF_TRACE_RAW_TP"
          ? kernel.findIdsByName(`btf_trace_${ps.attachTo}`, BtfKind.Typedef)[0]
          : ps.expectedAttachType === "BPF_TRACE_ITER"
            ? kernel.findIdsByName(`bpf_iter_${ps.attachTo}`, BtfKind.Func)[0]
            : undefined;
      const logBuf = new Uint8Array(1 << 20);
      try {
        this.progs.set(
          p.name,
          progLoad({
            type,
            expectedAttachType: attach ? BpfAttachType[attach] : undefined,
            attachBtfId,
            insns: encodeInstructions(p.instructions),
            license: "GPL",
            name: p.name,
            logBuf,
            logLevel: 1,
            ...(btf && {
              btfFd: btf,
              funcInfo: encodeFuncInfo(p.funcInfo),
              funcInfoCnt: p.funcInfo.length,
              funcInfoRecSize: 8,
              lineInfo: encodeLineInfo(p.lineInfo),
              lineInfoCnt: p.lineInfo.length,
              lineInfoRecSize: 16,
            }),
          }),
        );
      } catch (e) {
        if (e instanceof LoadError) {
          const poison = poisonErrorFromLog(p, e.log);
          if (poison) throw poison;
          e.message = `program "${p.name}": ${e.message}\n${e.log}`;
        }
        throw e;
      }
    }
  }

  xlated(name: string): XlatedInsn[] {
    return xlated(["id", String(progInfo(this.progs.get(name)!).id)]);
  }

  mapValue(name: string, key: number, size: number): Uint8Array {
    const k = new Uint8Array(4);
    new DataView(k.buffer).setUint32(0, key, true);
    const v = new Uint8Array(size);
    expect(mapLookupElem(this.maps.get(name)!, k, v)).toBe(true);
    return v;
  }

  run(name: string): number {
    return progTestRun({ progFd: this.progs.get(name)!, dataIn: new Uint8Array(64) }).retval;
  }

  close() {
    for (const fd of [...this.progs.values(), ...this.maps.values()]) fd.close();
  }
}

describeKernel(
  "relocated programs in the kernel, against libbpf",
  () => {
    const kernel = loadKernelBtf();
    const loads: OurLoad[] = [];
    afterAll(() => {
      for (const l of loads) l.close();
    });

    const byName = new Map<string, OurLoad>();
    // Callbacks (ld_imm64 BPF_PSEUDO_FUNC) from 5.13, bpf_loop from 5.17: before, the verifier does not
    // count a callback as a subprogram and refuses the func_info that lists it, libbpf's as ours.
    const hasCallbacks = kernelAtLeast("5.17");
    for (const name of ["core_kinds", "reloc_link", "reloc_callback", "reloc_extern"]) {
      let ours: OurLoad;
      let theirs: Map<string, XlatedInsn[]>;
      if (name === "reloc_callback" && !hasCallbacks) {
        it("reloc_callback: before 5.17 the kernel refuses the callback, libbpf's load and ours alike", () => {
          const l = new OurLoad(loadObject(name));
          loads.push(l);
          const refusal = /number of funcs in func_info doesn't match number of subprogs/;
          let err: unknown;
          try {
            l.load(kernel);
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(LoadError);
          expect((err as LoadError).log).toMatch(refusal);
          // Our func_info is libbpf's: the main program and each subprogram, the callback included.
          const p = l.result.programs[0];
          expect(p.funcInfo.map((f) => l.obj.btf.name(f.typeId))).toEqual([
            "callback_main",
            "loop_cb",
            "square",
          ]);
          let libbpfErr: { stderr?: Buffer } | undefined;
          try {
            libbpfXlated(name);
          } catch (e) {
            libbpfErr = e as { stderr?: Buffer };
          }
          expect(libbpfErr, "libbpf loaded reloc_callback").toBeDefined();
          expect(String(libbpfErr?.stderr)).toMatch(refusal);
        });
        continue;
      }
      beforeAll(() => {
        ours = new OurLoad(loadObject(name), name !== "reloc_extern");
        loads.push(ours);
        byName.set(name, ours);
        ours.load(kernel);
        theirs = libbpfXlated(name);
      });

      it(`${name}: xlated instructions are identical to libbpf's`, () => {
        expect([...ours.progs.keys()].sort()).toEqual([...theirs.keys()].sort());
        for (const [prog, libbpf] of theirs) {
          expect({ prog, insns: normalise(ours.xlated(prog)) }).toEqual({ prog, insns: normalise(libbpf) });
        }
      });

      if (name !== "reloc_extern")
        it(`${name}: our func_info and line_info land where libbpf's do`, () => {
          const annotations = (insns: XlatedInsn[]) =>
            insns.flatMap((i, k) =>
              i.proto !== undefined || i.src !== undefined
                ? [`${k} ${i.proto ?? ""} ; ${i.src?.trim() ?? ""}`]
                : [],
            );
          for (const [prog, libbpf] of theirs) {
            const p = ours.result.programs.find((x) => x.name === prog)!;
            expect(p.funcInfo.length).toBe(libbpf.filter((i) => i.proto !== undefined).length);
            expect({ prog, a: annotations(ours.xlated(prog)) }).toEqual({ prog, a: annotations(libbpf) });
          }
        });
    }

    it("our disassembler prints the kernel's xlated instructions exactly as bpftool does", () => {
      let compared = 0;
      for (const name of [
        "core_kinds",
        "reloc_link",
        "reloc_extern",
        ...(hasCallbacks ? ["reloc_callback"] : []),
      ]) {
        for (const [, insns] of libbpfXlated(name)) {
          for (const x of insns) {
            const insn = fromOpcodes(x.opcodes);
            // bpftool names calls after kernel symbols (helper addresses, jited subprograms).
            if (insn.opcode === CALL) continue;
            expect(formatInstruction(insn)).toBe(x.disasm);
            compared++;
          }
        }
      }
      expect(compared).toBeGreaterThan(150);
    });

    it("cpu v4 instructions and atomics: the kernel accepts our encoding and its verifier prints them as we do", () => {
      const I = (opcode: number, dst: number, src: number, offset: number, imm: number): Instruction => ({
        opcode,
        dst,
        src,
        offset,
        imm,
      });
      // Every kernel: ALU, stores, the 64-bit atomic add, jmp32.
      const base: Instruction[] = [
        I(0xb7, 1, 0, 0, -7), // r1 = -7
        I(0xb7, 2, 0, 0, 2), // r2 = 2
        I(0x7b, 10, 1, -8, 0), // *(u64 *)(r10 -8) = r1
        I(0x63, 10, 2, -12, 0), // *(u32 *)(r10 -12) = r2
        I(0xdb, 10, 2, -8, 0x00), // lock add
        I(0xd4, 1, 0, 0, 16), // r1 = le16 r1
        I(0xdc, 1, 0, 0, 64), // r1 = be64 r1
        I(0x16, 2, 0, 1, 2), // if w2 == 0x2 goto pc+1
        I(0xb7, 0, 0, 0, 1), // r0 = 1
      ];
      // The features a kernel may lack, with the release that brought them.
      const groups: { since: string; what: string; insns: Instruction[] }[] = [
        {
          since: "5.12",
          what: "fetch atomics",
          insns: [
            I(0xdb, 10, 2, -8, 0x01), // fetch add
            I(0xdb, 10, 2, -8, 0x41), // fetch or
            I(0xdb, 10, 2, -8, 0x51), // fetch and
            I(0xdb, 10, 2, -8, 0xa1), // fetch xor
            I(0xdb, 10, 2, -8, 0xe1), // xchg
            I(0xb7, 0, 0, 0, 0),
            I(0xdb, 10, 2, -8, 0xf1), // cmpxchg
            I(0xc3, 10, 2, -12, 0x41), // 32-bit fetch or
          ],
        },
        {
          since: "6.6",
          what: "cpu v4",
          insns: [
            I(0xb7, 1, 0, 0, -7), // r1 = -7
            I(0xb7, 2, 0, 0, 2), // r2 = 2
            I(0x3f, 1, 2, 1, 0), // r1 s/= r2
            I(0x97, 1, 0, 1, 2), // r1 s%= 2
            I(0xbf, 3, 1, 8, 0), // r3 = (s8)r1
            I(0xbc, 4, 1, 16, 0), // w4 = (s16)w1
            I(0xd7, 3, 0, 0, 32), // r3 = bswap32 r3
            I(0x91, 5, 10, -8, 0), // r5 = *(s8 *)(r10 -8)
            I(0x89, 5, 10, -8, 0), // r5 = *(s16 *)(r10 -8)
            I(0x81, 5, 10, -8, 0), // r5 = *(s32 *)(r10 -8)
            I(0x16, 2, 0, 1, 2), // if w2 == 0x2 goto pc+1
            I(0x06, 0, 0, 0, 1), // gotol pc+1 (never taken: w2 is 2)
            I(0xb7, 0, 0, 0, 1), // r0 = 1
          ],
        },
        {
          since: "6.9",
          what: "may_goto",
          insns: [
            I(0xb7, 0, 0, 0, 2), // r0 = 2
            I(0xe5, 0, 0, 1, 0), // may_goto pc+1
          ],
        },
      ];
      const tail = [I(0xb7, 0, 0, 0, 2), I(0x95, 0, 0, 0, 0)]; // r0 = 2; exit
      const load = (insns: Instruction[], logBuf: Uint8Array) =>
        progLoad({
          type: BpfProgType.XDP,
          insns: encodeInstructions(insns),
          license: "GPL",
          logBuf,
          logLevel: 2,
        });
      // Before its release, each feature is refused by the verifier: the typed LoadError.
      for (const g of groups.filter((x) => !kernelAtLeast(x.since))) {
        expect(() => load([...base, ...g.insns, ...tail], new Uint8Array(1 << 16)), g.what).toThrow(
          LoadError,
        );
      }
      const insns = [
        ...base,
        ...groups.filter((x) => kernelAtLeast(x.since)).flatMap((x) => x.insns),
        ...tail,
      ];
      const logBuf = new Uint8Array(1 << 20);
      let fd: Fd;
      try {
        fd = load(insns, logBuf);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${e instanceof LoadError ? e.log : ""}`);
      }
      try {
        // The running kernel's own disassembler (verifier log, level 2) prints each instruction it visits:
        // `12: (91) r5 = *(s8 *)(r10 -8)        ; R5_w=...`. bpftool 7.1 predates cpu v4, so the kernel is
        // the reference here.
        const log = new TextDecoder().decode(logBuf.subarray(0, logBuf.indexOf(0)));
        const bySlot = new Map<number, string>();
        for (const m of log.matchAll(/^(\d+): (\([0-9a-f]{2}\) .*?)(?:\s+;.*)?$/gm))
          bySlot.set(Number(m[1]), m[2]);
        let slot = 0;
        let checked = 0;
        for (const i of insns) {
          const kernelText = bySlot.get(slot);
          if (kernelText !== undefined) {
            expect({ slot, text: formatInstruction(i) }).toEqual({ slot, text: kernelText });
            checked++;
          }
          slot += 1;
        }
        // Not visited: base's r0 = 1 when w2 is known to be 2, cpu v4's gotol.
        expect(checked).toBeGreaterThanOrEqual(insns.length - 2);
        expect(progTestRun({ progFd: fd, dataIn: new Uint8Array(64) }).retval).toBe(2);
      } finally {
        fd.close();
      }
    });

    it("core_kinds: the kernel computes the expected values when our program runs", () => {
      const l = byName.get("core_kinds")!;
      expect(l.run("core_kinds")).toBe(2); // XDP_PASS
      const bss = l.mapValue(".bss", 0, 32 * 8);
      const dv = new DataView(bss.buffer);
      const got = Array.from({ length: 32 }, (_, k) => dv.getBigUint64(k * 8, true));
      expect(got).toEqual(expectedCoreKinds(kernel, l.obj.btf));
    });

    it("reloc_link: subprograms and global data compute the expected values", () => {
      const l = byName.get("reloc_link")!;
      expect(l.run("link_main")).toBe(2);
      const results = [0, 1, 2, 3].map((k) =>
        new DataView(l.mapValue("results", k, 8).buffer).getBigUint64(0, true),
      );
      expect(results).toEqual([10n, 14n, 42n, 49n]);
      expect(l.run("link_other")).toBe(2);
      const bss = new DataView(l.mapValue(".bss", 0, 32).buffer);
      expect(bss.getBigUint64(8, true)).toBe(26n);
    });

    if (hasCallbacks)
      it("reloc_callback: a bpf_loop callback calling a subprogram computes the expected values", () => {
        const l = byName.get("reloc_callback")!;
        expect(l.run("callback_main")).toBe(2);
        const v = new DataView(l.mapValue(".bss", 0, 16).buffer);
        expect([v.getBigUint64(0, true), v.getBigUint64(8, true)]).toEqual([30n, 49n]);
      });

    it("reloc_extern: the weak task kfuncs are kfunc calls from 6.2, poisoned dead calls before", () => {
      const l = byName.get("reloc_extern")!;
      const p = l.result.programs.find((x) => x.name === "extern_prog")!;
      const calls = p.instructions.filter(
        (i) => i.opcode === CALL && (i.reference?.name ?? "").startsWith("bpf_task_"),
      );
      const id = (n: string) => kernel.findIdsByName(n, BtfKind.Func)[0];
      expect(calls.map((i) => [i.reference?.name, i.src, i.imm])).toEqual(
        kernelAtLeast("6.2")
          ? [
              ["bpf_task_acquire", PseudoCall.KFUNC_CALL, id("bpf_task_acquire")],
              ["bpf_task_release", PseudoCall.KFUNC_CALL, id("bpf_task_release")],
            ]
          : [
              ["bpf_task_acquire", 0, POISON_CALL_KFUNC_BASE + 7],
              ["bpf_task_release", 0, POISON_CALL_KFUNC_BASE + 8],
            ],
      );
      if (!kernelAtLeast("6.2")) {
        // The verifier removed the poisoned calls as dead code, as it does for libbpf's load.
        expect(l.xlated("extern_prog").some((x) => x.disasm.includes("call"))).toBe(false);
      }
    });

    it("reloc_extern: kconfig values reach the program as libbpf lays them out", () => {
      const l = byName.get("reloc_extern")!;
      const kcfg = l.mapValue(
        ".kconfig",
        0,
        encodeKconfig(l.obj.spec.externs, fromBtf(l.obj.btf), kernelConfig).length,
      );
      expect(new DataView(kcfg.buffer).getUint32(12, true)).toBe(
        Number(kernelConfig("LINUX_KERNEL_VERSION")),
      );
      expect(kcfg[16]).toBe(kernelConfig("CONFIG_BPF_SYSCALL") === "y" ? 1 : 0);
    });

    it("reloc_sections: calls and callbacks across executable sections link and run", () => {
      const l = new OurLoad(loadObject("reloc_sections"));
      loads.push(l);
      l.load(kernel, ["sections_main"]);
      const subprograms = (name: string) => l.result.programs.find((p) => p.name === name)?.subprograms;
      expect(subprograms("sections_main")).toEqual(["plus_twice", "twice"]);
      expect(subprograms("sections_loop")).toEqual(["sum_cb"]);
      expect(l.run("sections_main")).toBe(2);
      expect(new DataView(l.mapValue(".bss", 0, 16).buffer).getBigUint64(8, true)).toBe(41n);
      // The callback, from another section: run from 5.17, refused (like reloc_callback) before.
      const cb = new OurLoad(loadObject("reloc_sections"));
      loads.push(cb);
      if (hasCallbacks) {
        cb.load(kernel, ["sections_loop"]);
        expect(cb.run("sections_loop")).toBe(2);
        expect(new DataView(cb.mapValue(".bss", 0, 16).buffer).getBigUint64(0, true)).toBe(6n);
      } else {
        expect(() => cb.load(kernel, ["sections_loop"])).toThrow(
          /number of funcs in func_info doesn't match number of subprogs/,
        );
      }
    });

    it("core_matches (clang-16 fixture): TYPE_MATCHES gives libbpf's xlated program and runs", () => {
      const path = fixturePath("core_matches.bpf.o");
      const l = new OurLoad(loadObjectFile(path));
      loads.push(l);
      l.load(kernel);
      expect(normalise(l.xlated("core_matches"))).toEqual(
        normalise(libbpfXlated("core_matches", path).get("core_matches")!),
      );
      expect(l.run("core_matches")).toBe(2);
      const v = new DataView(l.mapValue(".bss", 0, 64).buffer);
      expect(Array.from({ length: 8 }, (_, k) => v.getBigUint64(k * 8, true))).toEqual([
        1n,
        0n,
        1n,
        0n,
        0n,
        1n,
        1n,
        0xc0den,
      ]);
    });

    // The anchor CO-RE object (6 programs: tp, tp_btf, raw_tp, iter; hash, percpu array, ring buffer,
    // .rodata): a realistic libbpf-built tracing object, compiled here from ../shared/anchors/perf.
    const anchor = new URL("../../../../shared/anchors/perf/bpf/core.bpf.c", import.meta.url).pathname;
    if (existsSync(anchor)) {
      it("anchor core.bpf.o: all 6 programs give libbpf's xlated instructions and line info", () => {
        const dir = mkdtempSync(join(tmpdir(), "relocate-anchor-"));
        try {
          const obj = join(dir, "core.bpf.o");
          execFileSync("clang", [
            "-O2",
            "-g",
            "-target",
            "bpf",
            "-D__TARGET_ARCH_x86",
            "-I",
            dirname(vmlinuxHeader),
            "-I",
            dirname(anchor),
            "-c",
            anchor,
            "-o",
            obj,
          ]);
          const l = new OurLoad(loadObjectFile(obj));
          loads.push(l);
          if (!kernelAtLeast("5.14")) {
            // handle_switch reads task_struct.__state unguarded; before 5.14 the field is `state`: the
            // relocation is poisoned and the verifier reaches it, for libbpf as for us.
            let err: unknown;
            try {
              l.load(kernel);
            } catch (e) {
              err = e;
            }
            expect(err).toMatchObject({ code: "ERR_EBPF_CORE_POISONED" });
            expect((err as Error).message).toMatch(/program "handle_switch".*struct task_struct\.__state/);
            expect(() => libbpfXlated("anchor_core", obj)).toThrow(/__state/);
            return;
          }
          l.load(kernel);
          const theirs = libbpfXlated("anchor_core", obj);
          expect([...l.progs.keys()].sort()).toEqual([...theirs.keys()].sort());
          expect(theirs.size).toBe(6);
          for (const [prog, libbpf] of theirs) {
            const mine = l.xlated(prog);
            expect({ prog, insns: normalise(mine) }).toEqual({ prog, insns: normalise(libbpf) });
            const lines = (xs: XlatedInsn[]) =>
              xs.flatMap((x, k) => (x.src !== undefined ? [`${k} ${x.src.trim()}`] : []));
            expect(lines(mine)).toEqual(lines(libbpf));
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }

    it("core_poison: the verifier rejects the poisoned instruction and the error explains it", () => {
      const l = new OurLoad(loadObject("core_poison"));
      loads.push(l);
      let err: unknown;
      try {
        l.load(kernel);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      const msg = (err as Error).message;
      expect((err as { code?: string }).code).toBe("ERR_EBPF_CORE_POISONED");
      expect(msg).toContain('program "core_poisoned"');
      expect(msg).toContain("CO-RE relocation #0 (byte_off");
      expect(msg).toContain("struct task_struct___poison.field_the_kernel_lacks");
      expect(msg).toMatch(/core_poison\.bpf\.c:\d+: out\[0\] = bpf_core_field_offset/);
    });
  },
  needsTool("bpftool"),
);
