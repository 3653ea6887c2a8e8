// The uprobe example on a program built with gcc at test time: the probes see every call of compute(),
// with its arguments and result, and agree exactly with what the program itself printed.
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { describeKernel } from "@ebpf/testing";
import { expect, it } from "vitest";
import { programsStillLoaded } from "../src/process-tracer.js";
import { buildTarget, ComputeProbes } from "../src/uprobe.js";

describeKernel("example: uprobe on a program it builds", () => {
  it("counts each call, its arguments and results; detaches; removes the build", async () => {
    const target = buildTarget();
    let ids: number[] = [];
    try {
      const probes = ComputeProbes.attach(target.path);
      ids = probes.programIds;
      try {
        expect(probes.counters().calls).toBe(0n);
        const run = await target.run(10);
        expect(run).toMatchObject({ calls: 10, sumA: 45, sumRet: 145 });
        expect(probes.counters()).toEqual({
          calls: 10n,
          sumA: 45n, // 0 + 1 + … + 9
          sumB: 30n, // b = 3 each time
          returns: 10n,
          sumRet: 145n, // Σ (3a + 1)
          lastPid: run.pid,
        });
        await target.run(5);
        expect(probes.counters()).toMatchObject({ calls: 15n, sumA: 55n, returns: 15n });
      } finally {
        probes.close();
      }
      expect(await programsStillLoaded(ids)).toEqual([]);
    } finally {
      target[Symbol.dispose]();
    }
    expect(existsSync(dirname(target.path))).toBe(false);
  });

  it("with a pid, only that process's calls count", async () => {
    using target = buildTarget();
    using probes = ComputeProbes.attach(target.path, { pid: process.pid }); // this process never runs it
    using everyone = ComputeProbes.attach(target.path);
    await target.run(10);
    expect(everyone.counters().calls).toBe(10n);
    expect(probes.counters().calls).toBe(0n);
    expect(probes.counters().returns).toBe(0n);
  });
});
