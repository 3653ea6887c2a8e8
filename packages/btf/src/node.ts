/**
 * Node-only entry of `@ebpf/btf`: reads kernel and module BTF from sysfs, with a process-wide cache.
 * The pure entry (`@ebpf/btf`) never touches the file system.
 *
 * @example
 * ```ts
 * import { loadKernelBtf, loadModuleBtf } from "@ebpf/btf/node";
 * const vmlinux = loadKernelBtf();            // parsed once per process
 * const nft = loadModuleBtf("nf_tables");    // split BTF on top of vmlinux
 * ```
 *
 * @packageDocumentation
 */
import { readFileSync } from "node:fs";
import type { Btf } from "./btf.js";
import { BtfError } from "./errors.js";
import { parseBtf } from "./parse.js";

/** Where the kernel exposes its BTF. */
export const KERNEL_BTF_DIR = "/sys/kernel/btf";

let kernel: Btf | undefined;
const modules = new Map<string, Btf>();

function read(path: string, what: string, hint: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    const why = code === "ENOENT" ? `: ${hint}` : "";
    throw new BtfError("ERR_EBPF_BTF_UNAVAILABLE", `${what}: cannot read ${path} (${code})${why}`, {
      cause: e,
    });
  }
}

/**
 * The running kernel's BTF (`/sys/kernel/btf/vmlinux`), parsed on first call and cached for the process.
 * @throws BtfError `ERR_EBPF_BTF_UNAVAILABLE` when the kernel exposes no BTF.
 */
export function loadKernelBtf(): Btf {
  if (!kernel)
    kernel = parseBtf(
      read(`${KERNEL_BTF_DIR}/vmlinux`, "kernel BTF", "the kernel was built without CONFIG_DEBUG_INFO_BTF"),
      { verifiedByKernel: true },
    );
  return kernel;
}

/**
 * A loaded module's BTF (`/sys/kernel/btf/<name>`), split on top of {@link loadKernelBtf}; cached per name.
 * @throws BtfError `ERR_EBPF_BTF_UNAVAILABLE` when the module is not loaded or has no BTF.
 */
export function loadModuleBtf(name: string): Btf {
  if (name === "vmlinux") return loadKernelBtf();
  if (name.includes("/") || name === "" || name === "." || name === "..")
    throw new BtfError("ERR_EBPF_BTF_INVALID", `invalid module name ${JSON.stringify(name)}`);
  let btf = modules.get(name);
  if (!btf) {
    btf = parseBtf(
      read(`${KERNEL_BTF_DIR}/${name}`, `module "${name}" BTF`, "the module is not loaded or has no BTF"),
      { base: loadKernelBtf(), verifiedByKernel: true },
    );
    modules.set(name, btf);
  }
  return btf;
}

/** Forgets the cached kernel and module BTF (after loading a module, or in tests). */
export function clearKernelBtfCache(): void {
  kernel = undefined;
  modules.clear();
}

/**
 * Reads and parses a raw BTF file (not an ELF object), optionally as split BTF on top of `base`.
 * Not cached.
 */
export function loadBtfFile(path: string, options?: { base?: Btf }): Btf {
  return parseBtf(read(path, "BTF file", "no such file"), options);
}
