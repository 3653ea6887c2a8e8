// Benchmarks of @ebpf/btf against the libbpf/cilium anchors (../shared/anchors/perf): prints
// `metric value unit` lines. Same shape as the anchors: one untimed warm-up, then ITERS timed iterations,
// each printing one sample per metric. Run with --expose-gc for the memory figures.
//
//   node --expose-gc packages/btf/bench/btf.bench.mjs
//
// ts.btf_parse_ms mirrors libbpf.btf_parse_ms (c/btf_parse.c): read /sys/kernel/btf/vmlinux, parse, then
// visit every type reading its kind, vlen and name (as a JS string).
import { readFileSync, statSync } from "node:fs";
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

// Retained memory, measured first while the process is clean: heap (JS objects) plus array buffers (the file bytes and typed arrays), after a full GC.
// Array buffers are freed by a concurrent sweeper after a GC, so each reading collects, waits, and collects
// again until the figures settle.
async function settledMemory() {
  let last = -1;
  for (let i = 0; i < 10; i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 50));
    const m = process.memoryUsage();
    const total = m.heapUsed + m.arrayBuffers;
    if (Math.abs(total - last) < 16 * 1024) return { heap: m.heapUsed, buffers: m.arrayBuffers };
    last = total;
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

async function measureMemory() {
  const size = statSync(path).size || readFileSync(path).length;
  const before = await settledMemory();
  const btf = parseBtf(readFileSync(path));
  walk(btf);
  const parsed = await settledMemory();
  for (let id = 1; id < btf.count; id++) btf.typeById(id);
  btf.findByName("task_struct");
  const decoded = await settledMemory();
  const mb = (x) => x / 1e6;
  const total = (m) => m.heap + m.buffers - before.heap - before.buffers;
  out("ts.btf_file_mb", mb(size), "MB");
  out("ts.btf_retained_heap_mb", mb(parsed.heap - before.heap), "MB");
  out("ts.btf_retained_total_mb", mb(total(parsed)), "MB");
  out("ts.btf_retained_ratio", total(parsed) / size, "x");
  out("ts.btf_retained_decoded_total_mb", mb(total(decoded)), "MB");
  return btf.count;
}

if (typeof globalThis.gc === "function") await measureMemory();
else process.stderr.write("btf bench: run with --expose-gc for the memory figures\n");

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
