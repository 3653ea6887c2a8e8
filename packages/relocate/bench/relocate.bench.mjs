// Benchmark: relocating the anchor CO-RE object (../shared/anchors/perf/bpf/core.bpf.c) against the
// running kernel's BTF. Prints `metric value unit` lines for ../shared/anchors/perf/run.sh:
//   ts.core_relocate_ms        ELF + BTF + BTF.ext parse and full relocation (CO-RE, linking, maps) of
//                              every program, kernel BTF already parsed (cached per process)
//   ts.core_relocate_user_ms   the same, user CPU time
//   ts.core_relocate_cold_ms   the same plus reading and parsing /sys/kernel/btf/vmlinux and building
//                              the candidate index (what a fresh process pays once)
// Compare with libbpf.core_open_load_user_ms from bench/libbpf_userspace.c in the same run.
// Env: ITERS (default 10), BPF_OBJ_DIR (the anchors' build/bpf, else compiled here into bench/build).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseBtf } from "@ebpf/btf";
import { parseBpfObject } from "@ebpf/elf";
import { fromBtf, parseBtfExtInfo, relocateObject } from "../dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const iters = Number(process.env.ITERS ?? 10);

function objectPath() {
  const dir = process.env.BPF_OBJ_DIR;
  if (dir && existsSync(join(dir, "core.bpf.o"))) return join(dir, "core.bpf.o");
  const anchors = join(here, "../../../../shared/anchors/perf/bpf");
  const include = join(here, "../../test-programs/dist/include");
  const out = join(here, "build");
  mkdirSync(out, { recursive: true });
  const obj = join(out, "core.bpf.o");
  if (!existsSync(obj)) {
    execFileSync("clang", [
      "-O2",
      "-g",
      "-target",
      "bpf",
      "-D__TARGET_ARCH_x86",
      `-I${include}`,
      `-I${anchors}`,
      "-c",
      join(anchors, "core.bpf.c"),
      "-o",
      obj,
    ]);
  }
  return obj;
}

const bytes = readFileSync(objectPath());
const kernelBytes = () => readFileSync("/sys/kernel/btf/vmlinux");

function relocateOnce(target) {
  const spec = parseBpfObject(bytes);
  const btf = parseBtf(spec.btfBytes);
  const ext = parseBtfExtInfo(spec.btfExtBytes, (o) => btf.stringAt(o));
  const out = relocateObject(spec, { localBtf: fromBtf(btf), ext, target });
  if (out.programs.length !== 6) throw new Error(`expected 6 programs, got ${out.programs.length}`);
  return out;
}

function coldTarget() {
  const kernel = parseBtf(kernelBytes());
  return fromBtf(kernel);
}

const warmTarget = coldTarget();
relocateOnce(warmTarget); // warm-up, builds the candidate index of the cached kernel BTF
for (let i = 0; i < iters; i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  relocateOnce(warmTarget);
  const t1 = performance.now();
  const c1 = process.cpuUsage(c0);
  const t2 = performance.now();
  relocateOnce(coldTarget());
  const t3 = performance.now();
  console.log(`ts.core_relocate_ms ${(t1 - t0).toFixed(3)} ms`);
  console.log(`ts.core_relocate_user_ms ${(c1.user / 1000).toFixed(3)} ms`);
  console.log(`ts.core_relocate_cold_ms ${(t3 - t2).toFixed(3)} ms`);
}
