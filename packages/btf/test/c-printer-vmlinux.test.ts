// Our vmlinux.h for the running kernel: it compiles, reproduces every struct layout, declares the same
// named types as bpftool's, the BPF test programs build against it, and the result loads in the kernel.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatC, parseBtf } from "@ebpf/btf";
import { sourceDir } from "@ebpf/test-programs";
import { describeKernel, describeRequires, itRequires, needsPath, needsTool } from "@ebpf/testing";
import { afterAll, expect, it } from "vitest";
import { clang, hasClang, layoutDifferences, uniqueComposites } from "./c-printer-roundtrip.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const _canRun = existsSync(VMLINUX) && hasClang();

function hasBpftool(): boolean {
  try {
    execFileSync("bpftool", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Named declarations of a header: `struct x`, `union y`, `enum z`, `typedef t`, with `___N` stripped. */
function declaredNames(header: string): Set<string> {
  const names = new Set<string>();
  for (const m of header.matchAll(/^(struct|union|enum) (\w+) \{/gm))
    names.add(`${m[1]} ${m[2].replace(/___\d+$/, "")}`);
  for (const m of header.matchAll(/^(struct|union) (\w+);$/gm))
    names.add(`${m[1]} ${m[2].replace(/___\d+$/, "")}`);
  for (const m of header.matchAll(/^typedef .*?\(?\**(\w+)(\)\(.*\))?(\[\d+\])*;$/gm)) {
    names.add(`typedef ${m[1].replace(/___\d+$/, "")}`);
  }
  return names;
}

describeRequires(needsPath(VMLINUX, "the kernel has no BTF"), needsTool("clang"))(
  "vmlinux.h from the running kernel's BTF",
  () => {
    const dir = mkdtempSync(join(tmpdir(), "ebpf-vmlinux-h-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const btf = parseBtf(readFileSync(VMLINUX));
    const header = formatC(btf);
    writeFileSync(join(dir, "vmlinux.h"), header);
    const sources = readdirSync(sourceDir).filter((f) => f.endsWith(".bpf.c"));

    it("compiles, and clang reproduces every uniquely named struct and union layout", () => {
      const types = uniqueComposites(btf);
      expect(types.length).toBeGreaterThan(1000);
      const diffs = layoutDifferences(btf, header, types);
      expect(diffs.slice(0, 20)).toEqual([]);
    }, 180_000);

    itRequires(needsTool("bpftool"))(
      "declares the same named types as bpftool's vmlinux.h",
      () => {
        const theirs = execFileSync("bpftool", ["btf", "dump", "file", VMLINUX, "format", "c"], {
          maxBuffer: 512 * 1024 * 1024,
        }).toString();
        const ours = declaredNames(header);
        const want = declaredNames(theirs);
        expect(want.size).toBeGreaterThan(1000);
        expect([...want].filter((n) => !ours.has(n))).toEqual([]);
        expect([...ours].filter((n) => !want.has(n))).toEqual([]);
      },
      60_000,
    );

    /** Builds every test program against the header in `include`, into `include/<target>/`. */
    function buildAll(include: string, targets: string[], only = sources): void {
      for (const target of targets) {
        mkdirSync(join(include, target), { recursive: true });
        for (const file of only) {
          const args = [
            "-O2",
            "-g",
            "-target",
            target,
            "-D__TARGET_ARCH_x86",
            "-I",
            include,
            "-I",
            sourceDir,
          ];
          args.push(
            "-Wall",
            "-Werror",
            "-c",
            join(sourceDir, file),
            "-o",
            join(include, target, objName(file)),
          );
          try {
            execFileSync(clang, args, { stdio: ["ignore", "pipe", "pipe"] });
          } catch (e) {
            const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? "";
            throw new Error(
              `${file} (${target}) does not build against ${include}/vmlinux.h:\n${stderr.slice(0, 4000)}`,
            );
          }
        }
      }
    }

    it("builds every BPF test program against it, little- and big-endian", () => {
      expect(sources.length).toBeGreaterThan(0);
      buildAll(dir, ["bpfel", "bpfeb"]);
    }, 180_000);

    describeKernel(
      "programs built against our vmlinux.h",
      () => {
        it("load wherever the same programs built against bpftool's vmlinux.h load (bpftool prog loadall)", () => {
          // Some test programs are parser fixtures that no kernel accepts; the reference says which can load.
          const ref = join(dir, "bpftool");
          mkdirSync(ref, { recursive: true });
          const theirs = execFileSync("bpftool", ["btf", "dump", "file", VMLINUX, "format", "c"], {
            maxBuffer: 512 * 1024 * 1024,
          });
          writeFileSync(join(ref, "vmlinux.h"), theirs);
          const loaded: string[] = [];
          for (const file of sources) {
            try {
              buildAll(ref, ["bpfel"], [file]);
            } catch {
              continue; // not buildable against bpftool's header: no reference to compare with
            }
            const refError = tryLoad(join(ref, "bpfel", objName(file)), `ref-${file}`);
            if (refError !== undefined) continue;
            const obj = join(dir, "bpfel", objName(file));
            if (!existsSync(obj)) throw new Error(`${obj} was not built (see the previous test)`);
            const error = tryLoad(obj, file);
            if (error !== undefined)
              throw new Error(`${file} built against our vmlinux.h does not load:\n${error}`);
            loaded.push(file);
          }
          expect(loaded).toContain("minimal.bpf.c");
        }, 180_000);
      },
      () => (hasBpftool() ? undefined : "needs bpftool"),
    );
  },
);

function objName(file: string): string {
  return file.replace(/\.c$/, ".o");
}

/** Loads and pins every program of `obj`, then unpins them; returns bpftool's error, if any. */
function tryLoad(obj: string, label: string): string | undefined {
  // bpffs names cannot contain dots.
  const pin = `/sys/fs/bpf/ebpf_btf_cprinter_${process.pid}_${label.replace(/\W/g, "_")}`;
  try {
    execFileSync("bpftool", ["prog", "loadall", obj, pin], { stdio: ["ignore", "pipe", "pipe"] });
    return readdirSync(pin).length > 0 ? undefined : "no programs pinned";
  } catch (e) {
    return ((e as { stderr?: Buffer }).stderr?.toString() ?? String(e)).slice(0, 4000);
  } finally {
    rmSync(pin, { recursive: true, force: true });
  }
}
