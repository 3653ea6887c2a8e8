// Compiles examples/bpf/*.bpf.c into dist/bpf/*.bpf.o (clang -O2 -g -target bpfel), against the vmlinux.h
// that @ebpf/test-programs generates from the running kernel's BTF (so build that first: turbo does).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { vmlinuxHeader } from "@ebpf/test-programs";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist", "bpf");
if (!existsSync(vmlinuxHeader)) throw new Error(`${vmlinuxHeader} is missing: run \`pnpm build\` at the top`);
mkdirSync(out, { recursive: true });
const sources = readdirSync(join(here, "bpf")).filter((f) => f.endsWith(".bpf.c"));
for (const file of sources) {
  try {
    execFileSync(
      process.env.CLANG ?? "clang",
      [
        "-O2",
        "-g",
        "-target",
        "bpfel",
        "-D__TARGET_ARCH_x86",
        "-Wall",
        "-Werror",
        "-I",
        dirname(vmlinuxHeader),
        "-c",
        join(here, "bpf", file),
        "-o",
        join(out, file.replace(/\.c$/, ".o")),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
  } catch (e) {
    throw new Error(`clang failed on ${file}:\n${e.stderr?.toString() ?? e.message}`);
  }
}
process.stdout.write(`built ${sources.length} example BPF programs\n`);
