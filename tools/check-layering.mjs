#!/usr/bin/env node
// The layering promise: @ebpf/elf, @ebpf/btf and @ebpf/relocate are pure. They never depend on or import
// the kernel packages (@ebpf/sys, @ebpf/maps, @ebpf/programs, ebpf), koffi, or Node built-ins that touch
// the OS. A Node-only entry (a file named `node.ts` or under `src/node/`) may read files.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const PURE_PACKAGES = ["errors", "elf", "btf", "relocate"];
const FORBIDDEN_PACKAGES = ["@ebpf/sys", "@ebpf/maps", "@ebpf/programs", "@ebpf/cli", "ebpf", "koffi"];
// Built-ins that reach the OS. `node:buffer`-like pure modules are not listed, but the pure packages
// use Uint8Array/DataView anyway so that they run in a browser.
const OS_BUILTINS = [
  "fs",
  "fs/promises",
  "child_process",
  "net",
  "dgram",
  "dns",
  "os",
  "cluster",
  "worker_threads",
  "process",
  "http",
  "https",
  "http2",
  "tls",
  "vm",
  "v8",
  "perf_hooks",
  "inspector",
  "module",
  "readline",
  "tty",
];

const importPattern =
  /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|require\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm;

function isNodeOnlyEntry(fileRel) {
  return /(^|\/)src\/node\.ts$/.test(fileRel) || /(^|\/)src\/node\//.test(fileRel);
}

function forbiddenReason(spec) {
  const bare = spec.startsWith("node:") ? spec.slice(5) : spec;
  if (FORBIDDEN_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`)))
    return `imports kernel-side package "${spec}"`;
  if (OS_BUILTINS.includes(bare) || OS_BUILTINS.some((b) => bare.startsWith(`${b}/`))) {
    if (spec.startsWith("node:") || !spec.includes("/") || OS_BUILTINS.includes(bare))
      return `imports OS built-in "${spec}"`;
  }
  return undefined;
}

function* sourceFiles(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith(".d.ts")) yield path;
  }
}

/** Returns every violation of the layering rules under `root` (a checkout), as readable strings. */
export function checkLayering(root) {
  const violations = [];
  for (const pkg of PURE_PACKAGES) {
    const dir = join(root, "packages", pkg);
    let manifest;
    try {
      manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    } catch {
      continue;
    }
    for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
      for (const dep of Object.keys(manifest[field] ?? {})) {
        if (FORBIDDEN_PACKAGES.includes(dep))
          violations.push(`packages/${pkg}/package.json: ${field} has "${dep}"`);
      }
    }
    let files = [];
    try {
      files = [...sourceFiles(join(dir, "src"))];
    } catch {}
    for (const file of files) {
      const rel = relative(root, file);
      if (isNodeOnlyEntry(rel)) {
        // The Node entry may read files but still never reaches the kernel packages.
      }
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(importPattern)) {
        const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
        const reason = forbiddenReason(spec);
        if (!reason) continue;
        if (isNodeOnlyEntry(rel) && !reason.startsWith("imports kernel-side")) continue;
        const line = text.slice(0, m.index + m[0].lastIndexOf(spec)).split("\n").length;
        violations.push(`${rel}:${line}: ${reason}`);
      }
    }
  }
  return violations;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const violations = checkLayering(root);
  if (violations.length > 0) {
    process.stderr.write(
      `layering check failed: the pure packages (${PURE_PACKAGES.join(", ")}) must stay pure\n`,
    );
    for (const v of violations) process.stderr.write(`  ${v}\n`);
    process.exit(1);
  }
  process.stdout.write(`layering check passed (${PURE_PACKAGES.join(", ")} are pure)\n`);
}
