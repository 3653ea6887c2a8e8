import { readFileSync } from "node:fs";
import { BtfKind, parseBtf } from "@ebpf/btf";
import { objectPath } from "@ebpf/test-programs";
import { describeKernel } from "@ebpf/testing";
import { describe, expect, it } from "vitest";
import { elfSection } from "./helpers/elf-section.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";

describeKernel("kernel BTF", () => {
  const btf = parseBtf(readFileSync(VMLINUX));

  it("finds well-known types", () => {
    const attr = btf.findByName("bpf_attr", BtfKind.Union);
    expect(attr?.kind).toBe(BtfKind.Union);
    expect(btf.sizeOf(attr!.id)).toBeGreaterThanOrEqual(120);
    expect(btf.alignOf(attr!.id)).toBe(8);
    const cmd = btf.findByName("bpf_cmd", BtfKind.Enum);
    expect(cmd?.values.find((v) => v.name === "BPF_PROG_LOAD")?.value).toBe(5);
    const task = btf.findByName("task_struct", BtfKind.Struct);
    expect(task?.members.some((m) => m.name === "pid")).toBe(true);
  });

  it("decodes every type", () => {
    let n = 0;
    for (const t of btf) {
      expect(t.id).toBe(n + 1);
      n++;
    }
    expect(n).toBe(btf.count - 1);
  });

  it("resolves typedefs and qualifiers", () => {
    const u32 = btf.findByName("u32", BtfKind.Typedef)!;
    const r = btf.resolve(u32.id);
    expect(r.kind).toBe(BtfKind.Int);
    expect(btf.sizeOf(u32.id)).toBe(4);
  });
});

describe("test objects", () => {
  for (const endian of ["el", "eb"] as const) {
    it(`parses minimal.bpf.o (${endian})`, () => {
      const raw = elfSection(readFileSync(objectPath("minimal", endian)), ".BTF")!;
      const btf = parseBtf(raw);
      expect(btf.littleEndian).toBe(endian === "el");
      const fn = btf.findByName("xdp_count", BtfKind.Func);
      expect(fn?.kind).toBe(BtfKind.Func);
      const proto = btf.typeById(fn!.type);
      expect(proto.kind).toBe(BtfKind.FuncProto);
    });
  }
});
