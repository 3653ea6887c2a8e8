/**
 * Per-CPU map values: the kernel copies one value per *possible* CPU, each in a slot rounded up to
 * 8 bytes (`round_up(value_size, 8)`), so user space sees `possibleCpus * slot` bytes.
 */
import type { Codec } from "./codec.js";

/** Bytes of one CPU's slot for a per-CPU value of `valueSize` bytes. */
export function perCpuSlotSize(valueSize: number): number {
  return (valueSize + 7) & ~7;
}

/** Bytes the kernel reads/writes for one per-CPU element. */
export function perCpuValueSize(valueSize: number, possibleCpus: number): number {
  return perCpuSlotSize(valueSize) * possibleCpus;
}

/**
 * Wraps a single-CPU value codec into one for the whole per-CPU value: an array with one entry per
 * possible CPU. Encoding requires exactly `possibleCpus` entries (missing slots would be ambiguous).
 */
export function perCpuCodec<T>(
  inner: Codec<T>,
  possibleCpus: number,
  onBadLength: (n: number) => Error,
): Codec<T[]> {
  const slot = perCpuSlotSize(inner.size);
  return {
    size: slot * possibleCpus,
    encode(values, view, offset) {
      if (values.length !== possibleCpus) throw onBadLength(values.length);
      for (let cpu = 0; cpu < possibleCpus; cpu++) {
        const at = offset + cpu * slot;
        // Zero the padding so the kernel never sees stale bytes.
        for (let i = inner.size; i < slot; i++) view.setUint8(at + i, 0);
        inner.encode(values[cpu] as T, view, at);
      }
    },
    decode(view, offset) {
      const out = new Array<T>(possibleCpus);
      for (let cpu = 0; cpu < possibleCpus; cpu++) out[cpu] = inner.decode(view, offset + cpu * slot);
      return out;
    },
  };
}
