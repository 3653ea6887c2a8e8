// Compiles every bpf/*.bpf.c into dist/bpfel/*.bpf.o and dist/bpfeb/*.bpf.o with clang -O2 -g.
// vmlinux.h comes from the running kernel's BTF, printed by our own @ebpf/btf formatC (vmlinux-h.mjs);
// EBPF_VMLINUX_H=bpftool uses `bpftool btf dump ... format c` instead.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ebpfVmlinuxHeader } from "./vmlinux-h.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "bpf");
const dist = join(here, "dist");
const include = join(dist, "include");
const clang = process.env.CLANG ?? "clang";

function run(cmd, args, options = {}) {
  try {
    return execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  } catch (e) {
    const stderr = e.stderr?.toString() ?? "";
    if (e.code === "ENOENT")
      throw new Error(`${cmd} not found: run tools/setup.sh (apt: clang llvm bpftool libbpf-dev)`);
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${stderr}`);
  }
}

mkdirSync(include, { recursive: true });
const header =
  process.env.EBPF_VMLINUX_H === "bpftool"
    ? run("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"], {
        maxBuffer: 256 * 1024 * 1024,
      })
    : await ebpfVmlinuxHeader();
writeFileSync(join(include, "vmlinux.h"), header);

const sources = readdirSync(src).filter((f) => f.endsWith(".bpf.c"));
for (const [endian, target] of [
  ["bpfel", "bpfel"],
  ["bpfeb", "bpfeb"],
]) {
  mkdirSync(join(dist, endian), { recursive: true });
  for (const file of sources) {
    const out = join(dist, endian, file.replace(/\.c$/, ".o"));
    run(clang, [
      "-O2",
      "-g",
      `-target`,
      target,
      "-D__TARGET_ARCH_x86",
      "-I",
      include,
      "-I",
      src,
      "-Wall",
      "-Werror",
      "-c",
      join(src, file),
      "-o",
      out,
    ]);
  }
}
process.stdout.write(`built ${sources.length} BPF test programs (bpfel + bpfeb)\n`);
