import { exit, ldx, mov64Imm, Size } from "@ebpf/relocate";
import { BpfProgType, NotSupportedError, XdpAction } from "@ebpf/sys";
import { describeKernel } from "@ebpf/testing";
import { expect, it } from "vitest";
import { Program, VerifierError } from "../src/index.js";

describeKernel("program load", () => {
  it("loads raw instructions and test-runs them", () => {
    using prog = Program.load({
      name: "xdp_pass",
      type: BpfProgType.XDP,
      license: "GPL",
      instructions: [mov64Imm(0, XdpAction.PASS), exit()],
    });
    const packet = new Uint8Array(64).fill(7);
    const r = prog.testRun({ data: packet, repeat: 10 });
    expect(r.retval).toBe(XdpAction.PASS);
    expect(Array.from(r.dataOut)).toEqual(Array.from(packet));
    const info = prog.info();
    expect(info.name).toBe("xdp_pass");
    expect(info.typeName).toBe("xdp");
  });

  it("turns a verifier rejection into a VerifierError with the failing instruction", () => {
    let err: unknown;
    try {
      Program.load({
        name: "bad_ctx",
        type: BpfProgType.XDP,
        license: "GPL",
        instructions: [mov64Imm(0, 1), ldx(Size.W, 2, 1, 400), exit()],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerifierError);
    const v = err as VerifierError;
    expect(v.code).toBe("ERR_EBPF_VERIFIER");
    expect(v.reason).toMatch(/invalid bpf_context access off=400/);
    expect(v.insnIndex).toBe(1);
    expect(v.message.split("\n")[0]).toBe(`program "bad_ctx" rejected by the verifier: ${v.reason}`);
    expect(v.context).toMatch(/>\s+1: \(61\) r2 = \*\(u32 \*\)\(r1 \+400\)/);
    expect(v.log).toContain("processed");
  });

  it("takes a verbose log (level 2) when asked", () => {
    const spec = {
      name: "bad_ctx2",
      type: BpfProgType.XDP,
      license: "GPL",
      instructions: [mov64Imm(0, 1), ldx(Size.W, 2, 1, 400), exit()],
    };
    const logOf = (level?: 1 | 2) => {
      try {
        Program.load(spec, { verifierLog: { level, initialSize: 256 } }).close();
      } catch (e) {
        return (e as VerifierError).log;
      }
      throw new Error("loaded");
    };
    const normal = logOf();
    const verbose = logOf(2);
    expect(verbose.length).toBeGreaterThan(normal.length);
    expect(verbose).toContain("invalid bpf_context access");
  });
});

describeKernel("unsupported program types", () => {
  it("a type this kernel does not know is a NotSupportedError, not a bare EINVAL", () => {
    expect(() =>
      Program.load({ name: "future", type: 999, license: "GPL", instructions: [mov64Imm(0, 0), exit()] }),
    ).toThrow(NotSupportedError);
  });
});
