/**
 * Batch operations (`BPF_MAP_*_BATCH`): many elements per syscall, encoded into one contiguous key
 * array and one value array. Per-CPU maps use the same layout as single-element calls, one
 * `possibleCpus * round_up(value_size, 8)` block per element.
 */
import type { Codec } from "./codec.js";
import type { MapCore } from "./core.js";

/** Options of batch lookups. */
export interface BatchLookupOptions {
  /** Elements per syscall (default: 256, at most the map's max_entries). */
  batchSize?: number;
  /** `elem_flags`, e.g. `BPF_F_LOCK`. */
  elemFlags?: number;
}

/** Options of batch updates and deletes. */
export interface BatchWriteOptions {
  /** `elem_flags`: `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST`, `BPF_F_LOCK`. */
  elemFlags?: number;
}

function dv(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads every element with `BPF_MAP_LOOKUP_BATCH` (or LOOKUP_AND_DELETE), decoding each. */
export function lookupBatch<K, V>(
  core: MapCore,
  keyCodec: Codec<K>,
  valueCodec: Codec<V>,
  andDelete: boolean,
  options: BatchLookupOptions = {},
): [K, V][] {
  const out: [K, V][] = [];
  const { keySize } = core.info;
  const valueSize = valueCodec.size;
  const chunk = Math.max(1, Math.min(options.batchSize ?? 256, core.info.maxEntries || 1));
  const keys = new Uint8Array(chunk * keySize);
  const values = new Uint8Array(chunk * valueSize);
  const keyView = dv(keys);
  const valueView = dv(values);
  // The batch position is a bucket index for hash maps and a key for arrays: room for either.
  const tokenSize = Math.max(keySize, 8);
  const inBatch = new Uint8Array(tokenSize);
  const outBatch = new Uint8Array(tokenSize);
  let first = true;
  for (;;) {
    const r = core.kernel.lookupBatch(
      core.fd("batch lookup"),
      andDelete,
      first ? null : inBatch,
      outBatch,
      keys,
      values,
      chunk,
      options.elemFlags ?? 0,
    );
    first = false;
    for (let i = 0; i < r.count; i++) {
      out.push([keyCodec.decode(keyView, i * keySize), valueCodec.decode(valueView, i * valueSize)]);
    }
    if (r.done || r.count === 0) return out;
    inBatch.set(outBatch);
  }
}

/** Reads every element into two flat arrays without decoding: the fast path for large maps. */
export function lookupBatchRaw(
  core: MapCore,
  valueSize: number,
  andDelete: boolean,
  options: BatchLookupOptions = {},
): { keys: Uint8Array; values: Uint8Array; count: number } {
  const { keySize, maxEntries } = core.info;
  const chunk = Math.max(1, Math.min(options.batchSize ?? maxEntries, maxEntries || 1));
  let keys = new Uint8Array(chunk * keySize);
  let values = new Uint8Array(chunk * valueSize);
  const tokenSize = Math.max(keySize, 8);
  const inBatch = new Uint8Array(tokenSize);
  const outBatch = new Uint8Array(tokenSize);
  let count = 0;
  let first = true;
  for (;;) {
    if ((count + chunk) * keySize > keys.length) {
      const k = new Uint8Array((count + chunk) * keySize * 2);
      k.set(keys.subarray(0, count * keySize));
      keys = k;
      const v = new Uint8Array((count + chunk) * valueSize * 2);
      v.set(values.subarray(0, count * valueSize));
      values = v;
    }
    const r = core.kernel.lookupBatch(
      core.fd("batch lookup"),
      andDelete,
      first ? null : inBatch,
      outBatch,
      keys.subarray(count * keySize, (count + chunk) * keySize),
      values.subarray(count * valueSize, (count + chunk) * valueSize),
      chunk,
      options.elemFlags ?? 0,
    );
    first = false;
    count += r.count;
    if (r.done || r.count === 0) break;
    inBatch.set(outBatch);
  }
  return { keys: keys.subarray(0, count * keySize), values: values.subarray(0, count * valueSize), count };
}

/** Writes `entries` with one `BPF_MAP_UPDATE_BATCH`. Returns the number written. */
export function updateBatch<K, V>(
  core: MapCore,
  keyCodec: Codec<K>,
  valueCodec: Codec<V>,
  entries: Iterable<readonly [K, V]>,
  options: BatchWriteOptions = {},
): number {
  const list = Array.isArray(entries) ? (entries as readonly (readonly [K, V])[]) : [...entries];
  const n = list.length;
  if (n === 0) return 0;
  const keys = new Uint8Array(n * keyCodec.size);
  const values = new Uint8Array(n * valueCodec.size);
  const kv = dv(keys);
  const vv = dv(values);
  const ks = keyCodec.size;
  const vs = valueCodec.size;
  for (let i = 0; i < n; i++) {
    const entry = list[i]!;
    keyCodec.encode(entry[0], kv, i * ks);
    valueCodec.encode(entry[1], vv, i * vs);
  }
  return core.kernel.updateBatch(core.fd("batch update"), keys, values, n, options.elemFlags ?? 0);
}

/** Deletes `keys` with one `BPF_MAP_DELETE_BATCH`. Returns the number deleted. */
export function deleteBatch<K>(
  core: MapCore,
  keyCodec: Codec<K>,
  keys: Iterable<K>,
  options: BatchWriteOptions = {},
): number {
  const list = Array.isArray(keys) ? (keys as readonly K[]) : [...keys];
  const n = list.length;
  if (n === 0) return 0;
  const bytes = new Uint8Array(n * keyCodec.size);
  const view = dv(bytes);
  for (let i = 0; i < n; i++) keyCodec.encode(list[i]!, view, i * keyCodec.size);
  return core.kernel.deleteBatch(core.fd("batch delete"), bytes, n, options.elemFlags ?? 0);
}
