import { spawn } from "node:child_process";
import { once } from "node:events";
import { describeKernel } from "@ebpf/testing";
import { expect, it } from "vitest";
import { type ProcessEvent, programsStillLoaded, traceProcesses } from "../src/process-tracer.js";

describeKernel("example: process tracer", () => {
  it("sees a process it starts: exec with the file name, exit with its code; leaves nothing behind", async () => {
    const events: ProcessEvent[] = [];
    const stop = new AbortController();
    let childPid = 0;
    const tracing = traceProcesses({
      signal: stop.signal,
      onEvent(e) {
        events.push(e);
        if (e.kind === 1 && e.pid === childPid) stop.abort();
      },
    });
    // Start the child once the programs are attached (the tracer needs a moment to load).
    await new Promise((r) => setTimeout(r, 500));
    const child = spawn("/bin/sh", ["-c", "exit 3"], { stdio: "ignore" });
    childPid = child.pid ?? 0;
    await once(child, "exit");
    const timeout = setTimeout(() => stop.abort(), 5000);
    const counters = await tracing;
    clearTimeout(timeout);

    const exec = events.find((e) => e.kind === 0 && e.pid === childPid);
    const exit = events.find((e) => e.kind === 1 && e.pid === childPid);
    expect(exec?.filename).toBe("/bin/sh");
    expect(exec?.ppid).toBe(process.pid);
    expect(exit?.exit_code).toBe(3);
    expect(exit?.comm).toBe("sh");
    expect(counters.execs).toBeGreaterThanOrEqual(1n);
    expect(counters.exits).toBeGreaterThanOrEqual(1n);
    expect(await programsStillLoaded(counters.programIds)).toEqual([]);
  });
});
