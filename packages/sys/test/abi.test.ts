// The committed ABI (src/abi.generated.ts) against the running kernel's BTF, read two independent ways.
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { fileURLToPath } from "node:url";
import { parseBtf } from "@ebpf/btf";
import { itRequires, needsPath } from "@ebpf/testing";
import { describe, expect, it } from "vitest";
import { DEFAULT_OUT, fromEbpfBtf, generateAbi } from "../../../tools/gen-abi.mjs";
import { readMiniBtf } from "../../../tools/gen-abi-btf.mjs";
import * as abi from "../src/abi.generated.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const layouts = (Object.entries(abi) as [string, unknown][]).filter(
  (e): e is [string, abi.StructLayout] => typeof e[1] === "object" && e[1] !== null && "byteSize" in e[1],
);

/** Parses `export const Name = { byteSize: N, fields: {...} }` blocks back out of generated text. */
function layoutsOf(text: string): Map<string, { byteSize: number; fields: Map<string, string> }> {
  const out = new Map<string, { byteSize: number; fields: Map<string, string> }>();
  const re = /export const (\w+) = \{\n {2}byteSize: (\d+),\n {2}fields: \{\n([\s\S]*?)\n? {2}\},/g;
  for (const m of text.matchAll(re)) {
    const fields = new Map<string, string>();
    for (const line of m[3].split("\n")) {
      const f = /^\s+("?[\w.]+"?): (\{.*\}),$/.exec(line);
      if (f) fields.set(f[1].replaceAll('"', ""), f[2]);
    }
    out.set(m[1], { byteSize: Number(m[2]), fields });
  }
  return out;
}

/** Reserved and padding fields are carved up by newer kernels; nothing writes them. */
const RESERVED = /(^|\.)(__reserved|__pad|pad\d*$)|reserved/;

/** A field descriptor without the size of aggregates and arrays (they grow across kernels; offsets must not). */
function comparable(desc: string, field: string, fields: Map<string, string>): string {
  const size = Number(/size: (\d+)/.exec(desc)?.[1]);
  const aggregate = size > 8 || [...fields.keys()].some((f) => f.startsWith(`${field}.`));
  return aggregate ? desc.replace(/size: \d+/, "size: aggregate") : desc;
}

describe("generated ABI", () => {
  it("agrees with the hand-written oracle offsets of the smoke test and demo", () => {
    expect(abi.MapCreateAttr.fields.map_type.offset).toBe(0);
    expect(abi.MapCreateAttr.fields.key_size.offset).toBe(4);
    expect(abi.MapCreateAttr.fields.value_size.offset).toBe(8);
    expect(abi.MapCreateAttr.fields.max_entries.offset).toBe(12);
    expect(abi.MapElemAttr.fields.map_fd.offset).toBe(0);
    expect(abi.MapElemAttr.fields.key.offset).toBe(8);
    expect(abi.MapElemAttr.fields.value.offset).toBe(16);
    expect(abi.MapElemAttr.fields.flags.offset).toBe(24);
    expect(abi.BpfCmd.MAP_CREATE).toBe(0);
    expect(abi.BpfCmd.MAP_DELETE_ELEM).toBe(3);
    expect(abi.BpfMapType.HASH).toBe(1);
  });

  it("has a layout for every command of the issue and the info/perf structs", () => {
    const names = layouts.map(([n]) => n);
    for (const n of [
      "MapCreateAttr",
      "MapElemAttr",
      "MapBatchAttr",
      "ProgLoadAttr",
      "ObjAttr",
      "ProgAttachAttr",
      "QueryAttr",
      "TestRunAttr",
      "GetIdAttr",
      "InfoAttr",
      "RawTracepointAttr",
      "BtfLoadAttr",
      "TaskFdQueryAttr",
      "LinkCreateAttr",
      "LinkUpdateAttr",
      "LinkDetachAttr",
      "EnableStatsAttr",
      "IterCreateAttr",
      "ProgBindMapAttr",
      "PerfEventAttr",
      "BpfProgInfo",
      "BpfMapInfo",
      "BpfLinkInfo",
      "BpfBtfInfo",
    ])
      expect(names).toContain(n);
    for (const [name, l] of layouts) {
      if (name === "BpfAttr") continue;
      for (const [field, f] of Object.entries(l.fields)) {
        expect(f.offset + f.size, `${name}.${field}`).toBeLessThanOrEqual(l.byteSize);
      }
    }
    // every command's attr fits in union bpf_attr
    for (const [name, l] of layouts)
      if (name.endsWith("Attr") && name !== "PerfEventAttr")
        expect(l.byteSize).toBeLessThanOrEqual(abi.BpfAttr.byteSize);
  });

  itRequires(needsPath(VMLINUX, "the kernel has no BTF"))(
    "matches the running kernel's BTF (read by @ebpf/btf and by the mini reader)",
    () => {
      const bytes = new Uint8Array(readFileSync(VMLINUX));
      const viaEbpf = generateAbi(fromEbpfBtf(parseBtf(bytes)), { kernelRelease: release() });
      const viaMini = generateAbi(readMiniBtf(bytes), { kernelRelease: release() });
      expect(viaEbpf).toBe(viaMini);
      const committed = readFileSync(DEFAULT_OUT, "utf8");
      if (release() === abi.ABI_KERNEL_RELEASE) {
        // Same kernel as the committed file: it must be exactly what the generator produces now.
        expect(committed, "run `pnpm build && node tools/gen-abi.mjs` and commit the result").toBe(viaEbpf);
        return;
      }
      // Another kernel (test-vm, a developer machine): every field both know must sit at the same place.
      const now = layoutsOf(viaEbpf);
      const old = layoutsOf(committed);
      expect(old.size).toBeGreaterThan(20);
      for (const [name, l] of old) {
        const k = now.get(name);
        if (!k) continue;
        for (const [field, desc] of l.fields) {
          const kd = k.fields.get(field);
          if (kd !== undefined && !RESERVED.test(field))
            expect(comparable(kd, field, l.fields), `${name}.${field}`).toBe(
              comparable(desc, field, l.fields),
            );
        }
      }
    },
  );

  // The Debian kernels of test-vm (when their BTF has been fetched by test-vm/setup.sh): every field the
  // committed ABI has and that kernel knows must be at the same offset, so the wrappers work there too.
  const vmRoot = fileURLToPath(new URL("../../../test-vm/.cache/kernels/", import.meta.url));
  for (const k of ["5.10", "6.1", "6.12"]) {
    const path = `${vmRoot}${k}/vmlinux.btf`;
    itRequires(needsPath(path, `bash test-vm/fetch.sh ${k}`))(
      `agrees with Linux ${k}'s BTF on every field both know`,
      () => {
        const old = layoutsOf(readFileSync(DEFAULT_OUT, "utf8"));
        const there = layoutsOf(
          generateAbi(readMiniBtf(new Uint8Array(readFileSync(path))), { lenient: true }),
        );
        let compared = 0;
        for (const [name, l] of old) {
          const t = there.get(name);
          if (!t) continue;
          for (const [field, desc] of l.fields) {
            const td = t.fields.get(field);
            if (td === undefined || RESERVED.test(field)) continue;
            compared++;
            expect(comparable(td, field, l.fields), `${name}.${field} on ${k}`).toBe(
              comparable(desc, field, l.fields),
            );
          }
        }
        expect(compared).toBeGreaterThan(300);
      },
    );
  }
});
