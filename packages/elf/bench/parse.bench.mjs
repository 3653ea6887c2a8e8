// Benchmark: parseBpfObject on the CO-RE anchor object (../shared/anchors/perf/bpf/core.bpf.c), the same
// file libbpf's bpf_object__open_file and cilium's LoadCollectionSpec open in the anchors' obj_load.
// Prints one `metric value unit` line per timed iteration (the anchors' format), after one warm-up.
//
//   node packages/elf/bench/parse.bench.mjs                      # compiles core.bpf.c into a tmp dir
//   BENCH_OBJECT=/path/core.bpf.o node packages/elf/bench/parse.bench.mjs
//   (cd ../shared/anchors/perf && ./run.sh libbpf cilium --cmd 'node /abs/packages/elf/bench/parse.bench.mjs')
//
// Needs `pnpm build` (imports the compiled dist/).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseBpfObject } from "../dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "../../..");
const ITERS = Number(process.env.ITERS ?? 10);
// Parsing takes well under a millisecond: time a batch and report the mean per parse.
const BATCH = Number(process.env.BATCH ?? 50);

function coreObject() {
  if (process.env.BENCH_OBJECT) return process.env.BENCH_OBJECT;
  const anchors = join(repo, "../shared/anchors/perf");
  const built = join(anchors, "build/bpf/core.bpf.o");
  if (existsSync(built)) return built;
  const src = join(anchors, "bpf/core.bpf.c");
  const include = join(repo, "packages/test-programs/dist/include");
  const out = join(mkdtempSync(join(tmpdir(), "elf-bench-")), "core.bpf.o");
  execFileSync(process.env.CLANG ?? "clang", [
    "-O2",
    "-g",
    "-target",
    "bpf",
    "-D__TARGET_ARCH_x86",
    "-I",
    include,
    "-I",
    join(anchors, "bpf"),
    "-c",
    src,
    "-o",
    out,
  ]);
  return out;
}

const path = coreObject();
const bytes = readFileSync(path);

function sample(metric, fn) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < BATCH; i++) fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / BATCH;
  process.stdout.write(`${metric} ${ms.toFixed(4)} ms\n`);
}

const full = () => parseBpfObject(bytes);
const elfOnly = () => parseBpfObject(bytes, { parseBtf: false });
// Warm-up (JIT), untimed.
for (let i = 0; i < BATCH; i++) {
  full();
  elfOnly();
}
const spec = full();
process.stderr.write(
  `elf bench: ${path} (${bytes.length} bytes): ${spec.programs.length} programs, ${spec.maps.length} maps, ` +
    `${spec.dataSections.length} data sections, ${spec.sections.length} sections, ${spec.symbols.length} symbols\n`,
);
for (let i = 0; i < ITERS; i++) {
  sample("ts.elf_parse_ms", full);
  sample("ts.elf_parse_nobtf_ms", elfOnly);
}
