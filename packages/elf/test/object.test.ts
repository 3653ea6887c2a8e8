// The object model on libbpf-style programs: several programs per section, static and global subprograms,
// legacy/iproute2/BTF maps, global data, externs. Each assertion holds for both byte orders.
import { readFileSync } from "node:fs";
import { BtfKind } from "@ebpf/btf";
import { objectPath } from "@ebpf/test-programs";
import { describe, expect, it } from "vitest";
import { type BpfObjectSpec, parseBpfObject } from "../src/index.js";

const load = (name: string, endian: "el" | "eb"): BpfObjectSpec =>
  parseBpfObject(readFileSync(objectPath(name, endian)));

describe.each(["el", "eb"] as const)("%s", (endian) => {
  describe("programs", () => {
    const spec = load("elf_programs", endian);
    const prog = (name: string) => {
      const p = spec.programs.find((x) => x.name === name);
      if (!p) throw new Error(`no program ${name}`);
      return p;
    };

    it("finds several programs in one section, in offset order", () => {
      const xdp = spec.programs.filter((p) => p.sectionName === "xdp").map((p) => p.name);
      expect(xdp).toEqual(["xdp_first", "xdp_second"]);
      expect(prog("xdp_second").offset).toBeGreaterThan(prog("xdp_first").offset);
    });

    it("maps section names to type, attach type and target", () => {
      const rows = spec.programs.map((p) => [p.name, p.type, p.expectedAttachType, p.attachTo, p.sleepable]);
      expect(rows).toEqual([
        ["xdp_first", "BPF_PROG_TYPE_XDP", "BPF_XDP", undefined, false],
        ["xdp_second", "BPF_PROG_TYPE_XDP", "BPF_XDP", undefined, false],
        ["tc_not_autoloaded", "BPF_PROG_TYPE_SCHED_CLS", undefined, undefined, false],
        ["tp_openat", "BPF_PROG_TYPE_TRACEPOINT", undefined, "syscalls/sys_enter_openat", false],
        ["kret_unlinkat", "BPF_PROG_TYPE_KPROBE", undefined, "do_unlinkat", false],
        ["sleepable_fentry", "BPF_PROG_TYPE_TRACING", "BPF_TRACE_FENTRY", "do_sys_openat2", true],
        ["up_readline", "BPF_PROG_TYPE_KPROBE", undefined, "/usr/bin/bash:readline", false],
        ["connect_unix", "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", "BPF_CGROUP_UNIX_CONNECT", undefined, false],
        [
          "reuseport_migrate",
          "BPF_PROG_TYPE_SK_REUSEPORT",
          "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE",
          undefined,
          false,
        ],
        ["iter_task", "BPF_PROG_TYPE_TRACING", "BPF_TRACE_ITER", "task", true],
        ["lsm_bind", "BPF_PROG_TYPE_LSM", "BPF_LSM_CGROUP", "socket_bind", false],
        ["xdp_devmap", "BPF_PROG_TYPE_XDP", "BPF_XDP_DEVMAP", undefined, false],
        ["a_syscall", "BPF_PROG_TYPE_SYSCALL", undefined, undefined, true],
        ["unknown_prog", "BPF_PROG_TYPE_UNSPEC", undefined, undefined, false],
      ]);
      expect(prog("kret_unlinkat").secDef?.flags).toContain("return");
      expect(prog("xdp_devmap").secDef?.flags).toContain("xdp_frags");
      expect(prog("unknown_prog").secDef).toBeUndefined();
    });

    it('marks SEC("?...") programs as not autoloaded and strips the "?"', () => {
      const p = prog("tc_not_autoloaded");
      expect(p.autoload).toBe(false);
      expect(p.sectionName).toBe("?tc");
      expect(p.section).toBe("tc");
      expect(spec.programs.filter((x) => !x.autoload).map((x) => x.name)).toEqual(["tc_not_autoloaded"]);
    });

    it("finds static and global subprograms in .text and in other sections", () => {
      const subs = spec.subprograms.map((f) => [f.name, f.sectionName, f.linkage]);
      expect(subs).toEqual([
        ["global_double", ".text", "global"],
        ["add_one", ".text", "local"],
        ["in_xdp_helper", "xdp", "local"],
      ]);
    });

    it("resolves relocated and pc-relative calls into a call graph", () => {
      const first = prog("xdp_first");
      expect(first.calls.sort()).toEqual(["add_one", "in_xdp_helper"]);
      expect(first.subprograms).toEqual(["add_one", "in_xdp_helper"]);
      // The call to the static add_one is relocated against the .text section symbol.
      const call = first.relocations.find((r) => r.target.kind === "func");
      expect(call).toMatchObject({ symbol: ".text", symbolType: "section", type: 10 });
      const addOne = spec.subprograms.find((f) => f.name === "add_one");
      expect(call?.target).toEqual({
        kind: "func",
        name: "add_one",
        section: ".text",
        offset: addOne?.offset,
      });
      // The global function is relocated against its own symbol.
      expect(prog("xdp_second").relocations.map((r) => [r.symbol, r.symbolType, r.target.kind])).toEqual([
        ["global_double", "func", "func"],
      ]);
      expect(prog("tc_not_autoloaded").subprograms).toEqual(["add_one"]);
    });

    it("copies instructions and reports offsets within the section", () => {
      for (const f of [...spec.programs, ...spec.subprograms]) {
        expect(f.instructions.length).toBe(f.size);
        expect(f.size % 8).toBe(0);
        const section = spec.sections[f.sectionIndex];
        const raw = readFileSync(objectPath("elf_programs", endian)).subarray(
          section.offset + f.offset,
          section.offset + f.offset + f.size,
        );
        expect(Buffer.from(f.instructions).equals(raw)).toBe(true);
        expect(f.instructions.buffer.byteLength).toBe(f.size); // a copy, not a view of the file
      }
      // Last instruction of a program is exit (0x95).
      for (const p of spec.programs) expect(p.instructions[p.size - 8]).toBe(0x95);
    });

    it("reads license, version and keeps .BTF / .BTF.ext", () => {
      expect(spec.license).toBe("Dual MIT/GPL");
      expect(spec.kernelVersion).toBe(0x050a00);
      expect(spec.btfBytes?.length).toBeGreaterThan(0);
      expect(spec.btfExtBytes?.length).toBeGreaterThan(0);
      expect(spec.btf?.findByName("xdp_first", BtfKind.Func)).toBeDefined();
      expect(spec.byteOrder).toBe(endian === "el" ? "little" : "big");
    });
  });

  describe("callbacks and weak subprograms", () => {
    const spec = load("elf_callbacks", endian);

    it("resolves a callback address (ld_imm64 of a static function) and a weak global call", () => {
      const p = spec.programs[0];
      expect(p.name).toBe("loop_user");
      const add = spec.subprograms.find((f) => f.name === "add_index");
      expect(p.relocations.map((r) => [r.type, r.symbol, r.target])).toEqual([
        [1, ".text", { kind: "func", name: "add_index", section: ".text", offset: add?.offset }],
        [10, "weak_scale", { kind: "func", name: "weak_scale", section: ".text", offset: 0 }],
        [1, ".rodata", { kind: "data", name: ".rodata", section: ".rodata", offset: 0 }],
      ]);
      expect(p.subprograms).toEqual(["add_index", "weak_scale"]);
      expect(spec.subprograms.map((f) => [f.name, f.linkage])).toEqual([
        ["weak_scale", "weak"],
        ["add_index", "local"],
      ]);
    });

    it("keeps the bpf_printk format string as a static .rodata variable", () => {
      const ro = spec.dataSections.find((d) => d.name === ".rodata");
      expect(ro?.variables.map((v) => [v.name, v.offset, v.size, v.linkage])).toEqual([
        ["loop_user.____fmt", 0, 7, "local"],
      ]);
      expect(new TextDecoder().decode(ro?.contents)).toBe("sum %d\0");
    });
  });

  describe("struct_ops maps", () => {
    const spec = load("elf_struct_ops", endian);

    it("reads .struct_ops and .struct_ops.link variables with their program members", () => {
      expect(spec.structOps.map((m) => [m.name, m.sectionName, m.typeName, m.flags, m.size])).toEqual([
        ["elf_cc", ".struct_ops", "tcp_congestion_ops", 0, 192],
        ["elf_cc_link", ".struct_ops.link", "tcp_congestion_ops", 8192, 192],
      ]);
      expect(spec.structOps[0].functions.map((f) => [f.member, f.program])).toEqual([
        ["ssthresh", "elf_ssthresh"],
        ["cong_avoid", "elf_cong_avoid"],
        ["undo_cwnd", "elf_undo_cwnd"],
        ["init", "elf_init"],
      ]);
      expect(spec.structOps[1].functions.map((f) => f.member)).toEqual([
        "ssthresh",
        "cong_avoid",
        "undo_cwnd",
      ]);
      // The name member holds the initial string; the flags member of the link variant is 1.
      const btf = spec.btf;
      const struct = btf?.typeById(spec.structOps[0].typeId);
      const name = struct && "members" in struct ? struct.members.find((m) => m.name === "name") : undefined;
      const at = (name?.bitOffset ?? 0) / 8;
      expect(new TextDecoder().decode(spec.structOps[0].data.subarray(at, at + 6))).toBe("elf_cc");
      expect(spec.maps).toEqual([]);
    });

    it("types the struct_ops programs, .s ones sleepable", () => {
      expect(spec.programs.map((p) => [p.name, p.type, p.sleepable])).toEqual([
        ["elf_init", "BPF_PROG_TYPE_STRUCT_OPS", false],
        ["elf_ssthresh", "BPF_PROG_TYPE_STRUCT_OPS", false],
        ["elf_undo_cwnd", "BPF_PROG_TYPE_STRUCT_OPS", false],
        ["elf_cong_avoid", "BPF_PROG_TYPE_STRUCT_OPS", true],
      ]);
    });
  });

  describe("legacy maps", () => {
    it("reads struct bpf_map_def records, several per section", () => {
      const spec = load("elf_legacy_maps", endian);
      expect(
        spec.maps.map((m) => [m.name, m.source, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags]),
      ).toEqual([
        ["legacy_hash", "legacy", 1, 4, 8, 64, 1],
        ["legacy_array", "legacy", 2, 4, 16, 4, 0],
        ["legacy_perf", "legacy", 4, 4, 4, 0, 0],
      ]);
      const refs = spec.programs[0].relocations.map((r) => [r.type, r.target.kind, r.target.name]);
      expect(refs).toEqual([
        [1, "map", "legacy_hash"],
        [1, "map", "legacy_array"],
      ]);
    });

    it("reads iproute2's struct bpf_elf_map with pinning", () => {
      const spec = load("elf_iproute2_maps", endian);
      expect(
        spec.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries, m.pinning, m.iproute2]),
      ).toEqual([
        ["tc_counts", 1, 4, 8, 128, 1, { id: 7, innerId: 0, innerIndex: 0 }],
        ["tc_array", 2, 4, 4, 2, 0, { id: 0, innerId: 0, innerIndex: 0 }],
      ]);
      expect(spec.programs[0].type).toBe("BPF_PROG_TYPE_SCHED_CLS");
    });
  });

  describe("BTF maps", () => {
    const spec = load("elf_btf_maps", endian);
    const map = (name: string) => {
      const m = spec.maps.find((x) => x.name === name);
      if (!m) throw new Error(`no map ${name}`);
      return m;
    };

    it("reads type, key/value types and sizes, flags, pinning", () => {
      const m = map("typed_hash");
      expect([m.source, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags, m.pinning]).toEqual([
        "btf",
        1,
        4,
        16,
        1024,
        1,
        1,
      ]);
      expect(spec.btf?.typeById(m.valueTypeId as number).name).toBe("value_t");
      expect(spec.btf?.typeById(m.keyTypeId as number).name).toBe("__u32");
    });

    it("reads sizes given as numbers, numa_node, map_extra, key-less maps", () => {
      expect(map("sized_array")).toMatchObject({
        keySize: 4,
        valueSize: 24,
        numaNode: 1,
        flags: 4,
        keyTypeId: undefined,
      });
      expect(map("events")).toMatchObject({ type: 27, keySize: 0, valueSize: 0, maxEntries: 4096 });
      expect(map("bloom")).toMatchObject({ type: 30, keySize: 0, valueSize: 4, mapExtra: 3n });
    });

    it("reads map-in-map inner templates and initial values", () => {
      const outer = map("outer");
      expect(outer).toMatchObject({ type: 12, keySize: 4, valueSize: 4, maxEntries: 4 });
      expect(outer.innerMap).toMatchObject({
        name: "outer.inner",
        type: 2,
        keySize: 4,
        valueSize: 4,
        maxEntries: 1,
      });
      expect(outer.initialValues).toEqual([
        { index: 0, name: "inner_a" },
        { index: 3, name: "inner_b" },
      ]);
      const anonymousInner = map("outer_hash").innerMap;
      expect(anonymousInner).toMatchObject({ type: 1, keySize: 2, valueSize: 8, maxEntries: 16 });
      expect(map("outer_hash").initialValues).toEqual([]);
    });

    it("reads prog array initial values", () => {
      const jumps = map("jumps");
      expect(jumps).toMatchObject({ type: 3, keySize: 4, valueSize: 4, maxEntries: 3 });
      expect(jumps.initialValues).toEqual([
        { index: 0, name: "tail_one" },
        { index: 2, name: "tail_two" },
      ]);
    });

    it("lists maps in section order and resolves map references", () => {
      expect(spec.maps.map((m) => m.name)).toEqual([
        "inner_a",
        "inner_b",
        "outer",
        "jumps",
        "typed_hash",
        "events",
        "bloom",
        "sized_array",
        "outer_hash",
      ]);
      const entry = spec.programs.find((p) => p.name === "entry");
      expect(entry?.relocations.map((r) => `${r.target.kind}:${r.target.name}`)).toEqual([
        "map:typed_hash",
        "map:outer",
        "map:events",
        "map:bloom",
        "map:sized_array",
        "map:jumps",
      ]);
      expect(spec.programs.map((p) => p.name)).toEqual(["tail_one", "tail_two", "entry"]);
    });

    it("still names map references when BTF parsing is off", () => {
      const raw = parseBpfObject(readFileSync(objectPath("elf_btf_maps", endian)), { parseBtf: false });
      expect(raw.btf).toBeUndefined();
      expect(raw.maps).toEqual([]);
      const entry = raw.programs.find((p) => p.name === "entry");
      expect(entry?.relocations[0].target).toEqual({ kind: "map", name: "typed_hash" });
    });
  });

  describe("data sections and externs", () => {
    const spec = load("elf_data", endian);
    const section = (name: string) => {
      const s = spec.dataSections.find((x) => x.name === name);
      if (!s) throw new Error(`no section ${name}`);
      return s;
    };

    it("lists .data, .rodata, .bss and custom sections with their variables", () => {
      expect(spec.dataSections.map((s) => [s.name, s.kind, s.size])).toEqual([
        [".rodata", "rodata", 20],
        [".data", "data", 12],
        [".data.custom", "data", 4],
        [".rodata.custom", "rodata", 8],
        [".bss", "bss", 12],
      ]);
      expect(section(".rodata").variables.map((v) => [v.name, v.offset, v.size, v.linkage])).toEqual([
        ["ro_limit", 0, 4, "global"],
        ["ro_name", 4, 16, "global"],
      ]);
      expect(section(".data").variables.map((v) => [v.name, v.offset, v.size, v.linkage])).toEqual([
        ["data_counter", 0, 8, "global"],
        ["weak_knob", 8, 4, "weak"],
      ]);
      expect(section(".bss").variables.map((v) => [v.name, v.offset, v.linkage])).toEqual([
        ["bss_total", 0, "global"],
        ["static_counter", 8, "local"],
      ]);
      for (const s of spec.dataSections) {
        expect(s.btfTypeId).toBeDefined();
        for (const v of s.variables) expect(v.typeId).toBeDefined();
      }
    });

    it("keeps initial contents in the object's byte order; .bss is zeros", () => {
      const ro = section(".rodata");
      const view = new DataView(ro.contents.buffer, ro.contents.byteOffset);
      expect(view.getUint32(0, endian === "el")).toBe(42);
      expect(new TextDecoder().decode(ro.contents.subarray(4, 7))).toBe("elf");
      const data = new DataView(section(".data").contents.buffer);
      expect(data.getBigUint64(0, endian === "el")).toBe(7n);
      expect(data.getUint32(8, endian === "el")).toBe(3);
      expect([...section(".bss").contents]).toEqual(new Array(12).fill(0));
    });

    it("lists .kconfig and .ksyms externs, weak ones marked", () => {
      const rows = spec.externs.map((e) => [e.name, e.kind, e.weak]).sort();
      expect(rows).toEqual([
        ["CONFIG_HZ", "kconfig", false],
        ["CONFIG_MISSING_THING", "kconfig", true],
        ["LINUX_KERNEL_VERSION", "kconfig", false],
        ["bpf_link_fops", "ksym", true],
        ["bpf_prog_active", "ksym", false],
        ["bpf_task_acquire", "kfunc", true],
        ["bpf_task_release", "kfunc", false],
      ]);
      expect(spec.externs.find((e) => e.name === "CONFIG_MISSING_THING")?.size).toBe(1);
      const acquire = spec.externs.find((e) => e.name === "bpf_task_acquire");
      expect(spec.btf?.typeById(acquire?.typeId as number).kind).toBe(BtfKind.Func);
    });

    it("describes kfunc calls symbolically", () => {
      const user = spec.programs.find((p) => p.name === "kfunc_user");
      expect(user?.type).toBe("BPF_PROG_TYPE_TRACING");
      expect(user?.attachTo).toBe("task_newtask");
      expect(user?.relocations.map((r) => [r.type, r.target.kind, r.target.name])).toEqual([
        [10, "kfunc", "bpf_task_acquire"],
        [10, "kfunc", "bpf_task_release"],
      ]);
      // Calls to externs are not bpf-to-bpf calls.
      expect(user?.calls).toEqual([]);
    });

    it("describes data and extern references symbolically", () => {
      const refs = spec.programs[0].relocations.map((r) => {
        const t = r.target;
        return t.kind === "data" ? `data:${t.section}+${t.offset}` : `${t.kind}:${t.name}`;
      });
      expect(refs.sort()).toEqual(
        [
          "kconfig:CONFIG_HZ",
          "data:.rodata+0",
          "kconfig:LINUX_KERNEL_VERSION",
          "kconfig:CONFIG_MISSING_THING",
          "data:.data+0",
          "data:.bss+8", // static_counter: relocated against the .bss section symbol
          "data:.data.custom+0",
          "data:.rodata+4",
          "data:.rodata.custom+0",
          "data:.data+8",
          "data:.bss+0",
          "ksym:bpf_link_fops",
          "ksym:bpf_prog_active",
        ].sort(),
      );
    });

    it("classifies externs by name without BTF", () => {
      const raw = parseBpfObject(readFileSync(objectPath("elf_data", endian)), { parseBtf: false });
      expect(raw.externs.map((e) => [e.name, e.kind]).sort()).toEqual([
        ["CONFIG_HZ", "kconfig"],
        ["CONFIG_MISSING_THING", "kconfig"],
        ["LINUX_KERNEL_VERSION", "kconfig"],
        ["bpf_link_fops", "ksym"],
        ["bpf_prog_active", "ksym"],
        ["bpf_task_acquire", "kfunc"], // called: a kfunc
        ["bpf_task_release", "kfunc"],
      ]);
    });
  });
});
