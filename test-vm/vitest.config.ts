// Vitest configuration used INSIDE the test VM (test-vm/run.sh): one flat project over the selected test files
// (TEST_VM_FILES, comma-separated, relative to the repo root), one worker (JS runs
// 15-150x slower under TCG), long timeouts, and vite's cache in the guest's tmpfs so that parallel VMs never
// write the same file of the shared checkout.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

// The same source aliases as the root vitest.config.ts: tests import workspace packages from source.
const alias = [
  { find: /^ebpf$/, replacement: `${root}packages/ebpf/src/index.ts` },
  { find: /^@ebpf\/btf\/node$/, replacement: `${root}packages/btf/src/node.ts` },
  {
    find: /^@ebpf\/(errors|elf|btf|relocate|sys|maps|programs|cli)$/,
    replacement: `${root}packages/$1/src/index.ts`,
  },
  // test-vm's own tests (test-vm/test/) are in no package: give them @ebpf/testing and koffi.
  { find: /^@ebpf\/testing$/, replacement: `${root}packages/testing/src/index.ts` },
  { find: /^koffi$/, replacement: createRequire(`${root}packages/sys/package.json`).resolve("koffi") },
];

// Set by test-vm/run.sh and the guest /init (not turbo inputs: this config never runs under turbo).
const vmEnv: Record<string, string | undefined> = process.env;
const files = (vmEnv.TEST_VM_FILES ?? "").split(",").filter((f) => f.length > 0);

export default defineConfig({
  root,
  cacheDir: "/tmp/test-vm-vite",
  resolve: { alias },
  test: {
    name: `vm ${vmEnv.TEST_VM_KERNEL ?? ""}`.trim(),
    include: files.length > 0 ? files : ["packages/*/test/**/*.kernel.test.ts"],
    reporters: [
      "default",
      ...(vmEnv.TEST_VM_REPORT ? [["json", { outputFile: vmEnv.TEST_VM_REPORT }] as const] : []),
      `${root}tools/vitest-summary-reporter.ts`,
    ],
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
    isolate: false,
    // Transformed modules persist in the shared cache: run.sh fills it on the host (`vitest list`) before the
    // guests start, so they skip vite's transform, which is 10-20x slower under TCG.
    experimental: { fsModuleCache: true, fsModuleCachePath: `${root}test-vm/.cache/vitest-modules` },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
