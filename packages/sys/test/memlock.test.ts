// RLIMIT_MEMLOCK: kernels before 5.11 charge maps and programs to it, and the library raises it (like libbpf)
// when the kernel says EPERM. Each case runs in a child process with a soft limit of 64 KiB, against the built
// package (pnpm test builds first), so the test process's own limit is never touched.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describeKernel } from "@ebpf/testing";
import { expect, it } from "vitest";

const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));

/**
 * Runs `body` (an ES module using the package's exports) with the soft RLIMIT_MEMLOCK at SOFT bytes (the hard
 * limit stays: lowering it would need CAP_SYS_RESOURCE to undo); parses its JSON.
 */
function run(body: string): Record<string, unknown> {
  const script = `import * as sys from ${JSON.stringify(dist)};\nconst out = {};\n${body}\nconsole.log(JSON.stringify(out));`;
  // util-linux prlimit, not bash's ulimit: bash takes 8-30 s to start in the test VMs.
  const r = spawnSync(
    "prlimit",
    [`--memlock=${SOFT}:`, process.execPath, "--input-type=module", "-e", script],
    {
      encoding: "utf8",
      timeout: 20_000,
    },
  );
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}");
}

/** The hard limit in bytes (null for unlimited, as JSON prints Infinity), read independently of the package. */
const hardLine = readFileSync("/proc/self/limits", "utf8")
  .split("\n")
  .find((l) => l.startsWith("Max locked memory"));
const hardField = hardLine?.trim().split(/\s+/)[4];
const hard = hardField === "unlimited" || hardField === undefined ? null : Number(hardField);
/** The soft limit the children run under: 64 KiB, or the hard limit when that is lower. */
const SOFT = Math.min(64 * 1024, hard ?? Number.POSITIVE_INFINITY);
const capEff = readFileSync("/proc/self/status", "utf8").match(/^CapEff:\s*([0-9a-f]+)/m)?.[1] ?? "0";
const CAP_SYS_RESOURCE = 24n;
const canRaiseHard = (BigInt(`0x${capEff}`) & (1n << CAP_SYS_RESOURCE)) !== 0n;
/** What raiseMemlockLimit leaves: unlimited with CAP_SYS_RESOURCE, else the soft limit up to the hard one. */
const raised = canRaiseHard ? { current: null, maximum: null } : { current: hard, maximum: hard };

const [major = 0, minor = 0] = readFileSync("/proc/sys/kernel/osrelease", "utf8").split(/[.-]/).map(Number);
const chargesMemlock = major < 5 || (major === 5 && minor < 11);

describeKernel("RLIMIT_MEMLOCK", () => {
  it(`memlockLimit reads the limit and raiseMemlockLimit raises it, once (${canRaiseHard ? "to unlimited" : "soft to hard: no CAP_SYS_RESOURCE"})`, () => {
    const out = run(`
      out.before = sys.memlockLimit();
      out.first = sys.raiseMemlockLimit();
      out.after = sys.memlockLimit();
      out.second = sys.raiseMemlockLimit();`);
    expect(out.before).toEqual({ current: SOFT, maximum: hard });
    expect(out.first).toBe(true);
    expect(out.after).toEqual(raised);
    expect(out.second).toBe(false);
  });

  it("an EPERM from BPF_MAP_CREATE raises the limit and retries once", () => {
    const out = run(`
      let creates = 0;
      sys.setFaultInjector((name, args) => {
        if (name !== "bpf" || args[0] !== sys.BpfCmd.MAP_CREATE) return 0;
        creates++;
        return creates === 1 ? sys.Errno.EPERM : 0;
      });
      const fd = sys.mapCreate({ type: sys.BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
      fd.close();
      out.creates = creates;
      out.limit = sys.memlockLimit().current;`);
    expect(out.creates).toBe(2);
    expect(out.limit).toBe(raised.current);
  });

  it("once the limit is as high as it goes, an EPERM is reported, not retried", () => {
    const out = run(`
      sys.raiseMemlockLimit();
      let creates = 0;
      sys.setFaultInjector((name, args) => {
        if (name !== "bpf" || args[0] !== sys.BpfCmd.MAP_CREATE) return 0;
        creates++;
        return sys.Errno.EPERM;
      });
      try { sys.mapCreate({ type: sys.BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 }); }
      catch (e) { out.code = e.code; out.errno = e.errno; }
      out.creates = creates;`);
    expect(out).toEqual({ code: "ERR_EBPF_SYSCALL", errno: 1, creates: 1 });
  });

  it(`a 16 MiB map loads under a 64 KiB soft limit (this kernel ${chargesMemlock ? "charges" : "does not charge"} memlock)`, () => {
    const out = run(`
      const fd = sys.mapCreate({ type: sys.BpfMapType.ARRAY, keySize: 4, valueSize: 4096, maxEntries: 4096 });
      fd.close();
      out.limit = sys.memlockLimit().current;`);
    // Before 5.11 the create could only succeed by raising the limit; from 5.11 on it is left alone.
    expect(out.limit).toBe(chargesMemlock ? raised.current : SOFT);
  });
});
