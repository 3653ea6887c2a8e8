import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM script without types
import { checkLayering } from "../check-layering.mjs";

const roots: string[] = [];
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "layering-"));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

const pkg = (deps: Record<string, string> = {}) => JSON.stringify({ name: "x", dependencies: deps });

describe("layering check", () => {
  it("passes on the real repository", () => {
    expect(checkLayering(join(import.meta.dirname, "..", ".."))).toEqual([]);
  });

  it("passes a pure package", () => {
    const root = tree({
      "packages/btf/package.json": pkg({ "@ebpf/errors": "workspace:*" }),
      "packages/btf/src/index.ts": 'import { EbpfError } from "@ebpf/errors";\nexport const x = 1;\n',
      "packages/btf/src/node.ts": 'import { readFileSync } from "node:fs";\n',
    });
    expect(checkLayering(root)).toEqual([]);
  });

  it("fails on a forbidden import of a kernel package", () => {
    const root = tree({
      "packages/relocate/package.json": pkg(),
      "packages/relocate/src/index.ts": 'export const a = 1;\nimport { bpf } from "@ebpf/sys";\n',
    });
    expect(checkLayering(root)).toEqual([
      'packages/relocate/src/index.ts:2: imports kernel-side package "@ebpf/sys"',
    ]);
  });

  it("fails on koffi as a dependency and on OS built-ins outside the Node entry", () => {
    const root = tree({
      "packages/elf/package.json": pkg({ koffi: "3.3.4" }),
      "packages/elf/src/read.ts":
        'import { readFileSync } from "node:fs";\nconst k = await import("koffi");\n',
      "packages/btf/package.json": pkg(),
      "packages/btf/src/node.ts": 'import { x } from "@ebpf/maps";\n',
    });
    expect(checkLayering(root)).toEqual([
      'packages/elf/package.json: dependencies has "koffi"',
      'packages/elf/src/read.ts:1: imports OS built-in "node:fs"',
      'packages/elf/src/read.ts:2: imports kernel-side package "koffi"',
      'packages/btf/src/node.ts:1: imports kernel-side package "@ebpf/maps"',
    ]);
  });

  it("the CLI exits non-zero on a violation", async () => {
    const { execFileSync } = await import("node:child_process");
    const root = tree({
      "packages/btf/package.json": pkg(),
      "packages/btf/src/index.ts": 'import "child_process";\n',
    });
    const script = join(import.meta.dirname, "..", "check-layering.mjs");
    mkdirSync(join(root, "tools"));
    writeFileSync(join(root, "tools", "check-layering.mjs"), (await import("node:fs")).readFileSync(script));
    expect(() =>
      execFileSync("node", [join(root, "tools", "check-layering.mjs")], { stdio: "pipe" }),
    ).toThrow(/imports OS built-in "child_process"/);
  });
});
