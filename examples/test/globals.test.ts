// The global-variables example: .rodata configures before load, .bss is read live, .data changes are seen
// by the running program. The program counts getppid() calls, which this test makes itself.
import { execFileSync } from "node:child_process";
import { describeKernel } from "@ebpf/testing";
import { GlobalVariableError, TracePoint } from "ebpf";
import { expect, it } from "vitest";
import { GetppidWatch } from "../src/globals.js";
import { programsStillLoaded } from "../src/process-tracer.js";

/** `n` getppid() syscalls from this process (`process.ppid` is not cached). */
function getppid(n: number): void {
  for (let i = 0; i < n; i++) void process.ppid;
}

describeKernel("example: global variables", () => {
  it("counts this process's calls in .bss and follows .data changes made while running", () => {
    using watch = GetppidWatch.attach();
    expect(watch.targetTgid).toBe(process.pid);
    expect(watch.stats()).toEqual({ calls: 0n, total: 0n, lastTgid: 0, lastNote: "" });

    getppid(5);
    expect(watch.stats()).toEqual({ calls: 5n, total: 5n, lastTgid: process.pid, lastNote: "initial" });

    watch.setStep(7n);
    watch.setNote("changed");
    expect(watch.stats().calls).toBe(5n); // setting .data runs nothing
    getppid(3);
    expect(watch.stats()).toEqual({
      calls: 8n,
      total: 5n + 3n * 7n,
      lastTgid: process.pid,
      lastNote: "changed",
    });
  });

  it("takes initial .data values from the load options; .rodata is read-only after load", () => {
    using watch = GetppidWatch.attach({ step: 1000n, note: "from-options" });
    getppid(2);
    expect(watch.stats()).toMatchObject({ calls: 2n, total: 2000n, lastNote: "from-options" });
    expect(() => watch.bpf.globals.set("target_tgid", 1)).toThrow(GlobalVariableError);
    expect(watch.targetTgid).toBe(process.pid);
    expect(watch.bpf.globals.describe("target_tgid")).toMatchObject({ section: ".rodata", readonly: true });
    expect(watch.bpf.globals.describe("calls").section).toBe(".bss");
    expect(watch.bpf.globals.describe("step").section).toBe(".data");
  });

  it("the .rodata target filters: another process's calls count only where it is not set", async () => {
    const mine = GetppidWatch.attach();
    const everyone = GetppidWatch.attach({ targetTgid: 0 });
    const ids = [mine, everyone].map((w) => w.bpf.program("on_getppid", TracePoint).info().id);
    try {
      const child = Number(
        execFileSync(process.execPath, ["-e", "process.ppid; process.ppid; console.log(process.pid)"]),
      );
      expect(mine.stats().calls).toBe(0n);
      expect(everyone.stats().calls).toBeGreaterThanOrEqual(2n);
      expect(everyone.stats().lastTgid).not.toBe(process.pid);
      expect(child).toBeGreaterThan(0);
    } finally {
      mine.close();
      everyone.close();
    }
    expect(await programsStillLoaded(ids)).toEqual([]);
  });
});
