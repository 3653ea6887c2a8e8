import { BtfError, BtfKind } from "@ebpf/btf";
import { clearKernelBtfCache, loadKernelBtf, loadModuleBtf } from "@ebpf/btf/node";
import { describeKernel } from "@ebpf/testing";
import { expect, it } from "vitest";

describeKernel("Node entry: kernel BTF from sysfs", () => {
  it("parses vmlinux once per process until the cache is cleared", () => {
    const a = loadKernelBtf();
    expect(loadKernelBtf()).toBe(a);
    expect(loadModuleBtf("vmlinux")).toBe(a);
    expect(a.findByName("task_struct", BtfKind.Struct)).toBeDefined();
    clearKernelBtfCache();
    const b = loadKernelBtf();
    expect(b).not.toBe(a);
    expect(b.count).toBe(a.count);
  });

  it("reports a missing module as ERR_EBPF_BTF_UNAVAILABLE and rejects path-like names", () => {
    const missing = `no_such_module_${process.pid}`;
    expect(() => loadModuleBtf(missing)).toThrow(BtfError);
    try {
      loadModuleBtf(missing);
    } catch (e) {
      expect((e as BtfError).code).toBe("ERR_EBPF_BTF_UNAVAILABLE");
      expect((e as BtfError).message).toContain(missing);
    }
    expect(() => loadModuleBtf("../vmlinux")).toThrow(/invalid module name/);
  });
});
