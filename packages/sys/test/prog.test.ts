import { existsSync, unlinkSync } from "node:fs";
import { describeKernel, kernelAtLeast } from "@ebpf/testing";
import { expect, it } from "vitest";
import {
  BpfCmd,
  BpfFuncId,
  BpfMapType,
  BpfProgType,
  BpfStatsType,
  btfInfo,
  Errno,
  enableStats,
  getFdById,
  getNextId,
  LoadError,
  mapCreate,
  mapInfo,
  mapLookupElem,
  objGet,
  objPin,
  progBindMap,
  progInfo,
  progLoad,
  progTestRun,
  setFaultInjector,
  XdpAction,
} from "../src/index.js";
import { addImm, call, concat, exit, ldMapFd, movImm, movReg, returnImm, stW } from "./asm.js";

describeKernel("bpf program commands", () => {
  it("retries BPF_PROG_LOAD while the kernel says EAGAIN, five attempts in all (as libbpf)", () => {
    let loads = 0;
    let failFirst = 4;
    setFaultInjector((name, args) => {
      if (name !== "bpf" || args[0] !== BpfCmd.PROG_LOAD) return 0;
      loads++;
      return loads <= failFirst ? Errno.EAGAIN : 0;
    });
    try {
      const load = () =>
        progLoad({ type: BpfProgType.XDP, insns: returnImm(XdpAction.PASS), license: "GPL" });
      using prog = load();
      expect(progInfo(prog).type).toBe(BpfProgType.XDP);
      expect(loads).toBe(5);
      loads = 0;
      failFirst = Number.POSITIVE_INFINITY;
      expect(load).toThrow(expect.objectContaining({ errno: Errno.EAGAIN, command: "BPF_PROG_LOAD" }));
      expect(loads).toBe(5);
    } finally {
      setFaultInjector(undefined);
    }
  });

  it("loads an XDP program and test-runs it", () => {
    using prog = progLoad({
      type: BpfProgType.XDP,
      insns: returnImm(XdpAction.PASS),
      license: "GPL",
      name: "sys_pass",
    });
    const r = progTestRun({ progFd: prog, dataIn: new Uint8Array(64), repeat: 3 });
    expect(r.retval).toBe(XdpAction.PASS);
    const info = progInfo(prog);
    expect(info).toMatchObject({ type: BpfProgType.XDP, name: "sys_pass" });
    expect(info.tag).toMatch(/^[0-9a-f]{16}$/);
  });

  it("returns the verifier log with the errno on rejection", () => {
    const log = new Uint8Array(64 * 1024);
    try {
      progLoad({ type: BpfProgType.XDP, insns: exit(), license: "GPL", logLevel: 1, logBuf: log });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LoadError);
      const err = e as LoadError;
      expect(err.errnoName).toBe("EACCES");
      expect(err.log).toMatch(/R0 !read_ok/);
    }
  });

  it("programs use maps; pin/get; ids; bind map; stats", () => {
    using map = mapCreate({
      type: BpfMapType.ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
      name: "sys_arr",
    });
    // *(u32*)(r10-4) = 0; r2 = r10 - 4; r1 = map; r0 = lookup(); if r0 == 0 goto out; *(u32*)r0 = 42; out: r0 = 2
    const insns = concat(
      stW(-4, 0),
      movReg(2, 10),
      addImm(2, -4),
      ldMapFd(1, map.raw),
      call(BpfFuncId.map_lookup_elem),
      new Uint8Array([0x15, 0x00, 0x01, 0x00, 0, 0, 0, 0]), // if r0 == 0 goto +1
      new Uint8Array([0x62, 0x00, 0x00, 0x00, 42, 0, 0, 0]), // *(u32 *)(r0 + 0) = 42
      movImm(0, 2),
      exit(),
    );
    using prog = progLoad({ type: BpfProgType.XDP, insns, license: "GPL" });
    using stats = enableStats(BpfStatsType.RUN_TIME);
    expect(progTestRun({ progFd: prog, dataIn: new Uint8Array(64) }).retval).toBe(2);
    const v = new Uint8Array(4);
    expect(mapLookupElem(map, new Uint8Array(4), v)).toBe(true);
    expect(v[0]).toBe(42);
    expect(progInfo(prog).runCnt).toBeGreaterThanOrEqual(1n);
    stats.close();

    using extra = mapCreate({ type: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    progBindMap(prog, extra);
    expect(progInfo(prog).nrMapIds).toBe(2);

    const path = `/sys/fs/bpf/sys_test_${process.pid}`;
    objPin(map, path);
    try {
      using again = objGet(path);
      expect(mapInfo(again).id).toBe(mapInfo(map).id);
    } finally {
      unlinkSync(path);
    }
    expect(existsSync(path)).toBe(false);

    const id = progInfo(prog).id;
    let found = false;
    for (let i = getNextId("prog", 0); i !== undefined; i = getNextId("prog", i)) if (i === id) found = true;
    expect(found).toBe(true);
    using byId = getFdById("prog", id);
    expect(progInfo(byId).id).toBe(id);
    using mapById = getFdById("map", mapInfo(map).id);
    expect(mapInfo(mapById).name).toBe("sys_arr");
  });

  it("reads vmlinux BTF info by id (5.11+); before 5.11 no BTF object is the kernel's", () => {
    const kernelIds: number[] = [];
    for (let id = getNextId("btf", 0); id !== undefined; id = getNextId("btf", id)) {
      let fd: ReturnType<typeof getFdById>;
      try {
        fd = getFdById("btf", id);
      } catch {
        continue; // freed since getNextId saw it
      }
      try {
        if (btfInfo(fd).kernelBtf) kernelIds.push(id);
      } finally {
        fd.close();
      }
    }
    if (!kernelAtLeast("5.11")) {
      expect(kernelIds).toEqual([]);
      return;
    }
    expect(kernelIds.length).toBeGreaterThan(0);
    using fd = getFdById("btf", kernelIds[0]!);
    expect(btfInfo(fd).name).toBe("vmlinux");
  });
});
