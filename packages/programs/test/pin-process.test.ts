import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describeKernel } from "@ebpf/testing";
import { afterAll, expect, it } from "vitest";
import { enableStats, FdLink, listLinks, programInfoById } from "../src/index.js";

// A child process uses the built package (dist), as an application would; the test needs `pnpm build`.
const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const srcDir = fileURLToPath(new URL("../src", import.meta.url));
const buildInfo = fileURLToPath(new URL("../dist/.tsbuildinfo", import.meta.url));
const newestSource = (dir: string): number =>
  Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newestSource(`${dir}/${e.name}`) : statSync(`${dir}/${e.name}`).mtimeMs,
    ),
  );
const built = (): string | undefined =>
  !existsSync(dist) || !existsSync(buildInfo)
    ? "packages/programs is not built (pnpm build)"
    : statSync(buildInfo).mtimeMs < newestSource(srcDir)
      ? "packages/programs/dist is older than src (pnpm build)"
      : undefined;

describeKernel(
  "a pinned link outlives the process that made it",
  () => {
    const pin = `/sys/fs/bpf/ebpf-programs-${process.pid}-xproc`;
    afterAll(() => {
      if (existsSync(pin)) FdLink.fromPin(pin).detach();
    });

    it("keeps running after the process exits, until the pin is removed", async () => {
      const script = `
        import { RawTracePoint } from ${JSON.stringify(dist)};
        import { exit, mov64Imm } from "@ebpf/relocate";
        const prog = RawTracePoint.load({ name: "xproc", type: 17, license: "GPL", instructions: [mov64Imm(0, 0), exit()] });
        const link = prog.attach("sys_enter");
        link.pin(${JSON.stringify(pin)});
        console.log(JSON.stringify({ prog: prog.info().id, link: link.info().id }));
        prog.close();`;
      const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        cwd: fileURLToPath(new URL("..", import.meta.url)),
      }).toString();
      const ids = JSON.parse(out.trim().split("\n").pop()!) as { prog: number; link: number };
      expect(existsSync(pin)).toBe(true);
      expect(listLinks().find((l) => l.id === ids.link)?.progId).toBe(ids.prog);
      using stats = enableStats();
      const before = programInfoById(ids.prog).runCnt;
      process.ppid;
      expect(programInfoById(ids.prog).runCnt).toBeGreaterThan(before);
      FdLink.fromPin(pin).detach();
      expect(existsSync(pin)).toBe(false);
      // bpffs drops a pin's reference when it frees the inode, after an RCU grace period: allow a moment.
      const until = Date.now() + 2000;
      while (listLinks().some((l) => l.id === ids.link) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 20));
      expect(listLinks().some((l) => l.id === ids.link)).toBe(false);
      void stats;
    });
  },
  built,
);
