// formatC on older kernels' BTF (the test-vm kernels: 5.10, 6.1, 6.12; fetched by `pnpm test:vm` into
// test-vm/.cache/kernels/<k>/): clang must reproduce every uniquely named struct and union layout.
// Opt-in (about a minute per kernel on this machine): EBPF_BTF_OLD_KERNELS=1.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { formatC, parseBtf } from "@ebpf/btf";
import { describe, expect, it } from "vitest";
import { hasClang, layoutDifferences, uniqueComposites } from "./c-printer-roundtrip.js";
import { elfSection } from "./helpers/elf-section.js";

const cache = join(import.meta.dirname, "..", "..", "..", "test-vm", ".cache", "kernels");
const enabled = process.env.EBPF_BTF_OLD_KERNELS === "1" && hasClang();

function kernelBtf(version: string): Uint8Array | undefined {
  const dir = join(cache, version);
  if (existsSync(join(dir, "vmlinux.btf"))) return readFileSync(join(dir, "vmlinux.btf"));
  if (existsSync(join(dir, "vmlinux")))
    return elfSection(readFileSync(join(dir, "vmlinux")), ".BTF")?.slice();
  return undefined;
}

describe.skipIf(!enabled)("vmlinux.h for older kernels", () => {
  for (const version of ["5.10", "6.1", "6.12"]) {
    it.skipIf(!existsSync(join(cache, version)))(
      `Linux ${version}: clang reproduces every layout`,
      () => {
        const raw = kernelBtf(version);
        if (!raw) throw new Error(`no BTF for ${version} in ${cache}`);
        const btf = parseBtf(raw);
        const diffs = layoutDifferences(btf, formatC(btf), uniqueComposites(btf));
        expect(diffs.slice(0, 20)).toEqual([]);
      },
      300_000,
    );
  }
});
