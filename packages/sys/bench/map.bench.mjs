#!/usr/bin/env node
// @ebpf/sys map benchmark, in the format of ../shared/anchors/perf (lines "metric value unit"):
// the same operations as the anchors' map_ops (libbpf.map_* / cilium.map_*) on maps of the same shape
// (hash and array, u32 -> u64, 65536 entries), NKEYS scattered keys per round, one warm-up round, ITERS
// timed rounds. The maps are created with BPF_MAP_CREATE directly (the anchors load them from maps.bpf.o;
// the kernel objects are identical).
//
//   pnpm build && node packages/sys/bench/map.bench.mjs
//   cd ../shared/anchors/perf && ./run.sh libbpf --cmd 'node /path/to/packages/sys/bench/map.bench.mjs'
import koffi from "koffi";
import {
  BpfCmd,
  BpfMapType,
  MapElemAttr,
  MapElemOps,
  mapCreate,
  mapDeleteBatch,
  mapLookupBatch,
  mapLookupElem,
  mapUpdateBatch,
} from "../dist/index.js";

const ITERS = Number(process.env.ITERS ?? 10);
const NKEYS = Number(process.env.NKEYS ?? 10000);
const now = () => process.hrtime.bigint();
const sample = (name, ns, n, unit = "ns/op") =>
  console.log(`ts.${name} ${(Number(ns) / n).toFixed(1)} ${unit}`);

const hash = mapCreate({
  type: BpfMapType.HASH,
  keySize: 4,
  valueSize: 8,
  maxEntries: 65536,
  name: "hash_map",
});
const array = mapCreate({
  type: BpfMapType.ARRAY,
  keySize: 4,
  valueSize: 8,
  maxEntries: 65536,
  name: "array_map",
});
const keys = new Uint32Array(NKEYS);
const vals = new BigUint64Array(NKEYS);
for (let i = 0; i < NKEYS; i++) {
  keys[i] = Math.imul(i, 2654435761) >>> 0; // scattered keys, as in the anchors
  vals[i] = BigInt(i);
}
const keyBytes = new Uint8Array(keys.buffer);
const valBytes = new Uint8Array(vals.buffer);
const okeys = new Uint8Array(NKEYS * 4 * 2);
const ovals = new Uint8Array(NKEYS * 8 * 2);
const outBatch = new Uint8Array(4);

// The hot path: one preallocated accessor per map.
const h = new MapElemOps(hash, 4, 8);
const a = new MapElemOps(array, 4, 8);
const hk = new DataView(h.key.buffer, h.key.byteOffset, 4);
const hv = new DataView(h.value.buffer, h.value.byteOffset, 8);
const ak = new DataView(a.key.buffer, a.key.byteOffset, 4);
const av = new DataView(a.value.buffer, a.value.byteOffset, 8);
// The generic path, for reference: caller-owned buffers, addresses taken per call.
const gk = new Uint8Array(4);
const gv = new Uint8Array(8);
const gkv = new DataView(gk.buffer);

// The koffi floor: a bare koffi call of bpf(BPF_MAP_LOOKUP_ELEM) on a 16-entry array map, the
// counterpart of the anchors' sys.bpf_lookup_ns (raw syscall from C). Shows what the wrapper adds.
const rawSyscall = koffi.load("libc.so.6").func("syscall", "long", ["long", "long", "uint64_t", "uint64_t"]);
const small = mapCreate({ type: BpfMapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 16 });
const rawKey = new Uint8Array(128);
const rawValue = new Uint8Array(128);
const rawAttr = new Uint8Array(128);
const rawView = new DataView(rawAttr.buffer);
rawView.setUint32(MapElemAttr.fields.map_fd.offset, small.raw, true);
rawView.setBigUint64(MapElemAttr.fields.key.offset, koffi.address(rawKey), true);
rawView.setBigUint64(MapElemAttr.fields.value.offset, koffi.address(rawValue), true);
const rawAttrAddress = Number(koffi.address(rawAttr));
const SYS_BPF = process.arch === "arm64" ? 280 : 321;

for (let it = -1; it < ITERS; it++) {
  const timed = it >= 0;
  let sum = 0;
  let t0 = now();
  for (let i = 0; i < NKEYS; i++) {
    hk.setUint32(0, keys[i], true);
    hv.setUint32(0, i, true);
    hv.setUint32(4, 0, true);
    h.update(0);
  }
  let t1 = now();
  if (timed) sample("map_hash_update_ns", t1 - t0, NKEYS);

  t0 = now();
  for (let i = 0; i < NKEYS; i++) {
    hk.setUint32(0, keys[i], true);
    if (!h.lookup(0)) throw new Error("lookup: missing key");
    sum += hv.getUint32(0, true);
  }
  t1 = now();
  if (timed) sample("map_hash_lookup_ns", t1 - t0, NKEYS);

  t0 = now();
  for (let i = 0; i < NKEYS; i++) {
    gkv.setUint32(0, keys[i], true);
    if (!mapLookupElem(hash, gk, gv)) throw new Error("lookup: missing key");
    sum += gv[0];
  }
  t1 = now();
  if (timed) sample("map_hash_lookup_generic_ns", t1 - t0, NKEYS);

  t0 = now();
  for (let i = 0; i < NKEYS; i++) {
    hk.setUint32(0, keys[i], true);
    if (!h.delete()) throw new Error("delete: missing key");
  }
  t1 = now();
  if (timed) sample("map_hash_delete_ns", t1 - t0, NKEYS);

  t0 = now();
  for (let i = 0; i < NKEYS; i++) {
    ak.setUint32(0, i, true);
    av.setUint32(0, i, true);
    av.setUint32(4, 0, true);
    a.update(0);
  }
  t1 = now();
  if (timed) sample("map_array_update_ns", t1 - t0, NKEYS);

  t0 = now();
  for (let i = 0; i < NKEYS; i++) {
    ak.setUint32(0, i, true);
    a.lookup(0);
    sum += av.getUint32(0, true);
  }
  t1 = now();
  if (timed) sample("map_array_lookup_ns", t1 - t0, NKEYS);

  t0 = now();
  const u = mapUpdateBatch(hash, { keys: keyBytes, values: valBytes, count: NKEYS });
  t1 = now();
  if (u.count !== NKEYS) throw new Error(`update batch: ${u.count}/${NKEYS}`);
  if (timed) sample("map_batch_update_ns", t1 - t0, NKEYS, "ns/elem");

  t0 = now();
  let got = 0;
  let first = true;
  for (;;) {
    const r = mapLookupBatch(hash, {
      inBatch: first ? null : outBatch,
      outBatch,
      keys: okeys.subarray(got * 4),
      values: ovals.subarray(got * 8),
      count: NKEYS,
    });
    first = false;
    got += r.count;
    if (r.done) break;
  }
  t1 = now();
  if (got !== NKEYS) throw new Error(`lookup batch: ${got}/${NKEYS}`);
  if (timed) sample("map_batch_lookup_ns", t1 - t0, NKEYS, "ns/elem");

  t0 = now();
  for (let i = 0; i < NKEYS; i++) {
    rawKey[0] = i & 15;
    if (rawSyscall(SYS_BPF, BpfCmd.MAP_LOOKUP_ELEM, rawAttrAddress, MapElemAttr.byteSize) !== 0)
      throw new Error("raw lookup");
  }
  t1 = now();
  if (timed) sample("bpf_lookup_koffi_ns", t1 - t0, NKEYS);

  mapDeleteBatch(hash, { keys: keyBytes, count: NKEYS });
  if (!timed) process.stderr.write(`map.bench: ${NKEYS} keys (sum ${sum})\n`);
}
hash.close();
array.close();
small.close();
