// @ebpf/maps benchmarks, same protocol as ../shared/anchors/perf (libbpf / cilium): one untimed warm-up,
// then ITERS timed iterations, each printing "<metric> <value> <unit>" lines prefixed "ts.".
// Needs root and the built packages (pnpm build, or npx tsc -b packages/maps packages/relocate).
//   ./run.sh libbpf cilium --cmd 'node /path/to/packages/maps/bench/maps.bench.mjs'
// BENCH=maps|ringbuf|perfbuf (comma list) selects suites; NKEYS, NEVENTS, PAGES, ITERS as the anchors.
import { ArrayMap, codecs, HashMap, PerfEventArray, RingBuf } from "@ebpf/maps";
import { loadProducer, produce } from "./producers.mjs";

const iters = Number(process.env.ITERS ?? 10);
const nkeys = Number(process.env.NKEYS ?? 10000);
const nevents = Number(process.env.NEVENTS ?? 200000);
const pages = Number(process.env.PAGES ?? 2048);
// JIT warm-up: untimed rounds before the timed ones (libbpf and Go need one; V8 settles after a few).
const warmups = 2 * Number(process.env.WARMUP ?? 3);
// DRAIN=record|batch|both (default both): which consumer APIs the ring/perf suites time.
const drainMode = process.env.DRAIN ?? "both";
const batchedRound = (it) => (drainMode === "both" ? (it & 1) === 1 : drainMode === "batch");
const suites = new Set((process.env.BENCH ?? "maps,ringbuf,perfbuf").split(","));
const now = () => process.hrtime.bigint();
const sample = (metric, value, unit) =>
  process.stdout.write(`ts.${metric} ${Number(value.toPrecision(6))} ${unit}\n`);
const die = (msg) => {
  process.stderr.write(`maps.bench: ${msg}\n`);
  process.exit(1);
};

function benchMaps() {
  const spec = { keySize: 4, valueSize: 8, maxEntries: 65536 };
  const hash = HashMap.create(
    { ...spec, name: "hash_map" },
    { keyCodec: codecs.u32, valueCodec: codecs.u64n },
  );
  const array = ArrayMap.create({ ...spec, name: "array_map" }, { valueCodec: codecs.u64n });
  const keys = Array.from({ length: nkeys }, (_, i) => Math.imul(i, 2654435761 | 0) >>> 0);
  const entries = keys.map((k, i) => [k, i]);
  for (let it = -1; it < iters; it++) {
    let t0 = now();
    for (let i = 0; i < nkeys; i++) hash.set(keys[i], i);
    let t1 = now();
    if (it >= 0) sample("map_hash_update_ns", Number(t1 - t0) / nkeys, "ns/op");
    let sum = 0;
    t0 = now();
    for (let i = 0; i < nkeys; i++) sum += hash.get(keys[i]);
    t1 = now();
    if (it >= 0) sample("map_hash_lookup_ns", Number(t1 - t0) / nkeys, "ns/op");
    if (sum !== (nkeys * (nkeys - 1)) / 2) die(`bad lookup sum ${sum}`);
    t0 = now();
    for (let i = 0; i < nkeys; i++) if (!hash.delete(keys[i])) die("delete: missing key");
    t1 = now();
    if (it >= 0) sample("map_hash_delete_ns", Number(t1 - t0) / nkeys, "ns/op");
    t0 = now();
    for (let i = 0; i < nkeys; i++) array.set(i, i);
    t1 = now();
    if (it >= 0) sample("map_array_update_ns", Number(t1 - t0) / nkeys, "ns/op");
    sum = 0;
    t0 = now();
    for (let i = 0; i < nkeys; i++) sum += array.get(i);
    t1 = now();
    if (it >= 0) sample("map_array_lookup_ns", Number(t1 - t0) / nkeys, "ns/op");
    t0 = now();
    const written = hash.batchUpdate(entries);
    t1 = now();
    if (written !== nkeys) die(`batch update wrote ${written}`);
    if (it >= 0) sample("map_batch_update_ns", Number(t1 - t0) / nkeys, "ns/elem");
    t0 = now();
    const all = hash.batchLookup({ batchSize: nkeys });
    t1 = now();
    if (all.length !== nkeys) die(`batch lookup got ${all.length}`);
    if (it >= 0) sample("map_batch_lookup_ns", Number(t1 - t0) / nkeys, "ns/elem");
    t0 = now();
    const raw = hash.batchLookupRaw({ batchSize: nkeys });
    t1 = now();
    if (raw.count !== nkeys) die(`raw batch lookup got ${raw.count}`);
    if (it >= 0) sample("map_batch_lookup_raw_ns", Number(t1 - t0) / nkeys, "ns/elem");
    hash.batchDelete(keys);
  }
  hash.close();
  array.close();
}

function benchRingbuf() {
  const events = RingBuf.create({ name: "events", maxEntries: 16 << 20 });
  const counter = ArrayMap.create({ keySize: 4, valueSize: 8, maxEntries: 1 }, { valueCodec: codecs.u64n });
  const prog = loadProducer("ringbuf", events.fd, counter.fd);
  const reader = events.reader();
  // Counters live in a Float64Array, as the C anchor keeps them in a struct: a module-level `let`
  // holding a double would allocate a heap number on every `+=`.
  const acc = new Float64Array(2);
  const onRecord = (r) => {
    acc[0]++;
    acc[1] += r.view.getUint32(r.offset, true);
  };
  const onBatch = (b) => {
    const { view, offsets, count } = b;
    let s = 0;
    for (let i = 0; i < count; i++) s += view.getUint32(offsets[i], true);
    acc[0] += count;
    acc[1] += s;
  };
  let base = 0;
  // Each timed iteration consumes one round per record (the callback API) and one round in batches
  // (drainBatch). Untimed warm-up rounds first (the JIT needs a few to settle).
  for (let it = -warmups; it < 2 * iters; it++) {
    const batched = batchedRound(it);
    acc.fill(0);
    const p0 = now();
    produce(prog, nevents);
    const p1 = now();
    const t0 = now();
    while (acc[0] < nevents) {
      const got = batched ? reader.drainBatch(onBatch) : reader.drain(onRecord);
      if (got === 0) die(`ring buffer: got ${acc[0]}/${nevents}`);
    }
    const t1 = now();
    const expect = nevents * base + (nevents * (nevents - 1)) / 2;
    if (acc[1] !== expect) die(`ring buffer: bad checksum ${acc[1]} != ${expect}`);
    base += nevents;
    if (it < 0) continue;
    const ns = Number(t1 - t0);
    const tag = batched ? "ringbuf_consume_batch" : "ringbuf_consume";
    sample(`${tag}_mev_s`, nevents / (ns / 1e3), "Mev/s");
    sample(`${tag}_ns_per_ev`, ns / nevents, "ns/ev");
    if (!batched) sample("ringbuf_produce_mev_s", nevents / (Number(p1 - p0) / 1e3), "Mev/s");
  }
  reader.close();
  prog.close();
  counter.close();
  events.close();
}

function benchPerfbuf() {
  const events = PerfEventArray.create({ name: "events" });
  const counter = ArrayMap.create({ keySize: 4, valueSize: 8, maxEntries: 1 }, { valueCodec: codecs.u64n });
  const prog = loadProducer("perf", events.fd, counter.fd);
  const reader = events.reader({ pagesPerCpu: pages });
  const acc = new Float64Array(3); // samples, sum, lost (see benchRingbuf)
  const handlers = {
    onSample: (r) => {
      acc[0]++;
      acc[1] += r.view.getUint32(r.offset, true);
    },
    onLost: (_cpu, count) => {
      acc[2] += count;
    },
  };
  const onBatch = (b) => {
    const { view, offsets, count } = b;
    let s = 0;
    for (let i = 0; i < count; i++) s += view.getUint32(offsets[i], true);
    acc[0] += count;
    acc[1] += s;
  };
  const onLost = handlers.onLost;
  let base = 0;
  for (let it = -warmups; it < 2 * iters; it++) {
    const batched = batchedRound(it);
    acc.fill(0);
    const p0 = now();
    produce(prog, nevents);
    const p1 = now();
    const t0 = now();
    while (acc[0] + acc[2] < nevents) {
      const got = batched ? reader.drainBatch(onBatch, onLost) : reader.drain(handlers);
      if (got === 0 && acc[2] === 0) die(`perf: got ${acc[0]}/${nevents}`);
    }
    const t1 = now();
    if (acc[2]) die(`perf: lost ${acc[2]} events: raise PAGES`);
    const expect = nevents * base + (nevents * (nevents - 1)) / 2;
    if (acc[1] !== expect) die(`perf: bad checksum ${acc[1]} != ${expect}`);
    base += nevents;
    if (it < 0) continue;
    const ns = Number(t1 - t0);
    const tag = batched ? "perfbuf_consume_batch" : "perfbuf_consume";
    sample(`${tag}_mev_s`, nevents / (ns / 1e3), "Mev/s");
    sample(`${tag}_ns_per_ev`, ns / nevents, "ns/ev");
    if (!batched) sample("perfbuf_produce_mev_s", nevents / (Number(p1 - p0) / 1e3), "Mev/s");
  }
  reader.close();
  prog.close();
  counter.close();
  events.close();
}

if (suites.has("maps")) benchMaps();
if (suites.has("ringbuf")) benchRingbuf();
if (suites.has("perfbuf")) benchPerfbuf();
