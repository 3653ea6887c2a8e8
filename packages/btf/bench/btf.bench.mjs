// Benchmarks of @ebpf/btf against the libbpf/cilium anchors (../shared/anchors/perf): prints
// `metric value unit` lines. Same shape as the anchors: one untimed warm-up, then ITERS timed iterations,
// each printing one sample per metric. Run with --expose-gc for the memory figures.
//
//   node --expose-gc packages/btf/bench/btf.bench.mjs
//
// ts.btf_parse_ms mirrors libbpf.btf_parse_ms (c/btf_parse.c): read /sys/kernel/btf/vmlinux, parse, then
// visit every type reading its kind, vlen and name (as a JS string).
import { readFileSync } from "node:fs";
import { parseBtf } from "../dist/index.js";

const path = process.env.VMLINUX_BTF ?? "/sys/kernel/btf/vmlinux";
const iters = Number(process.env.ITERS ?? 10);
const now = () => performance.now();
const out = (metric, value, unit) => process.stdout.write(`${metric} ${value.toFixed(3)} ${unit}\n`);

function walk(btf) {
  let sink = 0;
  let named = 0;
  for (let id = 1; id < btf.count; id++) {
    sink += btf.kind(id) + btf.vlen(id);
    if (btf.name(id) !== "") named++;
  }
  return sink + named;
}

const LOOKUPS = ["task_struct", "bpf_attr", "sk_buff", "bpf_cmd", "perf_event_attr", "file", "u32", "xdp_md"];

// Phase 1: parse + walk only, as libbpf's benchmark (no other garbage in between).
for (let it = -1; it < iters; it++) {
  const t0 = now();
  const bytes = readFileSync(path);
  const btf = parseBtf(bytes);
  const t1 = now();
  const sink = walk(btf);
  const t2 = now();
  if (it < 0) {
    process.stderr.write(`btf_parse: ${btf.count - 1} types (sink ${sink})\n`);
    continue;
  }
  out("ts.btf_parse_ms", t2 - t0, "ms");
  out("ts.btf_parse_only_ms", t1 - t0, "ms");
  out("ts.btf_iterate_ms", t2 - t1, "ms");
}

// Phase 2: full decoding into objects, the name index, and lookups through it.
for (let it = -1; it < iters; it++) {
  const btf = parseBtf(readFileSync(path));
  const t2 = now();
  for (let id = 1; id < btf.count; id++) btf.typeById(id);
  const t3 = now();
  btf.findByName("task_struct");
  const t4 = now();
  const n = 100_000;
  let found = 0;
  for (let i = 0; i < n; i++) if (btf.findByName(LOOKUPS[i & 7]) !== undefined) found++;
  const t5 = now();
  if (it < 0 || found !== n) continue;
  out("ts.btf_decode_all_ms", t3 - t2, "ms");
  out("ts.btf_index_ms", t4 - t3, "ms");
  out("ts.btf_lookup_us", ((t5 - t4) * 1000) / n, "us");
}

// Retained memory: heap (JS objects) plus array buffers (the file bytes and typed arrays), after a full GC.
if (typeof globalThis.gc === "function") {
  const size = readFileSync(path).length;
  const mem = () => {
    globalThis.gc();
    globalThis.gc();
    const m = process.memoryUsage();
    return { heap: m.heapUsed, buffers: m.arrayBuffers };
  };
  const before = mem();
  const btf = parseBtf(readFileSync(path));
  walk(btf);
  const parsed = mem();
  for (let id = 1; id < btf.count; id++) btf.typeById(id);
  btf.findByName("task_struct");
  const decoded = mem();
  const mb = (x) => x / 1e6;
  out("ts.btf_file_mb", mb(size), "MB");
  out("ts.btf_retained_heap_mb", mb(parsed.heap - before.heap), "MB");
  out("ts.btf_retained_total_mb", mb(parsed.heap + parsed.buffers - before.heap - before.buffers), "MB");
  out("ts.btf_retained_ratio", (parsed.heap + parsed.buffers - before.heap - before.buffers) / size, "x");
  out(
    "ts.btf_retained_decoded_total_mb",
    mb(decoded.heap + decoded.buffers - before.heap - before.buffers),
    "MB",
  );
  if (btf.count < 2) throw new Error("unreachable");
} else {
  process.stderr.write("btf bench: run with --expose-gc for the memory figures\n");
}
