// Object-load benchmark of the `ebpf` façade against the libbpf/cilium anchors (../shared/anchors/perf):
// open + load + close of the anchors' CO-RE object `core.bpf.o` (6 programs, 3 maps + .rodata).
// Prints `metric value unit` lines in the anchors' format: one untimed warm-up, then ITERS timed
// iterations, each printing one sample per metric. Run it from the built package (`pnpm build` first):
//
//   BPF_OBJ_DIR=/tmp/anchors-build/bpf node packages/ebpf/bench/load.bench.mjs
//   cd ../shared/anchors/perf && RUNS=3 ANCHORS_BUILD=/tmp/anchors-build ./run.sh libbpf \
//     --cmd 'node /work/main/packages/ebpf/bench/load.bench.mjs'
//
// "open + load + close" here = Ebpf.loadFile (ELF + object BTF + maps + CO-RE relocation against kernel
// BTF) + bpf.program(name, Program).load() for every program + bpf.close().
//
// ts.obj_load_cold_ms  clearKernelBtfCache() first, so the sample includes reading and parsing
//                      /sys/kernel/btf/vmlinux and building its name index: the like-for-like number next
//                      to libbpf.obj_load_ms (libbpf re-parses vmlinux BTF in every bpf_object__load) and
//                      cilium.obj_load_cold_ms.
// ts.obj_load_ms       kernel BTF already cached in the process (the façade's steady state; cilium's
//                      obj_load_ms is the same kind of number).
// ts.obj_open_ms, ts.obj_load_only_ms, ts.obj_close_ms
//                      the split of the warm sample: loadFile / all program loads / close. The façade
//                      does more in "open" than libbpf's bpf_object__open_file (maps, relocation), so only
//                      the totals compare across libraries.
// ts.obj_open_cold_ms  loadFile with the kernel BTF cache cleared.
// ts.kernel_btf_ms     clearKernelBtfCache() + loadKernelBtf() + one findByName (read + parse + name
//                      index), i.e. what the cold sample pays on top of the warm one. Measured in a
//                      second loop, after the loads.
// ts.obj_load_first_ms the warm-up iteration: the process's first load (cold kernel BTF and cold JIT),
//                      one sample per process.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { clearKernelBtfCache, loadKernelBtf } from "@ebpf/btf/node";
import { Ebpf, Program } from "ebpf";

const dir = process.env.BPF_OBJ_DIR ?? defaultObjDir();
const path = join(dir, "core.bpf.o");
const iters = Number(process.env.ITERS ?? 10);
const now = () => performance.now();
const out = (metric, value, unit) => process.stdout.write(`${metric} ${value.toFixed(3)} ${unit}\n`);

function defaultObjDir() {
  for (const d of [
    process.env.ANCHORS_BUILD && join(process.env.ANCHORS_BUILD, "bpf"),
    "/tmp/anchors-build/bpf",
    new URL("../../../../shared/anchors/perf/build/bpf", import.meta.url).pathname,
  ]) {
    if (d && existsSync(join(d, "core.bpf.o"))) return d;
  }
  throw new Error(
    "core.bpf.o not found: build the anchors (../shared/anchors/perf/build.sh) and set BPF_OBJ_DIR",
  );
}

/** One open + load + close; returns the three phase times in ms. */
function openLoadClose() {
  const t0 = now();
  const bpf = Ebpf.loadFile(path);
  const t1 = now();
  let loaded = 0;
  for (const name of bpf.programs()) {
    bpf.program(name, Program).load();
    loaded++;
  }
  const t2 = now();
  bpf.close();
  const t3 = now();
  return { open: t1 - t0, load: t2 - t1, close: t3 - t2, total: t3 - t0, loaded };
}

function kernelBtf() {
  const t0 = now();
  clearKernelBtfCache();
  const btf = loadKernelBtf();
  if (!btf.findByName("task_struct")) throw new Error("vmlinux BTF has no task_struct");
  return now() - t0;
}

for (let it = -1; it < iters; it++) {
  clearKernelBtfCache();
  const cold = openLoadClose();
  const warm = openLoadClose();
  if (it < 0) {
    // The process's very first load: cold kernel BTF and cold JIT (what a one-shot CLI tool pays).
    out("ts.obj_load_first_ms", cold.total, "ms");
    process.stderr.write(`ebpf obj_load: ${cold.loaded} programs loaded from ${path}\n`);
    continue;
  }
  out("ts.obj_load_cold_ms", cold.total, "ms");
  out("ts.obj_open_cold_ms", cold.open, "ms");
  out("ts.obj_load_ms", warm.total, "ms");
  out("ts.obj_open_ms", warm.open, "ms");
  out("ts.obj_load_only_ms", warm.load, "ms");
  out("ts.obj_close_ms", warm.close, "ms");
}

// Kernel BTF alone, after the load loop so that its garbage does not land in the load samples.
for (let it = -1; it < iters; it++) {
  const ms = kernelBtf();
  if (it >= 0) out("ts.kernel_btf_ms", ms, "ms");
}
