/**
 * Values for `.kconfig` externs: the running kernel's build config (`/proc/config.gz`, else
 * `/boot/config-<release>`) plus the names libbpf synthesises (`LINUX_KERNEL_VERSION`,
 * `LINUX_HAS_SYSCALL_WRAPPER`, `LINUX_HAS_BPF_COOKIE`).
 */
import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { parseKernelConfig } from "@ebpf/relocate";
import { kernelVersion, uname } from "@ebpf/sys";

let cachedConfig: Map<string, string> | undefined;

/** The running kernel's config as `NAME → value` (empty when the kernel exposes none). Cached. */
export function runningKernelConfig(): Map<string, string> {
  if (cachedConfig) return cachedConfig;
  let text = "";
  if (existsSync("/proc/config.gz")) {
    text = gunzipSync(readFileSync("/proc/config.gz")).toString("utf8");
  } else {
    const boot = `/boot/config-${uname().release}`;
    if (existsSync(boot)) text = readFileSync(boot, "utf8");
  }
  const parsed = parseKernelConfig(text);
  cachedConfig = parsed;
  return parsed;
}

/**
 * A `.kconfig` value lookup for the running kernel, with `overrides` (e.g. from load options) first.
 *
 * @example
 * ```ts
 * const lookup = kconfigLookup({ CONFIG_HZ: "250" });
 * lookup("LINUX_KERNEL_VERSION"); // "394752" on 6.6.0
 * ```
 */
export function kconfigLookup(
  overrides: Readonly<Record<string, string>> = {},
): (name: string) => string | undefined {
  return (name) => {
    if (name in overrides) return overrides[name];
    switch (name) {
      case "LINUX_KERNEL_VERSION":
        return String(kernelVersion().code);
      case "LINUX_HAS_SYSCALL_WRAPPER":
        return "y"; // x86-64 has had syscall wrappers since 4.17
      case "LINUX_HAS_BPF_COOKIE":
        return kernelVersion().code >= (5 << 16) + (15 << 8) ? "y" : "n";
    }
    return runningKernelConfig().get(name);
  };
}
