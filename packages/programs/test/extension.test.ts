import { BtfKind } from "@ebpf/btf";
import { kernelSyscalls, XdpAction } from "@ebpf/sys";
import { describeKernel } from "@ebpf/testing";
import { expect, it } from "vitest";
import { Extension, resolveAttachTarget, Xdp } from "../src/index.js";
import { openTestObject } from "./objects.js";

describeKernel("freplace extensions", () => {
  it("replaces a global function of a loaded program while attached", () => {
    using obj = openTestObject("prog_freplace");
    using target = Xdp.load(obj.load("xdp_entry"));
    const data = new Uint8Array(64);
    expect(target.testRun({ data }).retval).toBe(XdpAction.PASS);
    const [decideId] = obj.btf.findIdsByName("decide", BtfKind.Func);
    let ext: Extension;
    try {
      ext = Extension.load(obj.load("decide_drop", { attachProgFd: target.fd, attachBtfId: decideId }));
    } catch (e) {
      // Like fentry, freplace is refused under lockdown on some hosts: the error must say so.
      expect(String(e)).toMatch(/EPERM.*lockdown/);
      return;
    }
    try {
      const link = ext.attach();
      expect(target.testRun({ data }).retval).toBe(XdpAction.DROP);
      link.detach();
      expect(target.testRun({ data }).retval).toBe(XdpAction.PASS);
    } finally {
      ext.close();
    }
  });

  it("finds the replaced function by name in the target program's BTF, read back from the kernel", () => {
    using obj = openTestObject("prog_freplace");
    using target = Xdp.load(obj.load("xdp_entry"));
    const [decideId] = obj.btf.findIdsByName("decide", BtfKind.Func);
    const spec = obj.load("decide_drop", { attachProgFd: target.fd, attachTo: "decide" });
    expect(resolveAttachTarget(spec, kernelSyscalls)).toEqual({ attachBtfId: decideId });
    expect(() => resolveAttachTarget({ ...spec, attachTo: "nope" }, kernelSyscalls)).toThrow(
      /function "nope" not found in the BTF of program id/,
    );
  });
});
