// kprobe_multi LINK_CREATE against the fake kernel (no real kernel needed): the attr fields it fills and
// the memory they point at, the argument checks, and how the kernel's errors come back.
import { exit, mov64Imm } from "@ebpf/relocate";
import {
  BpfAttachType,
  BpfFlags,
  BpfLinkInfo,
  BpfLinkType,
  BpfProgType,
  FakeSyscalls,
  InvalidArgumentError,
  kprobeMultiLinkCreate,
  LinkCreateAttr,
  SyscallError,
} from "@ebpf/sys";
import { describe, expect, it } from "vitest";
import { FdLink, globToRegExp, KProbe, KRetProbe, type ProgramLoadSpec } from "../src/index.js";

const spec = (expectedAttachType?: number): ProgramLoadSpec => ({
  name: "kpm",
  type: BpfProgType.KPROBE,
  expectedAttachType,
  license: "GPL",
  instructions: [mov64Imm(0, 0), exit()],
});

interface Decoded {
  type: number;
  kprobeMulti: { flags: number; symbols?: string[]; addresses?: bigint[]; cookies?: bigint[] };
}

describe("kprobe_multi links (fake kernel)", () => {
  it("the LINK_CREATE attr: uapi offsets of union bpf_attr's kprobe_multi", () => {
    const f = LinkCreateAttr.fields;
    expect(f["kprobe_multi.flags"]).toEqual({ offset: 16, size: 4 });
    expect(f["kprobe_multi.cnt"]).toEqual({ offset: 20, size: 4 });
    expect(f["kprobe_multi.syms"]).toEqual({ offset: 24, size: 8 });
    expect(f["kprobe_multi.addrs"]).toEqual({ offset: 32, size: 8 });
    expect(f["kprobe_multi.cookies"]).toEqual({ offset: 40, size: 8 });
    expect(BpfAttachType.TRACE_KPROBE_MULTI).toBe(42);
    expect(BpfFlags.BPF_F_KPROBE_MULTI_RETURN).toBe(1);
  });

  it("symbols: an array of C-string pointers, count, cookies, the return flag", () => {
    const sys = new FakeSyscalls();
    const prog = sys.progLoad({
      type: BpfProgType.KPROBE,
      insns: new Uint8Array(16),
      license: "GPL",
      expectedAttachType: BpfAttachType.TRACE_KPROBE_MULTI,
    });
    const fd = kprobeMultiLinkCreate(
      { progFd: prog, symbols: ["do_sys_openat2", "vfs_read", "x"], cookies: [7, 8n, 9], retprobe: true },
      sys,
    );
    const call = sys.calls.find((c) => c.op === "linkCreate")!;
    const o = call.args[0] as { attachType: number; extra: Record<string, unknown> };
    expect(o.attachType).toBe(BpfAttachType.TRACE_KPROBE_MULTI);
    expect(o.extra["kprobe_multi.cnt"]).toBe(3);
    expect(o.extra["kprobe_multi.flags"]).toBe(BpfFlags.BPF_F_KPROBE_MULTI_RETURN);
    expect(o.extra["kprobe_multi.addrs"]).toBeUndefined();
    const d = sys.object(fd).detail as Decoded;
    expect(d.type).toBe(BpfLinkType.KPROBE_MULTI);
    expect(d.kprobeMulti).toEqual({
      flags: 1,
      symbols: ["do_sys_openat2", "vfs_read", "x"],
      addresses: undefined,
      cookies: [7n, 8n, 9n],
    });
    fd.close();
    prog.close();
    sys.assertNoLeaks();
  });

  it("addresses instead of symbols; no cookies, entry probes", () => {
    const sys = new FakeSyscalls();
    const prog = sys.progLoad({
      type: BpfProgType.KPROBE,
      insns: new Uint8Array(16),
      license: "GPL",
      expectedAttachType: BpfAttachType.TRACE_KPROBE_MULTI,
    });
    using fd = kprobeMultiLinkCreate({ progFd: prog, addresses: [0xffffffff81000000n, 0x1234] }, sys);
    const d = sys.object(fd).detail as Decoded;
    expect(d.kprobeMulti).toEqual({
      flags: 0,
      symbols: undefined,
      addresses: [0xffffffff81000000n, 0x1234n],
      cookies: undefined,
    });
    prog.close();
  });

  it("neither or both of symbols/addresses, or cookies of another length: InvalidArgumentError, no call", () => {
    const sys = new FakeSyscalls();
    const p = { progFd: 1 };
    expect(() => kprobeMultiLinkCreate({ ...p }, sys)).toThrow(InvalidArgumentError);
    expect(() => kprobeMultiLinkCreate({ ...p, symbols: [] }, sys)).toThrow(/at least one/);
    expect(() => kprobeMultiLinkCreate({ ...p, symbols: ["a"], addresses: [1] }, sys)).toThrow(/not both/);
    expect(() => kprobeMultiLinkCreate({ ...p, symbols: ["a", "b"], cookies: [1] }, sys)).toThrow(
      /1 cookies for 2 symbols/,
    );
    expect(sys.calls).toHaveLength(0);
  });

  it("KProbe.attachMulti: an FdLink whose info is kprobe_multi; retprobe from the class or the option", () => {
    const sys = new FakeSyscalls();
    {
      using prog = KProbe.load(spec(BpfAttachType.TRACE_KPROBE_MULTI), { sys });
      const link = prog.attachMulti(["a", "b"], { cookies: [1n, 2n] });
      expect(link).toBeInstanceOf(FdLink);
      expect(link.description).toBe('kprobe.multi [a, b] (2 functions) "kpm"');
      const info = (link as FdLink).info();
      expect(info.typeName).toBe("kprobe_multi");
      const v = new DataView(info.raw.buffer);
      expect(v.getUint32(BpfLinkInfo.fields["kprobe_multi.count"].offset, true)).toBe(2);
      expect(v.getUint32(BpfLinkInfo.fields["kprobe_multi.flags"].offset, true)).toBe(0);
      const ret = prog.attachMulti(["c"], { retprobe: true });
      expect(ret.description).toBe('kretprobe.multi [c] (1 functions) "kpm"');
      expect(prog.links).toHaveLength(2);
    }
    {
      using prog = KRetProbe.load(spec(BpfAttachType.TRACE_KPROBE_MULTI), { sys });
      const link = prog.attachMulti(["a", "b", "c", "d", "e"]);
      expect(link.description).toBe('kretprobe.multi [a, b, c, d, ...] (5 functions) "kpm"');
      expect((sys.object((link as FdLink).fd).detail as Decoded).kprobeMulti.flags).toBe(1);
    }
    sys.assertNoLeaks();
  });

  it("KProbe.attachMulti errors: not loaded for kprobe.multi, bad names, nothing to attach, ESRCH", () => {
    const sys = new FakeSyscalls();
    {
      using plain = KProbe.load(spec(), { sys });
      expect(() => plain.attachMulti(["a"])).toThrow(
        expect.objectContaining({ code: "ERR_EBPF_ATTACH_TYPE" }),
      );
    }
    using prog = KProbe.load(spec(BpfAttachType.TRACE_KPROBE_MULTI), { sys });
    const target = expect.objectContaining({ code: "ERR_EBPF_ATTACH_TARGET" });
    expect(() => prog.attachMulti(["ok", "bad name"])).toThrow(target);
    expect(() => prog.attachMulti()).toThrow(/no functions/);
    expect(() => prog.attachMulti([])).toThrow(/no functions/);
    sys.failNext("linkCreate", "ESRCH");
    let err: unknown;
    try {
      prog.attachMulti(["a", "b"]);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "ERR_EBPF_ATTACH_TARGET" });
    expect((err as Error).message).toContain("not in kallsyms or cannot be traced");
    const cause = (err as { cause: unknown }).cause;
    expect(cause).toBeInstanceOf(SyscallError);
    expect((cause as SyscallError).errnoName).toBe("ESRCH");
    expect(prog.links).toHaveLength(0);
  });

  it("the fake kernel's EINVAL checks: a program not loaded for kprobe_multi, unknown flags", () => {
    const sys = new FakeSyscalls();
    const plain = sys.progLoad({ type: BpfProgType.KPROBE, insns: new Uint8Array(16), license: "GPL" });
    const attach = (extra: Record<string, number>) =>
      sys.linkCreate({
        progFd: plain,
        attachType: BpfAttachType.TRACE_KPROBE_MULTI,
        extra: { "kprobe_multi.cnt": 1, "kprobe_multi.addrs": 8, ...extra },
      });
    expect(() => attach({})).toThrow(expect.objectContaining({ errnoName: "EINVAL" }));
    plain.close();
    sys.assertNoLeaks();
  });

  it("globToRegExp: libbpf's * and ?, everything else literal", () => {
    const re = globToRegExp("__x64_sys_getp*id");
    expect(re.test("__x64_sys_getpid")).toBe(true);
    expect(re.test("__x64_sys_getppid")).toBe(true);
    expect(re.test("__x64_sys_getpid2")).toBe(false);
    expect(globToRegExp("vfs_rea?").test("vfs_read")).toBe(true);
    expect(globToRegExp("a.b").test("axb")).toBe(false);
    expect(globToRegExp("tcp_[ab]").test("tcp_a")).toBe(false);
    expect(globToRegExp("tcp_[ab]").test("tcp_[ab]")).toBe(true);
  });
});
