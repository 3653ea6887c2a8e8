import { exit, ldx, mov64Imm, Size } from "@ebpf/relocate";
import { BpfAttachType, BpfProgType, FakeSyscalls, SyscallError } from "@ebpf/sys";
import { describe, expect, it } from "vitest";
import {
  AttachError,
  cgroupAttachType,
  FdLink,
  RawTracePoint,
  TracePoint,
  VerifierError,
  Xdp,
} from "../src/index.js";

const spec = (name: string, type: number) => ({
  name,
  type,
  license: "GPL",
  instructions: [mov64Imm(0, 0), ldx(Size.W, 2, 1, 0), exit()],
});

describe("programs and links over the fake kernel", () => {
  it("closing a program closes its links and its fd; nothing leaks", () => {
    const sys = new FakeSyscalls();
    const prog = RawTracePoint.load(spec("p", BpfProgType.RAW_TRACEPOINT), { sys });
    const a = prog.attach("sys_enter");
    const b = prog.attach("sys_exit");
    expect(prog.links).toEqual([a, b]);
    a.detach();
    expect(prog.links).toEqual([b]);
    prog.close();
    expect(b.closed).toBe(true);
    a.close(); // idempotent after detach
    sys.assertNoLeaks();
  });

  it("a verifier verdict becomes a VerifierError pointing at the instruction", () => {
    const sys = new FakeSyscalls();
    sys.onProgLoad = (o) =>
      o.logBuf
        ? {
            errno: "EACCES",
            log: "0: R1=ctx() R10=fp0\n1: (61) r2 = *(u32 *)(r1 +0)\nR1 invalid mem access 'scalar'\nprocessed 2 insns\n",
          }
        : { errno: "EACCES" };
    let err: unknown;
    try {
      Xdp.load(spec("bad", BpfProgType.XDP), { sys });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerifierError);
    expect((err as VerifierError).reason).toBe("R1 invalid mem access 'scalar'");
    expect((err as VerifierError).context).toContain(">    1: (61) r2 = *(u32 *)(r1 +0)");
    expect(sys.calls.filter((c) => c.op === "progLoad")).toHaveLength(2);
    sys.assertNoLeaks();
  });

  it("a typed class refuses another program type before any syscall", () => {
    const sys = new FakeSyscalls();
    expect(() => Xdp.load(spec("tp", BpfProgType.TRACEPOINT), { sys })).toThrow(AttachError);
    expect(sys.calls).toHaveLength(0);
  });

  it("testRun grows the output buffer once on ENOSPC", () => {
    const sys = new FakeSyscalls();
    using prog = Xdp.load(spec("x", BpfProgType.XDP), { sys });
    sys.failNext("progTestRun", "ENOSPC");
    const r = prog.testRun({ data: new Uint8Array(100).fill(9) });
    const runs = sys.calls.filter((c) => c.op === "progTestRun");
    expect(runs).toHaveLength(2);
    const sizes = runs.map((c) => (c.args[0] as { dataOut: Uint8Array }).dataOut.length);
    expect(sizes[1]).toBeGreaterThan(sizes[0]);
    expect(Array.from(r.dataOut)).toEqual(new Array(100).fill(9));
  });

  it("link update swaps the program, and refuses when the expected one is not attached", () => {
    const sys = new FakeSyscalls();
    using a = RawTracePoint.load(spec("a", BpfProgType.RAW_TRACEPOINT), { sys });
    using b = RawTracePoint.load(spec("b", BpfProgType.RAW_TRACEPOINT), { sys });
    using c = TracePoint.load(spec("c", BpfProgType.TRACEPOINT), { sys });
    const link = a.attach("sys_enter");
    expect(link).toBeInstanceOf(FdLink);
    if (!(link instanceof FdLink)) return;
    link.update(b, a);
    expect(link.info().progId).toBe(b.info().id);
    expect(() => link.update(a, c)).toThrow(SyscallError);
    link.detach();
  });
});

describe("cgroup hook names", () => {
  it("maps names and shorthands to attach types and lists the hooks on a typo", () => {
    expect(cgroupAttachType("ingress")).toBe(BpfAttachType.CGROUP_INET_INGRESS);
    expect(cgroupAttachType("egress")).toBe(BpfAttachType.CGROUP_INET_EGRESS);
    expect(cgroupAttachType("BPF_CGROUP_INET4_CONNECT")).toBe(BpfAttachType.CGROUP_INET4_CONNECT);
    expect(cgroupAttachType("sock_ops")).toBe(BpfAttachType.CGROUP_SOCK_OPS);
    expect(cgroupAttachType("unix_connect")).toBe(BpfAttachType.CGROUP_UNIX_CONNECT);
    expect(() => cgroupAttachType("ingres")).toThrow(
      /unknown cgroup hook "ingres" \(one of: ingress, egress/,
    );
  });
});
