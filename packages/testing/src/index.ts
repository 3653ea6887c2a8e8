/**
 * Kernel-test gating shared by every package's tests.
 *
 * A kernel test needs privilege (root or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN), kernel BTF, bpffs and
 * tracefs. Locally a test that cannot run is skipped with the reason printed; with
 * `EBPF_REQUIRE_KERNEL=1` (set by `.ci/run`) a would-be skip is a failure, so CI cannot pass by skipping.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/** True when a would-be skip must fail instead (`EBPF_REQUIRE_KERNEL=1`). */
export const kernelRequired = process.env.EBPF_REQUIRE_KERNEL === "1";

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

function effectiveCaps(): bigint {
  const status = readFileSync("/proc/self/status", "utf8");
  const line = status.split("\n").find((l) => l.startsWith("CapEff:"));
  return line ? BigInt(`0x${line.slice(7).trim()}`) : 0n;
}

function hasCap(caps: bigint, cap: bigint): boolean {
  return (caps & (1n << cap)) !== 0n;
}

function isMounted(path: string, fstype: string): boolean {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .some((l) => {
      const [, mnt, type] = l.split(" ");
      return mnt === path && type === fstype;
    });
}

/** Mounts `fstype` at `path` if nothing of that type is there yet. Returns a reason on failure. */
function ensureMount(path: string, fstype: string): string | undefined {
  if (isMounted(path, fstype)) return undefined;
  try {
    execFileSync("mount", ["-t", fstype, fstype, path], { stdio: "pipe" });
    return undefined;
  } catch (e) {
    return `cannot mount ${fstype} at ${path}: ${(e as Error).message.split("\n")[0]}`;
  }
}

let cachedReason: string | null | undefined;

/**
 * Why kernel tests cannot run in this process, or `undefined` when they can. Mounts tracefs at
 * `/sys/kernel/tracing` and bpffs at `/sys/fs/bpf` when they are missing. Cached for the process.
 */
export function kernelUnavailableReason(): string | undefined {
  if (cachedReason !== undefined) return cachedReason ?? undefined;
  cachedReason = computeReason() ?? null;
  return cachedReason ?? undefined;
}

function computeReason(): string | undefined {
  if (process.platform !== "linux") return `not Linux (platform ${process.platform})`;
  if (process.env.EBPF_SKIP_KERNEL === "1") return "EBPF_SKIP_KERNEL=1";
  const caps = effectiveCaps();
  const root = process.getuid?.() === 0;
  if (!(root && hasCap(caps, CAP_SYS_ADMIN)) && !(hasCap(caps, CAP_BPF) && hasCap(caps, CAP_PERFMON))) {
    return "needs root or CAP_BPF + CAP_PERFMON (run the tests as root)";
  }
  if (!hasCap(caps, CAP_NET_ADMIN)) return "needs CAP_NET_ADMIN";
  if (!existsSync("/sys/kernel/btf/vmlinux")) return "no kernel BTF at /sys/kernel/btf/vmlinux";
  return ensureMount("/sys/fs/bpf", "bpf") ?? ensureMount("/sys/kernel/tracing", "tracefs");
}

/** A further requirement of one test or suite: returns why it cannot run, or `undefined`. */
export type Requirement = () => string | undefined;

function gate(requires: Requirement[], needsKernel = true): string | undefined {
  const base = needsKernel ? kernelUnavailableReason() : undefined;
  if (base) return base;
  for (const r of requires) {
    const reason = r();
    if (reason) return reason;
  }
  return undefined;
}

const warned = new Set<string>();
function warnSkip(name: string, reason: string): void {
  const key = `${name}\0${reason}`;
  if (warned.has(key)) return;
  warned.add(key);
  process.stderr.write(`[test skipped] ${name}: ${reason}\n`);
}

/**
 * `describe` for tests that need the real kernel. Skips with the reason printed, or fails under
 * `EBPF_REQUIRE_KERNEL=1`.
 *
 * @example
 * ```ts
 * describeKernel("hash map", () => { it("updates", () => { ... }) });
 * ```
 */
export function describeKernel(name: string, fn: () => void, ...requires: Requirement[]): void {
  describeGated(name, fn, gate(requires));
}

/**
 * `describe` for tests that need tools or fixtures but not the kernel (clang, bpftool, libbpf, test-vm
 * kernels): skipped with the reason printed locally, a failure under `EBPF_REQUIRE_KERNEL=1` (CI).
 *
 * @example
 * ```ts
 * describeWhen("C printer output compiles", () => { ... }, needsTool("clang"));
 * ```
 */
export function describeWhen(name: string, fn: () => void, ...requires: Requirement[]): void {
  describeGated(name, fn, gate(requires, false));
}

/** `it` for a test that needs tools or fixtures but not the kernel; same rules as {@link describeWhen}. */
export function itWhen(
  name: string,
  fn: () => unknown | Promise<unknown>,
  options: { timeout?: number; requires?: Requirement[] } = {},
): void {
  itGated(name, fn, options.timeout, gate(options.requires ?? [], false));
}

/**
 * `it` gated on tool/fixture requirements, in the curried shape of `it.skipIf(cond)(name, fn)`:
 * `itRequires(needsTool("clang"))("compiles", () => { ... })`. Same rules as {@link describeWhen}.
 */
export function itRequires(
  ...requires: Requirement[]
): (name: string, fn: () => unknown | Promise<unknown>, timeout?: number) => void {
  return (name, fn, timeout) => itGated(name, fn, timeout, gate(requires, false));
}

/** `describe` gated on tool/fixture requirements, curried like {@link itRequires}. */
export function describeRequires(...requires: Requirement[]): (name: string, fn: () => void) => void {
  return (name, fn) => describeGated(name, fn, gate(requires, false));
}

/** Requirement: a file or directory exists (fixtures, caches). `hint` says how to make it. */
export function needsPath(path: string, hint: string): Requirement {
  return () => (existsSync(path) ? undefined : `${path} is missing (${hint})`);
}

function describeGated(name: string, fn: () => void, reason: string | undefined): void {
  if (!reason) {
    describe(name, fn);
  } else if (kernelRequired) {
    describe(name, () => {
      it("kernel requirements", () => {
        throw new Error(`test "${name}" cannot run: ${reason} (EBPF_REQUIRE_KERNEL=1 forbids skipping)`);
      });
    });
  } else {
    warnSkip(name, reason);
    describe.skip(`${name} [skipped: ${reason}]`, fn);
  }
}

/** `it` for a single test that needs the real kernel; same rules as {@link describeKernel}. */
export function itKernel(
  name: string,
  fn: () => unknown | Promise<unknown>,
  options: { timeout?: number; requires?: Requirement[] } = {},
): void {
  itGated(name, fn, options.timeout, gate(options.requires ?? []));
}

function itGated(
  name: string,
  fn: () => unknown | Promise<unknown>,
  timeout: number | undefined,
  reason: string | undefined,
): void {
  if (!reason) {
    it(name, fn, timeout);
  } else if (kernelRequired) {
    it(name, () => {
      throw new Error(`test "${name}" cannot run: ${reason} (EBPF_REQUIRE_KERNEL=1 forbids skipping)`);
    });
  } else {
    warnSkip(name, reason);
    it.skip(`${name} [skipped: ${reason}]`, fn);
  }
}

/** The numbers of this process's open file descriptors, from `/proc/self/fd`. */
export function openFds(): Set<number> {
  return new Set(readdirSync("/proc/self/fd").map(Number));
}

/** True when `fd` is open in this process. */
export function fdIsOpen(fd: number): boolean {
  return existsSync(`/proc/self/fd/${fd}`);
}

/** Requirement: a tool on PATH (e.g. `bpftool`, `ip`). */
export function needsTool(tool: string): Requirement {
  return () => {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "pipe" });
      return undefined;
    } catch {
      return `${tool} is not installed (run tools/setup.sh)`;
    }
  };
}

/** The running kernel's `major.minor`, read from `/proc/sys/kernel/osrelease` (independently of @ebpf/sys). */
export function kernelRelease(): { major: number; minor: number; release: string } {
  const release = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  const [major = 0, minor = 0] = release.split(/[.-]/).map(Number);
  return { major, minor, release };
}

/**
 * True when the running kernel is at least `version` (`"6.6"`). For features that older kernels lack, a
 * test asserts the behaviour when this is true and the library's typed "not supported" error otherwise,
 * so that it runs (and can fail) on every kernel of test-vm instead of skipping.
 *
 * @example
 * ```ts
 * if (kernelAtLeast("6.6")) expect(link.order).toEqual([a, b]);
 * else expect(() => attach()).toThrow(expect.objectContaining({ code: "ERR_EBPF_NOT_SUPPORTED" }));
 * ```
 */
export function kernelAtLeast(version: string): boolean {
  const [wantMajor = 0, wantMinor = 0] = version.split(".").map(Number);
  const { major, minor } = kernelRelease();
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

/** What {@link expectNotSupported} checked: the fields of @ebpf/sys's `NotSupportedError`. */
export interface NotSupportedShape extends Error {
  readonly code: "ERR_EBPF_NOT_SUPPORTED";
  readonly feature: string;
  readonly minKernel: string | undefined;
}

/**
 * Asserts that `fn` throws the library's typed `NotSupportedError` (code `ERR_EBPF_NOT_SUPPORTED`) naming
 * `minKernel`, the first mainline kernel with the feature (undefined when none has it): what kernel tests
 * assert on kernels older than a feature. Checked by name and fields, so this package stays below
 * @ebpf/sys. Returns the error for further checks.
 *
 * @example
 * ```ts
 * if (!kernelAtLeast("6.6")) expectNotSupported(() => prog.attach(iface, { before: other }), "6.6");
 * ```
 */
export function expectNotSupported(fn: () => unknown, minKernel: string | undefined): NotSupportedShape {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(Error);
  expect(err).toMatchObject({ name: "NotSupportedError", code: "ERR_EBPF_NOT_SUPPORTED", minKernel });
  const e = err as NotSupportedShape;
  if (minKernel !== undefined) expect(e.message).toContain(`needs Linux ${minKernel}`);
  return e;
}
