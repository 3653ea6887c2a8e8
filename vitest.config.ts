import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));

// Tests import workspace packages from source, so `pnpm test` needs no build of the TypeScript
// (only the BPF test objects are built first).
const alias = [
  { find: /^ebpf$/, replacement: `${root}packages/ebpf/src/index.ts` },
  { find: /^@ebpf\/btf\/node$/, replacement: `${root}packages/btf/src/node.ts` },
  {
    find: /^@ebpf\/(errors|elf|btf|relocate|sys|maps|programs|cli)$/,
    replacement: `${root}packages/$1/src/index.ts`,
  },
];

const packages = readdirSync(`${root}packages`).filter(
  (d) => !["testing", "test-programs"].includes(d) && readdirSync(`${root}packages/${d}`).includes("test"),
);

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: ["default", `${root}tools/vitest-summary-reporter.ts`],
    projects: [
      ...packages.map((name) => ({
        resolve: { alias },
        test: {
          name,
          root: `${root}packages/${name}`,
          include: ["test/**/*.test.ts"],
          testTimeout: 30_000,
        },
      })),
      {
        test: { name: "tools", root: `${root}tools`, include: ["test/**/*.test.ts"] },
      },
      {
        resolve: { alias },
        test: {
          name: "examples",
          root: `${root}examples`,
          include: ["test/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
