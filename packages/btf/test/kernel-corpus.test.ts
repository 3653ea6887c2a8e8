// Golden tests on more kernels: the Debian kernels test-vm fetches (5.10, 6.1, 6.12) bring their vmlinux BTF
// and modules, whose .BTF is split BTF on top of it. Optional corpus: skipped, with the reason printed,
// when test-vm has not fetched them (`bash test-vm/fetch.sh`).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatRaw, marshalBtf, parseBtf } from "@ebpf/btf";
import { describeRequires, needsTool } from "@ebpf/testing";
import { afterAll, expect, it } from "vitest";
import { elfSection } from "./helpers/elf-section.js";
import { bpftoolRaw, firstDifference, tempDir } from "./helpers/golden.js";

const cache = fileURLToPath(new URL("../../../test-vm/.cache/kernels", import.meta.url));
const kernels = existsSync(cache)
  ? readdirSync(cache).filter((k) => existsSync(join(cache, k, "vmlinux.btf")))
  : [];
const tmp = tempDir();
afterAll(() => tmp.cleanup());

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

/** Whether the kernel's build config (in the fetched package) enables BTF for modules. */
function btfModules(kernel: string): boolean {
  const boot = join(cache, kernel, "root", "boot");
  const config = readdirSync(boot).find((f) => f.startsWith("config-"));
  if (!config) throw new Error(`no config-* in ${boot} (bash test-vm/fetch.sh ${kernel})`);
  return /^CONFIG_DEBUG_INFO_BTF_MODULES=y$/m.test(readFileSync(join(boot, config), "utf8"));
}

function modules(kernel: string, count: number): string[] {
  const root = join(cache, kernel, "root", "lib", "modules");
  if (!existsSync(root)) return [];
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (found.length >= count) return;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ko(\.xz)?$/.test(e.name)) found.push(p);
    }
  };
  walk(join(root, readdirSync(root)[0], "kernel", "net"));
  return found;
}

if (kernels.length === 0) {
  process.stderr.write(
    `[btf kernel corpus skipped] no test-vm kernels in ${cache} (bash test-vm/fetch.sh)\n`,
  );
}

describeRequires(
  () =>
    kernels.length === 0
      ? `no test-vm kernels in ${cache} (bash test-vm/fetch.sh 5.10; 6.1; 6.12)`
      : undefined,
  needsTool("bpftool"),
)("BTF of Debian kernels and their modules vs bpftool", () => {
  for (const kernel of kernels) {
    const vmlinux = join(cache, kernel, "vmlinux.btf");
    it(`${kernel}: vmlinux prints like bpftool and round trips`, (ctx) => {
      // test-vm may be re-fetching its cache while this runs.
      if (!existsSync(vmlinux)) return ctx.skip("test-vm cache changed during the run");
      const bytes = readFileSync(vmlinux);
      const btf = parseBtf(bytes);
      expect(
        firstDifference(formatRaw(btf), bpftoolRaw(vmlinux), tmp.dir, `vmlinux-${kernel}`),
      ).toBeUndefined();
      expect(sameBytes(marshalBtf(btf), bytes)).toBe(true);
    });

    for (const ko of modules(kernel, 4)) {
      it(`${kernel}: module ${basename(ko)} (split BTF) prints like bpftool and round trips`, (ctx) => {
        if (!existsSync(vmlinux) || !existsSync(ko)) return ctx.skip("test-vm cache changed during the run");
        const base = parseBtf(readFileSync(vmlinux));
        let object = ko;
        if (ko.endsWith(".xz")) {
          object = join(tmp.dir, basename(ko, ".xz"));
          writeFileSync(object, execFileSync("xz", ["-dc", ko], { maxBuffer: 1 << 28 }));
        }
        const found = elfSection(readFileSync(object), ".BTF");
        // Modules carry BTF exactly when the kernel was built with CONFIG_DEBUG_INFO_BTF_MODULES (Debian 5.10
        // was not): then there is nothing to compare, and the absence itself is the check.
        expect(found !== undefined, `.BTF in ${basename(object)}`).toBe(btfModules(kernel));
        if (!found) return;
        const raw = new Uint8Array(found);
        const path = join(tmp.dir, `${basename(object)}.btf`);
        writeFileSync(path, raw);
        const btf = parseBtf(raw, { base });
        expect(btf.startId).toBe(base.count);
        expect(
          firstDifference(formatRaw(btf), bpftoolRaw(path, vmlinux), tmp.dir, basename(object)),
        ).toBeUndefined();
        expect(sameBytes(marshalBtf(btf), raw)).toBe(true);
      });
    }
  }
});
