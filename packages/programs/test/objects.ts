import { readFileSync } from "node:fs";
import { type Btf, parseBtf } from "@ebpf/btf";
import { loadKernelBtf } from "@ebpf/btf/node";
import { type BpfObjectSpec, parseBpfObject } from "@ebpf/elf";
import { fromBtf, parseBtfExtInfo, type RelocatedProgram, relocateObject } from "@ebpf/relocate";
import { BpfAttachType, BpfProgType, type Fd } from "@ebpf/sys";
import { objectPath } from "@ebpf/test-programs";
import { loadObjectBtf, type ProgramLoadSpec } from "../src/index.js";

/** A compiled test object: parsed, relocated against the running kernel, its BTF loaded. */
export interface TestObject extends Disposable {
  spec: BpfObjectSpec;
  btf: Btf;
  programs: RelocatedProgram[];
  btfFd: Fd;
  /** The load spec of one program, by name. */
  load(name: string, extra?: Partial<ProgramLoadSpec>): ProgramLoadSpec;
}

const typeByName = (t: string) => BpfProgType[t.replace(/^BPF_PROG_TYPE_/, "") as keyof typeof BpfProgType];
const attachByName = (t: string | undefined) =>
  t === undefined ? undefined : BpfAttachType[t.replace(/^BPF_/, "") as keyof typeof BpfAttachType];

/** Opens `packages/test-programs/dist/bpfel/<name>.bpf.o` the way the façade will. */
export function openTestObject(name: string): TestObject {
  const spec = parseBpfObject(readFileSync(objectPath(name, "el")));
  const btf = parseBtf(spec.btfBytes!);
  const ext = parseBtfExtInfo(spec.btfExtBytes!, (o) => btf.stringAt(o));
  const out = relocateObject(spec, { localBtf: fromBtf(btf), ext, target: fromBtf(loadKernelBtf()) });
  const btfFd = loadObjectBtf(spec);
  return {
    spec,
    btf,
    programs: out.programs,
    btfFd,
    load(prog, extra = {}) {
      const p = out.programs.find((x) => x.name === prog);
      const ps = spec.programs.find((x) => x.name === prog);
      if (!p || !ps) throw new Error(`no program ${prog} in ${name}`);
      return {
        name: p.name,
        type: typeByName(ps.type),
        expectedAttachType: attachByName(ps.expectedAttachType),
        attachTo: ps.attachTo,
        instructions: p.instructions,
        license: spec.license ?? "GPL",
        btf: { fd: btfFd, funcInfo: p.funcInfo, lineInfo: p.lineInfo },
        ...extra,
      };
    },
    [Symbol.dispose]() {
      btfFd.close();
    },
  };
}

/** The 1-based line of the source file containing `marker`. */
export function lineOf(source: string, marker: string): number {
  const lines = source.split("\n");
  const i = lines.findIndex((l) => l.includes(marker));
  if (i < 0) throw new Error(`marker ${marker} not found`);
  return i + 1;
}
