import { fileURLToPath } from "node:url";

/**
 * Path of a compiled example object (`examples/dist/bpf/<name>.bpf.o`). The same from `src/` (tests) and
 * `dist/` (compiled examples), both one level under `examples/`.
 */
export function exampleObject(name: string): string {
  return fileURLToPath(new URL(`../dist/bpf/${name}.bpf.o`, import.meta.url));
}
