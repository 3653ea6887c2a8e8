import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { exit, mov64Imm } from "@ebpf/relocate";
import {
  BpfAttachType,
  BpfLinkInfo,
  BpfProgType,
  LoadError,
  NotSupportedError,
  PerfSwIds,
  SyscallError,
} from "@ebpf/sys";
import { describeKernel, expectNotSupported, kernelAtLeast, needsTool } from "@ebpf/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  BtfTracePoint,
  CgroupLsm,
  enableStats,
  FdLink,
  FEntry,
  FExit,
  FModRet,
  haveKprobes,
  Iter,
  KProbe,
  type Link,
  Lsm,
  listLinks,
  PerfEvent,
  PerfEventIoctlLink,
  Program,
  RawTracePoint,
  readFunctionSymbols,
  SocketFilter,
  TracePoint,
  UProbe,
} from "../src/index.js";
import { createCgroup } from "./cgroup.js";
import { openTestObject } from "./objects.js";

const ret0 = (name: string, type: number, extra: object = {}) => ({
  name,
  type,
  license: "GPL",
  instructions: [mov64Imm(0, 0), exit()],
  ...extra,
});

describeKernel("tracing programs", () => {
  it("TracePoint fires on a syscall and detaches on close", () => {
    using stats = enableStats();
    const prog = TracePoint.load(ret0("tp_getppid", BpfProgType.TRACEPOINT));
    // A second handle on the program, to read its counters after `prog.close()`.
    using watcher = Program.fromId(prog.info().id);
    const link = prog.attach("syscalls", "sys_enter_getppid");
    let id: number | undefined;
    if (kernelAtLeast("5.15")) {
      expect(link).toBeInstanceOf(FdLink);
      id = (link as FdLink).info().id;
      expect((link as FdLink).info().typeName).toBe("perf_event");
    } else {
      // No perf_event bpf_link before 5.15: PERF_EVENT_IOC_SET_BPF, which has no id, pin or info.
      expect(link).toBeInstanceOf(PerfEventIoctlLink);
      const legacy = link as PerfEventIoctlLink;
      expect(legacy.description).toContain("(perf ioctl)");
      expectNotSupported(() => legacy.info(), "5.15");
      expectNotSupported(() => legacy.pin(`/sys/fs/bpf/ebpf-programs-${process.pid}-tp`), "5.15");
      expect(legacy.pinnedAt).toBeUndefined();
    }
    for (let i = 0; i < 5; i++) process.ppid;
    expect(prog.info().runCnt).toBeGreaterThanOrEqual(5n);
    prog.close();
    expect(link.closed).toBe(true);
    const after = watcher.info().runCnt;
    for (let i = 0; i < 3; i++) process.ppid;
    expect(watcher.info().runCnt).toBe(after);
    if (id !== undefined) expect(listLinks().some((l) => l.id === id)).toBe(false);
    void stats;
  });

  it("RawTracePoint fires", () => {
    using stats = enableStats();
    using prog = RawTracePoint.load(ret0("raw_sys_enter", BpfProgType.RAW_TRACEPOINT));
    using link = prog.attach("sys_enter");
    process.ppid;
    expect(prog.info().runCnt).toBeGreaterThan(0n);
    void stats;
    void link;
  });

  it("writable RawTracePoint fires on bpf_test_finish (runs at the end of every test run)", () => {
    using stats = enableStats();
    using prog = RawTracePoint.load(ret0("rawtp_w", BpfProgType.RAW_TRACEPOINT_WRITABLE));
    using link = prog.attach("bpf_test_finish");
    using target = SocketFilter.load(ret0("sf_run", BpfProgType.SOCKET_FILTER));
    target.testRun({ data: new Uint8Array(64) });
    expect(prog.info().runCnt).toBeGreaterThanOrEqual(1n);
    void stats;
    void link;
  });

  it("BtfTracePoint resolves btf_trace_<name> and fires", () => {
    using stats = enableStats();
    using prog = BtfTracePoint.load(
      ret0("tpbtf_enter", BpfProgType.TRACING, {
        expectedAttachType: BpfAttachType.TRACE_RAW_TP,
        attachTo: "sys_enter",
      }),
    );
    // bpf_prog_info reports attach_btf_id since 6.0; before, the kernel leaves it 0.
    if (kernelAtLeast("6.0")) expect(prog.info().attachBtfId).toBeGreaterThan(0);
    else expect(prog.info().attachBtfId).toBe(0);
    using link = prog.attach();
    expect(link.description).toContain("tp_btf sys_enter");
    process.ppid;
    expect(prog.info().runCnt).toBeGreaterThan(0n);
    void stats;
    void link;
  });

  const unlinkTemp = () => {
    const f = `/tmp/ebpf-programs-unlink-${process.pid}`;
    writeFileSync(f, "x");
    unlinkSync(f);
  };
  const fork = () => spawnSync("true");
  const openFile = () => readFileSync("/proc/self/stat");
  for (const [cls, type, at, target, trigger] of [
    [FEntry, BpfProgType.TRACING, BpfAttachType.TRACE_FENTRY, "do_unlinkat", unlinkTemp],
    [FExit, BpfProgType.TRACING, BpfAttachType.TRACE_FEXIT, "do_unlinkat", unlinkTemp],
    [FModRet, BpfProgType.TRACING, BpfAttachType.MODIFY_RETURN, "security_task_alloc", fork],
    [Lsm, BpfProgType.LSM, BpfAttachType.LSM_MAC, "file_open", openFile],
  ] as const) {
    it(`${cls.name} ${target}: fires where the kernel allows it, else a clear EPERM naming program and target`, () => {
      using stats = enableStats();
      let prog: InstanceType<typeof cls>;
      try {
        prog = cls.load(ret0(`t_${cls.name}`, type, { expectedAttachType: at, attachTo: target }));
      } catch (err) {
        // This host (lockdown=integrity) refuses these loads; test-vm kernels take the other branch.
        expect(err).toBeInstanceOf(LoadError);
        const e = err as LoadError;
        expect(e.errnoName).toBe("EPERM");
        expect(e.message).toContain(`program "t_${cls.name}"`);
        expect(e.message).toContain(target);
        expect(e.message).toMatch(/lockdown/);
        return;
      }
      try {
        const link = prog.attach();
        trigger();
        expect(prog.info().runCnt).toBeGreaterThan(0n);
        link.detach();
      } finally {
        prog.close();
      }
      void stats;
    });
  }

  it("Iter output reads to the end, as bytes and as a stream", async () => {
    using obj = openTestObject("prog_iter");
    using prog = Iter.load(obj.load("dump_tasks"));
    using link = prog.attach();
    const bytes = link.read();
    expect(bytes.length % 8).toBe(0);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const tgids = new Set<number>();
    for (let o = 0; o < bytes.length; o += 8) tgids.add(v.getUint32(o, true));
    expect(tgids.has(process.pid)).toBe(true);
    expect(tgids.has(process.ppid)).toBe(true);
    expect(tgids.size).toBeGreaterThan(10);
    let streamed = 0;
    for await (const chunk of link.stream()) streamed += (chunk as Uint8Array).length;
    expect(streamed).toBeGreaterThan(0);
    expect(streamed % 8).toBe(0);
  });

  it("PerfEvent samples a software counter on every CPU", () => {
    using stats = enableStats();
    using prog = PerfEvent.load(ret0("perf_clock", BpfProgType.PERF_EVENT));
    using link = prog.attach({ type: "software", config: PerfSwIds.CPU_CLOCK, samplePeriod: 100_000 });
    const until = Date.now() + 50;
    while (Date.now() < until) {}
    expect(prog.info().runCnt).toBeGreaterThan(0n);
    void stats;
    void link;
  });

  it("PerfEvent with a sample frequency on chosen CPUs", () => {
    using stats = enableStats();
    using prog = PerfEvent.load(ret0("perf_freq", BpfProgType.PERF_EVENT));
    using link = prog.attach({
      type: "software",
      config: PerfSwIds.TASK_CLOCK,
      sampleFrequency: 4000,
      cpus: [0, 1],
    });
    expect(link.description).toContain("cpus 0,1");
    const until = Date.now() + 100;
    while (Date.now() < until) {}
    expect(prog.info().runCnt).toBeGreaterThan(0n);
    void stats;
  });

  it("CgroupLsm (lsm_cgroup) attaches to a cgroup where allowed, else a clear EPERM", () => {
    const spec = ret0("lsmcg_bind", BpfProgType.LSM, {
      expectedAttachType: BpfAttachType.LSM_CGROUP,
      attachTo: "socket_bind",
    });
    if (!kernelAtLeast("6.0")) {
      const e = expectNotSupported(() => CgroupLsm.load(spec), "6.0");
      expect(e.feature).toContain("lsm_cgroup");
      return;
    }
    let prog: CgroupLsm;
    try {
      prog = CgroupLsm.load(spec);
    } catch (err) {
      expect(err).toBeInstanceOf(LoadError);
      expect((err as LoadError).errnoName).toBe("EPERM");
      expect((err as LoadError).message).toContain('program "lsmcg_bind" (lsm socket_bind)');
      return;
    }
    using cg = createCgroup();
    try {
      const link = prog.attach(cg.path);
      expect(link.description).toContain("lsm_cgroup");
      link.detach();
    } finally {
      prog.close();
    }
  });

  it("KProbe fails with NotSupportedError on a kernel without kprobes", () => {
    using prog = KProbe.load(ret0("kp_unlink", BpfProgType.KPROBE));
    if (haveKprobes()) {
      using link = prog.attach("do_unlinkat");
      expect(link.description).toContain("kprobe do_unlinkat");
      return;
    }
    expect(() => prog.attach("do_unlinkat")).toThrow(NotSupportedError);
  });
});

describeKernel(
  "uprobes on a test binary",
  () => {
    const bin = `/tmp/ebpf-uprobe-target-${process.pid}`;
    beforeAll(() => {
      const src = fileURLToPath(new URL("./fixtures/uprobe_target.c", import.meta.url));
      execFileSync("clang", ["-O1", "-g", "-o", bin, src]);
    });
    afterAll(() => rmSync(bin, { force: true }));

    const run = (n: number) => {
      const r = spawnSync(bin, [String(n)], { input: "go\n" });
      expect(r.status).toBe(0);
    };

    it("resolves dynamic symbols of a shared library (.dynsym) to file offsets", () => {
      // The libc this very process has mapped.
      const libc = readFileSync("/proc/self/maps", "utf8")
        .split("\n")
        .map((l) => l.split(/\s+/)[5] ?? "")
        .find((p) => /\/libc\.so\.6$/.test(p))!;
      const sym = readFunctionSymbols(libc).find((s) => s.name === "getpid");
      expect(sym).toBeDefined();
      const nm = execFileSync("nm", ["-D", "--defined-only", libc]).toString();
      expect(nm).toMatch(new RegExp(`^0*${sym!.address.toString(16)} [TWi] getpid(@@?\\S+)?$`, "m"));
    });

    it("resolves the symbol from .symtab to a file offset", () => {
      const sym = readFunctionSymbols(bin).find((s) => s.name === "ebpf_uprobe_target");
      expect(sym).toBeDefined();
      const nm = execFileSync("nm", [bin]).toString();
      expect(nm).toMatch(new RegExp(`^0*${sym!.address.toString(16)} T ebpf_uprobe_target$`, "m"));
    });

    it("fires once per call; uretprobe too; nothing after detach", () => {
      using stats = enableStats();
      using entry = UProbe.load(ret0("up_entry", BpfProgType.KPROBE));
      using exitProbe = UProbe.load(ret0("up_exit", BpfProgType.KPROBE));
      const l1 = entry.attach(bin, { symbol: "ebpf_uprobe_target" });
      const ret = { symbol: "ebpf_uprobe_target", retprobe: true } as const;
      let l2: Link;
      if (kernelAtLeast("5.15")) {
        l2 = exitProbe.attach(bin, { ...ret, cookie: 7 });
        const info = (l2 as FdLink).info();
        expect(info.typeName).toBe("perf_event");
        // bpf_link_info describes perf_event links (and their cookie) since 6.9; before, only type and ids.
        const f = BpfLinkInfo.fields["perf_event.uprobe.cookie"];
        const cookie = new DataView(info.raw.buffer).getBigUint64(f.offset, true);
        expect(cookie).toBe(kernelAtLeast("6.9") ? 7n : 0n);
      } else {
        // A cookie needs a perf_event bpf_link (5.15): refused with the probe cleaned up, no link kept.
        expectNotSupported(() => exitProbe.attach(bin, { ...ret, cookie: 7 }), "5.15");
        expect(exitProbe.links).toHaveLength(0);
        l2 = exitProbe.attach(bin, ret);
        expect(l2).toBeInstanceOf(PerfEventIoctlLink);
      }
      expect(readFileSync("/sys/kernel/tracing/uprobe_events", "utf8")).not.toContain(`ebpf_${process.pid}`);
      run(10);
      expect(entry.info().runCnt).toBe(10n);
      expect(exitProbe.info().runCnt).toBe(10n);
      l1.detach();
      l2.detach();
      run(3);
      expect(entry.info().runCnt).toBe(10n);
      void stats;
    });

    it("pid filter: only the chosen process fires", async () => {
      using stats = enableStats();
      using prog = UProbe.load(ret0("up_pid", BpfProgType.KPROBE));
      const { spawn } = await import("node:child_process");
      const child = spawn(bin, ["4"], { stdio: ["pipe", "ignore", "ignore"] });
      const done = new Promise((resolve) => child.on("exit", resolve));
      using link = prog.attach(bin, { symbol: "ebpf_uprobe_target", pid: child.pid! });
      run(5); // another process: not counted
      child.stdin!.end("go\n");
      await done;
      expect(prog.info().runCnt).toBe(4n);
      void stats;
      void link;
    });

    it("attachMulti probes several symbols under one link", () => {
      using stats = enableStats();
      using prog = UProbe.load(ret0("up_multi", BpfProgType.KPROBE));
      const link = prog.attachMulti(bin, ["ebpf_uprobe_target", "ebpf_uprobe_other"]);
      expect(link.description).toMatch(/one uprobe each/);
      run(3);
      expect(prog.info().runCnt).toBe(6n);
      link.detach();
      expect(prog.links).toHaveLength(0);
      void stats;
    });

    it("uprobe.multi programs get one uprobe_multi link (6.6+)", () => {
      using stats = enableStats();
      using prog = UProbe.load(
        ret0("up_multi_link", BpfProgType.KPROBE, { expectedAttachType: BpfAttachType.TRACE_UPROBE_MULTI }),
      );
      const attach = () =>
        prog.attachMulti(bin, ["ebpf_uprobe_target", "ebpf_uprobe_other"], { cookies: [1n, 2n] });
      if (!kernelAtLeast("6.6")) {
        expect(expectNotSupported(attach, "6.6").feature).toContain("uprobe_multi");
        expect(prog.links).toHaveLength(0);
        run(1);
        expect(prog.info().runCnt).toBe(0n);
        return;
      }
      const link = attach();
      expect(link).toBeInstanceOf(FdLink);
      expect((link as FdLink).info().typeName).toBe("uprobe_multi");
      run(4);
      expect(prog.info().runCnt).toBe(8n);
      link.detach();
      run(1);
      expect(prog.info().runCnt).toBe(8n);
      void stats;
    });
  },
  needsTool("clang"),
  needsTool("nm"),
);

describeKernel("hardware perf events", () => {
  it("PerfEvent on a hardware counter fires, or fails cleanly where the VM has no PMU", () => {
    using stats = enableStats();
    using prog = PerfEvent.load(ret0("perf_hw", BpfProgType.PERF_EVENT));
    let link: ReturnType<PerfEvent["attach"]>;
    try {
      link = prog.attach({ type: "hardware", config: 0 /* CPU_CYCLES */, sampleFrequency: 1000, cpus: [0] });
    } catch (e) {
      expect(e).toBeInstanceOf(SyscallError);
      expect((e as SyscallError).syscall).toBe("perf_event_open");
      expect(["ENOENT", "EOPNOTSUPP", "ENODEV", "EINVAL"]).toContain((e as SyscallError).errnoName);
      expect(prog.links).toHaveLength(0);
      return;
    }
    const until = Date.now() + 100;
    while (Date.now() < until) {}
    expect(prog.info().runCnt).toBeGreaterThan(0n);
    link.detach();
    void stats;
  });
});
