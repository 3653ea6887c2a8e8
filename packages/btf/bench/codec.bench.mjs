// Benchmark of the BTF codecs: prints `metric value unit` lines, one sample per metric per iteration
// after an untimed warm-up (the shape of ../shared/anchors/perf).
//
//   node packages/btf/bench/codec.bench.mjs
//
// Types come from test/fixtures/codec/types.el.btf (compiled from types.c):
// - pair_t { u32 id; u64 value; }: a typical map key/value (16 bytes);
// - struct all: 272 bytes with every kind of member (ints, floats, strings, arrays, nested structs,
//   unions, bitfields, enums, pointers, __int128);
// - ts.hand_pair_decode_ns: the same pair decoded by two hand-written DataView reads, the floor.
import { readFileSync } from "node:fs";
import { BtfKind, createCodec, parseBtf, u32Codec, u64Codec } from "../dist/index.js";

const iters = Number(process.env.ITERS ?? 10);
const N = Number(process.env.N ?? 200_000);
const fixtures = new URL("../test/fixtures/codec/", import.meta.url);
const btf = parseBtf(readFileSync(new URL("types.el.btf", fixtures)));
const allBytes = new Uint8Array(readFileSync(new URL("data.all.el.bin", fixtures)));
const now = () => performance.now();
const out = (metric, value, unit) => process.stdout.write(`${metric} ${value.toFixed(1)} ${unit}\n`);

const pair = createCodec(btf, btf.findByName("pair_t", BtfKind.Typedef).id);
const all = createCodec(btf, btf.findByName("all", BtfKind.Struct).id);
const u32 = u32Codec(true);
const u64 = u64Codec(true);

// A buffer of N consecutive pairs, as a batch lookup or ring buffer would hand them over.
const pairs = new Uint8Array(N * 16);
for (let i = 0; i < N; i++) pair.encode({ id: i, value: BigInt(i) * 3n }, pairs, i * 16);
const allValue = all.decode(allBytes);
const target = new Uint8Array(all.size);
const pairTarget = new Uint8Array(16);

function timeNs(n, fn) {
  const t0 = now();
  const sink = fn();
  const t1 = now();
  if (sink === -1) process.stderr.write("");
  return ((t1 - t0) * 1e6) / n;
}

for (let it = -1; it < iters; it++) {
  const r = {};
  r.pair_decode = timeNs(N, () => {
    let s = 0;
    for (let i = 0; i < N; i++) s += pair.decode(pairs, i * 16).id;
    return s;
  });
  r.hand_pair_decode = timeNs(N, () => {
    const dv = new DataView(pairs.buffer);
    let s = 0;
    for (let i = 0; i < N; i++) {
      const o = { id: dv.getUint32(i * 16, true), value: dv.getBigUint64(i * 16 + 8, true) };
      s += o.id;
    }
    return s;
  });
  r.pair_encode = timeNs(N, () => {
    const v = { id: 7, value: 9n };
    for (let i = 0; i < N; i++) {
      v.id = i;
      pair.encode(v, pairTarget);
    }
    return pairTarget[0];
  });
  const n2 = N / 20;
  r.all_decode = timeNs(n2, () => {
    let s = 0;
    for (let i = 0; i < n2; i++) s += all.decode(allBytes).i;
    return s;
  });
  r.all_encode = timeNs(n2, () => {
    for (let i = 0; i < n2; i++) all.encode(allValue, target);
    return target[0];
  });
  r.u32_decode = timeNs(N, () => {
    let s = 0;
    for (let i = 0; i < N; i++) s += u32.decode(pairs, i * 16);
    return s;
  });
  r.u64_decode = timeNs(N, () => {
    let s = 0n;
    for (let i = 0; i < N; i++) s += u64.decode(pairs, i * 16 + 8);
    return s;
  });
  if (it < 0) continue;
  out("ts.codec_pair_decode_ns", r.pair_decode, "ns/op");
  out("ts.hand_pair_decode_ns", r.hand_pair_decode, "ns/op");
  out("ts.codec_pair_encode_ns", r.pair_encode, "ns/op");
  out("ts.codec_pair_decode_mb_s", (16 * 1e3) / r.pair_decode, "MB/s");
  out("ts.codec_all_decode_ns", r.all_decode, "ns/op");
  out("ts.codec_all_encode_ns", r.all_encode, "ns/op");
  out("ts.codec_all_decode_mb_s", (all.size * 1e3) / r.all_decode, "MB/s");
  out("ts.codec_u32_decode_ns", r.u32_decode, "ns/op");
  out("ts.codec_u64_decode_ns", r.u64_decode, "ns/op");
}
