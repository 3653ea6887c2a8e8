/** uname(2) and the running kernel's version, with the Debian and Ubuntu quirks. */
import { readFileSync } from "node:fs";
import { LinuxDefines } from "./abi.generated.js";
import { Scratch } from "./attr.js";
import { SyscallError } from "./errors.js";
import { errno, libc } from "./libc.js";

/** The fields of `struct utsname`. */
export interface Utsname {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
}

/**
 * uname(2).
 *
 * @example
 * ```ts
 * uname().release; // "6.18.44-fc-v657"
 * ```
 */
export function uname(): Utsname {
  const len = LinuxDefines.UTSNAME_FIELD_LEN;
  const s = new Scratch(len * 6);
  if (libc().uname(s.address) < 0) throw new SyscallError({ syscall: "uname", errno: errno() });
  const field = (i: number) => {
    const b = s.bytes.subarray(i * len, (i + 1) * len);
    const end = b.indexOf(0);
    return new TextDecoder().decode(b.subarray(0, end < 0 ? len : end));
  };
  return { sysname: field(0), nodename: field(1), release: field(2), version: field(3), machine: field(4) };
}

/** A kernel version. */
export interface KernelVersion {
  major: number;
  minor: number;
  patch: number;
  /** `KERNEL_VERSION(major, minor, patch)` as the kernel computes LINUX_VERSION_CODE (patch clamped to 255). */
  code: number;
  /** Where the numbers came from: "release", "debian" or "ubuntu". */
  source: "release" | "debian" | "ubuntu";
}

const code = (a: number, b: number, c: number) => (a << 16) + (b << 8) + Math.min(c, 255);

/**
 * Parses a kernel version from uname's release and version strings and Ubuntu's
 * `/proc/version_signature`. Pure, for tests.
 *
 * - Ubuntu: the release (`5.15.0-91-generic`) hides the upstream patch level; `/proc/version_signature`
 *   (`Ubuntu 5.15.0-91.101-generic 5.15.131`) ends with the real upstream version.
 * - Debian: the release (`5.10.0-23-amd64`) has patch 0; uname's version (`#1 SMP Debian 5.10.179-1
 *   (2023-05-12)`) carries the real one.
 */
export function parseKernelVersion(release: string, version = "", versionSignature?: string): KernelVersion {
  if (versionSignature) {
    const m = /(\d+)\.(\d+)\.(\d+)\s*$/.exec(versionSignature.trim());
    if (m) {
      const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
      return { major: a, minor: b, patch: c, code: code(a, b, c), source: "ubuntu" };
    }
  }
  const deb = /Debian (\d+)\.(\d+)\.(\d+)/.exec(version);
  if (deb) {
    const [a, b, c] = [Number(deb[1]), Number(deb[2]), Number(deb[3])];
    return { major: a, minor: b, patch: c, code: code(a, b, c), source: "debian" };
  }
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (!m) throw new Error(`cannot parse kernel release "${release}"`);
  const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  return { major: a, minor: b, patch: c, code: code(a, b, c), source: "release" };
}

let cached: KernelVersion | undefined;

/** The running kernel's version (cached for the process). */
export function kernelVersion(): KernelVersion {
  if (cached) return cached;
  const u = uname();
  let signature: string | undefined;
  try {
    signature = readFileSync("/proc/version_signature", "utf8");
  } catch {
    signature = undefined;
  }
  cached = parseKernelVersion(u.release, u.version, signature);
  return cached;
}

/** True when the running kernel is at least `major.minor[.patch]`. */
export function kernelAtLeast(major: number, minor: number, patch = 0): boolean {
  return kernelVersion().code >= code(major, minor, patch);
}
