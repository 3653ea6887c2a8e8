// Paths to the compiled BPF test objects. Built by `node build.mjs` (turbo task `build`).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** Directory holding the compiled objects for one byte order. */
export function objectDir(endian = "el") {
  return join(here, "dist", endian === "eb" ? "bpfeb" : "bpfel");
}

/** Absolute path of `<name>.bpf.o`; throws with the fix if it was not built. */
export function objectPath(name, endian = "el") {
  const path = join(objectDir(endian), `${name}.bpf.o`);
  if (!existsSync(path)) {
    throw new Error(
      `BPF test object ${path} is missing: run \`pnpm build\` (needs clang, see tools/setup.sh)`,
    );
  }
  return path;
}

/** Path of the generated vmlinux.h the test programs are built against. */
export const vmlinuxHeader = join(here, "dist", "include", "vmlinux.h");

/** Directory of the C sources. */
export const sourceDir = join(here, "bpf");
