// formatC on older kernels' BTF (the test-vm kernels: 5.10, 6.1, 6.12; fetched by `pnpm test:vm` into
// test-vm/.cache/kernels/<k>/): clang must reproduce every uniquely named struct and union layout.
// About 7 s per kernel; needs clang and the fetched kernels (`bash test-vm/fetch.sh <k>`, done by setup --tests).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { formatC, parseBtf } from "@ebpf/btf";
import { describeRequires, itRequires, needsPath, needsTool } from "@ebpf/testing";
import { expect } from "vitest";
import { layoutDifferences, uniqueComposites } from "./c-printer-roundtrip.js";
import { elfSection } from "./helpers/elf-section.js";

const cache = join(import.meta.dirname, "..", "..", "..", "test-vm", ".cache", "kernels");

function kernelBtf(version: string): Uint8Array | undefined {
  const dir = join(cache, version);
  if (existsSync(join(dir, "vmlinux.btf"))) return readFileSync(join(dir, "vmlinux.btf"));
  if (existsSync(join(dir, "vmlinux")))
    return elfSection(readFileSync(join(dir, "vmlinux")), ".BTF")?.slice();
  return undefined;
}

describeRequires(needsTool("clang"))("vmlinux.h for older kernels", () => {
  for (const version of ["5.10", "6.1", "6.12"]) {
    itRequires(needsPath(join(cache, version), `bash test-vm/fetch.sh ${version}`))(
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
