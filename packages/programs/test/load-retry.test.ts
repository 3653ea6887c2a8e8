import { exit, mov64Imm } from "@ebpf/relocate";
import {
  BpfProgType,
  Errno,
  type Fd,
  kernelSyscalls,
  LoadError,
  type ProgLoadOptions,
  type Syscalls,
} from "@ebpf/sys";
import { describe, expect, it } from "vitest";
import { loadProgramFd, VerifierError } from "../src/index.js";

const spec = {
  name: "stubbed",
  type: BpfProgType.XDP,
  license: "GPL",
  instructions: [mov64Imm(0, 1), mov64Imm(1, 2), exit()],
};

/** A kernel seam whose PROG_LOAD fails like the verifier would, with a log of `logSize` bytes. */
function failingLoads(errno: number, log: string, logTrueSize = 0) {
  const sizes: (number | undefined)[] = [];
  const sys: Syscalls = {
    ...kernelSyscalls,
    progLoad(o: ProgLoadOptions): Fd {
      sizes.push(o.logBuf?.byteLength);
      const fail = (e: number, text: string) =>
        new LoadError({ syscall: "bpf", command: "BPF_PROG_LOAD", errno: e, log: text, logTrueSize });
      if (!o.logBuf) throw fail(errno, "");
      if (o.logBuf.byteLength < log.length + 1)
        throw fail(Errno.ENOSPC, log.slice(0, o.logBuf.byteLength - 1));
      throw fail(errno, log);
    },
  };
  return { sys, sizes };
}

describe("PROG_LOAD retry with a growing log (fake kernel)", () => {
  it("first loads without a log, then grows the buffer until the log fits", () => {
    const filler = "0: R1=ctx() R10=fp0\n".repeat(20000); // ~400 KB
    const log = `${filler}1: (b7) r1 = 2\nR0 !read_ok\nprocessed 2 insns (limit 1000000)\n`;
    const { sys, sizes } = failingLoads(Errno.EACCES, log);
    let err: unknown;
    try {
      loadProgramFd(spec, {}, sys);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerifierError);
    const v = err as VerifierError;
    expect(sizes).toEqual([undefined, 65536, 262144, 1048576]);
    expect(v.reason).toBe("R0 !read_ok");
    expect(v.insnIndex).toBe(1);
    expect(v.errnoName).toBe("EACCES");
    expect(v.truncated).toBe(false);
    expect(v.context).toContain(">    1: (b7) r1 = 2");
    expect(v.log).toBe(log);
  });

  it("jumps straight to log_true_size when the kernel reports it", () => {
    const log = `${"x\n".repeat(100000)}0: (b7) r0 = 1\nbad thing\n`;
    const { sys, sizes } = failingLoads(Errno.EINVAL, log, log.length + 1);
    expect(() => loadProgramFd(spec, {}, sys)).toThrow(VerifierError);
    expect(sizes).toEqual([undefined, 65536, log.length + 1]);
  });

  it("a failure without any log stays a LoadError that names the program", () => {
    const { sys, sizes } = failingLoads(Errno.EPERM, "");
    let err: unknown;
    try {
      loadProgramFd(spec, {}, sys);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).message).toMatch(
      /^program "stubbed" \(xdp\): bpf\(BPF_PROG_LOAD\) failed: EPERM/,
    );
    expect(sizes).toEqual([undefined, 65536]);
  });
});
