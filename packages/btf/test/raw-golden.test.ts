// Golden tests: our raw printer against `bpftool btf dump ... format raw`, for the kernel's BTF and for
// every BPF test object in both byte orders.
import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { formatRaw, parseBtf } from "@ebpf/btf";
import { objectDir } from "@ebpf/test-programs";
import { describeKernel, needsTool } from "@ebpf/testing";
import { afterAll, describe, expect, it } from "vitest";
import { bpftoolRaw, dumpSection, firstDifference, objectFiles, tempDir } from "./helpers/golden.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const tmp = tempDir();
afterAll(() => tmp.cleanup());

describeKernel(
  "raw printer vs bpftool: kernel BTF",
  () => {
    it("prints vmlinux exactly like bpftool, and counts the same types", () => {
      const btf = parseBtf(readFileSync(VMLINUX));
      const theirs = bpftoolRaw(VMLINUX);
      const ours = formatRaw(btf);
      const theirCount = theirs.split("\n").filter((l) => l.startsWith("[")).length;
      expect(btf.count - 1).toBe(theirCount);
      expect(firstDifference(ours, theirs, tmp.dir, "vmlinux")).toBeUndefined();
    });
  },
  needsTool("bpftool"),
);

// bpftool and llvm-objcopy are part of tools/setup.sh, like clang for the test objects: no skipping here.
describe("raw printer vs bpftool: test objects", () => {
  for (const endian of ["el", "eb"] as const) {
    const dir = objectDir(endian);
    const files = existsSync(dir) ? objectFiles(dir) : [];
    for (const file of files) {
      it(`${basename(file)} (${endian})`, () => {
        const raw = dumpSection(file, ".BTF", tmp.dir);
        const btf = parseBtf(raw);
        expect(btf.littleEndian).toBe(endian === "el");
        const theirs = bpftoolRaw(file);
        expect(firstDifference(formatRaw(btf), theirs, tmp.dir, basename(file))).toBeUndefined();
      });
    }
  }
});
