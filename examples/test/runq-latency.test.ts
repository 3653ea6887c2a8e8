// The run-queue latency example: a child process that sleeps 1 ms 200 times is woken (and waits to run)
// at least 200 times, and the histogram limited to that child counts them; the drawing is checked exactly.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describeKernel } from "@ebpf/testing";
import { describe, expect, it } from "vitest";
import { programsStillLoaded } from "../src/process-tracer.js";
import { RunqLatency, renderHistogram, SLOTS } from "../src/runq-latency.js";

const sum = (slots: bigint[]) => slots.reduce((a, b) => a + b, 0n);

describe("example: run-queue latency drawing", () => {
  it("draws one line per slot up to the last non-empty one, bars scaled to the largest", () => {
    const slots = Array.from({ length: SLOTS }, () => 0n);
    slots[0] = 5n;
    slots[2] = 20n;
    slots[3] = 10n;
    expect(renderHistogram(slots, "usecs", 8).split("\n")).toEqual([
      "                   usecs: count      distribution",
      "         0 -> 1         : 5          |**      |",
      "         2 -> 3         : 0          |        |",
      "         4 -> 7         : 20         |********|",
      "         8 -> 15        : 10         |****    |",
    ]);
    expect(renderHistogram(Array.from({ length: SLOTS }, () => 0n))).toBe("(no usecs counted)");
  });
});

describeKernel("example: run-queue latency", () => {
  it("counts every wake-up of the process it watches, and nothing before it runs", async () => {
    // The child waits for a line on stdin, then sleeps 1 ms 200 times: each sleep ends in a wake-up.
    const script = `process.stdin.once("data", async () => {
      for (let i = 0; i < 200; i++) await new Promise((r) => setTimeout(r, 1));
      process.exit(0);
    });`;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "ignore", "inherit"] });
    let ids: number[] = [];
    try {
      await once(child, "spawn");
      const runq = RunqLatency.attach({ targetTgid: child.pid });
      ids = runq.programIds;
      try {
        await new Promise((r) => setTimeout(r, 100));
        const idle = sum(runq.histogram()); // the child blocks on stdin: (almost) no waits yet
        child.stdin?.write("go\n");
        await once(child, "exit");
        const slots = runq.histogram();
        expect(slots).toHaveLength(SLOTS);
        expect(sum(slots) - idle).toBeGreaterThanOrEqual(200n);
        expect(idle).toBeLessThan(50n);
        runq.reset();
        expect(sum(runq.histogram())).toBe(0n);
      } finally {
        runq.close();
      }
    } finally {
      child.kill();
    }
    expect(await programsStillLoaded(ids)).toEqual([]);
  });

  it("sees waits of the whole machine when not limited to a process", async () => {
    using runq = RunqLatency.attach();
    await new Promise((r) => setTimeout(r, 200));
    expect(sum(runq.histogram())).toBeGreaterThan(0n);
  });
});
