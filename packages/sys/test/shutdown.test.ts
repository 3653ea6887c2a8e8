// The poller must never keep a process alive once nothing is registered: run small programs against the
// built package (pnpm test builds first) and check that each exits by itself, promptly.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describeKernel } from "@ebpf/testing";
import { expect, it } from "vitest";

const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));

function run(body: string): { status: number | null; stdout: string; stderr: string; ms: number } {
  const script = `import { Poller, eventfd, eventfdRead, eventfdWrite } from ${JSON.stringify(dist)};\n${body}`;
  const t = Date.now();
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 15_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t };
}

describeKernel("poller shutdown", () => {
  it("the built package exists (pnpm build)", () => {
    expect(existsSync(dist), `${dist} missing: run pnpm build`).toBe(true);
  });

  it("exits after the last registration is removed inside its callback", () => {
    const r = run(`
      const ev = eventfd();
      const reg = Poller.shared().register(ev, () => { eventfdRead(ev); reg.unregister(); ev.close(); console.log("woke"); });
      eventfdWrite(ev);`);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("woke");
    expect(r.status).toBe(0);
    expect(r.ms).toBeLessThan(10_000);
  });

  it("exits when a registration that never fired is removed", () => {
    const r = run(`
      const ev = eventfd();
      const reg = Poller.shared().register(ev, () => {});
      setTimeout(() => { reg.unregister(); ev.close(); console.log("removed"); }, 50);`);
    expect(r.stdout.trim()).toBe("removed");
    expect(r.status).toBe(0);
  });

  it("exits after close() with registrations still in place", () => {
    const r = run(`
      const ev = eventfd();
      Poller.shared().register(ev, () => {});
      await Poller.shared().close();
      console.log("closed", Poller.shared().size);`);
    expect(r.stdout.trim()).toBe("closed 0");
    expect(r.status).toBe(0);
  });

  it("stays alive while something is registered (then is stopped by the timeout)", () => {
    const t = Date.now();
    const r = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { Poller, eventfd } from ${JSON.stringify(dist)}; Poller.shared().register(eventfd(), () => {});`,
      ],
      { timeout: 1000 },
    );
    expect(r.signal).toBe("SIGTERM");
    expect(Date.now() - t).toBeGreaterThanOrEqual(900);
  });
});
