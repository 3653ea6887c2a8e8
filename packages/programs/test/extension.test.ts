import { BtfKind } from "@ebpf/btf";
import { XdpAction } from "@ebpf/sys";
import { describeKernel } from "@ebpf/testing";
import { expect, it } from "vitest";
import { Extension, Xdp } from "../src/index.js";
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

  it("without a BTF id, loading an extension by name says what is missing", () => {
    using obj = openTestObject("prog_freplace");
    using target = Xdp.load(obj.load("xdp_entry"));
    expect(() => Extension.load(obj.load("decide_drop", { attachProgFd: target.fd }))).toThrow(/attachBtfId/);
  });
});
