// vmlinux.h from our own C printer (@ebpf/btf's formatC) instead of bpftool's.
//
// @ebpf/btf's tests depend on these test programs, so this build cannot depend on @ebpf/btf's build
// (turbo would see a cycle). Instead the printer's TypeScript sources (packages/btf/src and
// packages/errors/src) are transpiled here, without type-checking, into dist/.btf-printer/ and imported.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

const here = dirname(fileURLToPath(import.meta.url));
const packages = join(here, "..");

function transpileDir(srcDir, outDir, rewrite) {
  mkdirSync(outDir, { recursive: true });
  for (const file of readdirSync(srcDir)) {
    if (!file.endsWith(".ts") || file.endsWith(".d.ts")) continue;
    const source = rewrite(readFileSync(join(srcDir, file), "utf8"));
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
      fileName: file,
    });
    writeFileSync(join(outDir, file.replace(/\.ts$/, ".js")), outputText);
  }
}

/** Prints the BTF at `btfPath` (default: the running kernel's) as C with @ebpf/btf's formatC. */
export async function ebpfVmlinuxHeader(btfPath = "/sys/kernel/btf/vmlinux") {
  const out = join(here, "dist", ".btf-printer");
  transpileDir(join(packages, "errors", "src"), join(out, "errors"), (s) => s);
  transpileDir(join(packages, "btf", "src"), join(out, "btf"), (s) =>
    s.replaceAll('from "@ebpf/errors"', 'from "../errors/index.js"'),
  );
  const { parseBtf, formatC } = await import(pathToFileURL(join(out, "btf", "index.js")).href);
  return formatC(parseBtf(readFileSync(btfPath)));
}
