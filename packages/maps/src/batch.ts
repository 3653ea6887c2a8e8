/**
 * Batch operations (`BPF_MAP_*_BATCH`): many elements per syscall, encoded into one contiguous key
 * array and one value array. Per-CPU maps use the same layout as single-element calls, one
 * `possibleCpus * round_up(value_size, 8)` block per element.
 */
import { Errno, NotSupportedError, SyscallError } from "@ebpf/sys";
import type { Codec } from "./codec.js";
import type { MapCore } from "./core.js";
import { type MapTypeName, mapTypeName } from "./spec.js";

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

type BatchCommand =
  | "BPF_MAP_LOOKUP_BATCH"
  | "BPF_MAP_LOOKUP_AND_DELETE_BATCH"
  | "BPF_MAP_UPDATE_BATCH"
  | "BPF_MAP_DELETE_BATCH";

/**
 * The first mainline kernel with each batch command per map type. The batch API (5.6) came with the hash
 * maps and lookup/update for arrays; per-CPU arrays got lookup/update in 5.13. Arrays cannot delete, so they
 * never have the delete commands. Types not listed have no known version.
 */
const batchMinKernel: Partial<Record<MapTypeName, Partial<Record<BatchCommand, string>>>> = (() => {
  const all = (v: string) => ({
    BPF_MAP_LOOKUP_BATCH: v,
    BPF_MAP_LOOKUP_AND_DELETE_BATCH: v,
    BPF_MAP_UPDATE_BATCH: v,
    BPF_MAP_DELETE_BATCH: v,
  });
  const lookupUpdate = (v: string) => ({ BPF_MAP_LOOKUP_BATCH: v, BPF_MAP_UPDATE_BATCH: v });
  return {
    hash: all("5.6"),
    percpu_hash: all("5.6"),
    lru_hash: all("5.6"),
    lru_percpu_hash: all("5.6"),
    array: lookupUpdate("5.6"),
    percpu_array: lookupUpdate("5.13"),
  };
})();

/**
 * Runs one batch syscall, turning the kernel's "no such operation for this map type" (ENOTSUPP, or
 * EOPNOTSUPP) into {@link NotSupportedError}, as cilium/ebpf does: batch commands arrived per map type
 * over several releases, so a kernel can have the batch API yet not for this map.
 */
function batchCall<T>(core: MapCore, command: BatchCommand, call: () => T): T {
  try {
    return call();
  } catch (e) {
    if (e instanceof SyscallError && (e.errno === Errno.ENOTSUPP || e.errno === Errno.EOPNOTSUPP)) {
      const type = mapTypeName(core.info.type);
      throw new NotSupportedError({
        feature: `${command} on ${type} maps`,
        minKernel: batchMinKernel[type as MapTypeName]?.[command],
        cause: e,
      });
    }
    throw e;
  }
}

function dv(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const lookupCommand = (andDelete: boolean): BatchCommand =>
  andDelete ? "BPF_MAP_LOOKUP_AND_DELETE_BATCH" : "BPF_MAP_LOOKUP_BATCH";

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
    const r = batchCall(core, lookupCommand(andDelete), () =>
      core.kernel.lookupBatch(
        core.fd("batch lookup"),
        andDelete,
        first ? null : inBatch,
        outBatch,
        keys,
        values,
        chunk,
        options.elemFlags ?? 0,
      ),
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
    const r = batchCall(core, lookupCommand(andDelete), () =>
      core.kernel.lookupBatch(
        core.fd("batch lookup"),
        andDelete,
        first ? null : inBatch,
        outBatch,
        keys.subarray(count * keySize, (count + chunk) * keySize),
        values.subarray(count * valueSize, (count + chunk) * valueSize),
        chunk,
        options.elemFlags ?? 0,
      ),
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
  return batchCall(core, "BPF_MAP_UPDATE_BATCH", () =>
    core.kernel.updateBatch(core.fd("batch update"), keys, values, n, options.elemFlags ?? 0),
  );
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
  return batchCall(core, "BPF_MAP_DELETE_BATCH", () =>
    core.kernel.deleteBatch(core.fd("batch delete"), bytes, n, options.elemFlags ?? 0),
  );
}
