// Mutated programs, relocations and CO-RE records: relocation either succeeds or throws an EbpfError;
// nothing else escapes (no TypeError, RangeError, infinite loop).
import { existsSync } from "node:fs";
import { loadKernelBtf } from "@ebpf/btf/node";
import type { BpfObjectSpec } from "@ebpf/elf";
import { EbpfError } from "@ebpf/errors";
import { describe, expect, it } from "vitest";
import { type ExtInfo, fromBtf, relocateObject } from "../src/index.js";
import { loadObject } from "./helpers.js";

let seed = 12345;
const rnd = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % n;
};

function mutate(spec: BpfObjectSpec, ext: ExtInfo): [BpfObjectSpec, ExtInfo] {
  const s = structuredClone(spec);
  const relos = new Map([...ext.coreRelos].map(([k, v]) => [k, v.map((r) => ({ ...r }))]));
  const fns = [...s.programs, ...s.subprograms];
  for (let n = 1 + rnd(4); n > 0; n--) {
    const f = fns[rnd(fns.length)];
    switch (rnd(6)) {
      case 0: // a random byte of an instruction
        if (f.instructions.length) f.instructions[rnd(f.instructions.length)] = rnd(256);
        break;
      case 1: // a relocation moved
        if (f.relocations.length) {
          const r = f.relocations[rnd(f.relocations.length)];
          r.insnIndex = rnd(f.instructions.length / 8 + 4);
          r.offset = r.insnIndex * 8;
        }
        break;
      case 2: // a relocation retargeted
        if (f.relocations.length) {
          const kinds = ["map", "data", "func", "kconfig", "ksym", "kfunc", "unknown"] as const;
          f.relocations[rnd(f.relocations.length)].target = {
            kind: kinds[rnd(kinds.length)],
            name: "x",
            offset: rnd(64),
          };
        }
        break;
      default: {
        // a CO-RE record changed
        const list = [...relos.values()].flat();
        if (!list.length) break;
        const r = list[rnd(list.length)];
        const what = rnd(4);
        if (what === 0) r.typeId = rnd(2) ? rnd(400) : rnd(2 ** 31) * 2;
        else if (what === 1) r.accessString = Array.from({ length: 1 + rnd(5) }, () => rnd(200)).join(":");
        else if (what === 2) r.kind = rnd(15);
        else r.insnOff = rnd(4096);
      }
    }
  }
  return [s, { ...ext, coreRelos: relos }];
}

describe.runIf(existsSync("/sys/kernel/btf/vmlinux"))("fuzzed relocation input", () => {
  const target = fromBtf(loadKernelBtf());
  for (const name of ["core_kinds", "reloc_link", "reloc_callback", "reloc_extern"]) {
    it(`${name}: 400 mutations give results or EbpfErrors`, () => {
      const obj = loadObject(name);
      const localBtf = fromBtf(obj.btf);
      let errors = 0;
      for (let i = 0; i < 400; i++) {
        const [spec, ext] = mutate(obj.spec, obj.ext);
        try {
          relocateObject(spec, { localBtf, ext, target, ksym: () => ({ btfId: 1 }) });
        } catch (e) {
          if (!(e instanceof EbpfError)) throw e;
          errors++;
        }
      }
      expect(errors).toBeGreaterThan(0);
    });
  }
});
