/**
 * The perf ring consumer protocol over plain memory (one CPU's ring of a perf event array).
 *
 * Layout: a `struct perf_event_mmap_page` (the kernel advances `data_head`, we advance `data_tail`),
 * then `size` bytes of data mapped once, so records may wrap around the end. Records are 8-byte
 * aligned `struct perf_event_header { u32 type; u16 misc; u16 size; }` followed by the body:
 * `PERF_RECORD_SAMPLE` with `PERF_SAMPLE_RAW` is `u32 raw_size; u8 raw[raw_size]`, `PERF_RECORD_LOST`
 * is `u64 id; u64 lost`.
 */
import { ParseError } from "@ebpf/errors";
import { perfHeader, perfPage, perfRecord } from "../abi.js";

const TWO_32 = 0x1_0000_0000;
const HDR = perfHeader.byteSize;
const SAMPLE = perfRecord.sample;
const LOST = perfRecord.lost;
const SIZE_OFFSET = perfHeader.size;
/** Samples scanned per step; `data_tail` is published after each step. */
const SCAN_CHUNK = 1024;
/** See ringbuf/consumer.ts: plain typed-array accesses are acquire/release on x86; Atomics are slow there. */
const needsBarriers = process.arch !== "x64" && process.arch !== "ia32";
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Where one CPU's perf ring lives. */
export interface PerfRingMemory {
  /** Buffer holding the `perf_event_mmap_page` at `metaOffset` (must be writable). */
  meta: ArrayBuffer;
  metaOffset: number;
  /** Buffer holding the data area of `size` bytes at `dataOffset`. */
  data: ArrayBuffer;
  dataOffset: number;
  /** Data size in bytes, a power of two. */
  size: number;
}

/** One sample, valid only during the callback it is passed to (the object is reused). */
export interface PerfRecord {
  /** The CPU whose ring held the sample. */
  readonly cpu: number;
  /** View holding the sample; the payload is `length` bytes at `offset`. */
  readonly view: DataView;
  /** The same memory as bytes. */
  readonly buffer: Uint8Array;
  readonly offset: number;
  readonly length: number;
  /** The payload as a zero-copy `Uint8Array` (valid only during the callback). */
  bytes(): Uint8Array;
  /** A copy of the payload that stays valid. */
  copy(): Uint8Array;
}

class ReusablePerfRecord implements PerfRecord {
  view: DataView;
  buffer: Uint8Array;
  offset = 0;
  length = 0;
  constructor(
    readonly cpu: number,
    view: DataView,
    buffer: Uint8Array,
  ) {
    this.view = view;
    this.buffer = buffer;
  }
  bytes(): Uint8Array {
    return this.buffer.subarray(this.offset, this.offset + this.length);
  }
  copy(): Uint8Array {
    return this.buffer.slice(this.offset, this.offset + this.length);
  }
}

/** A run of samples for `PerfEventArrayReader.drainBatch`; valid only during the callback. */
export interface PerfBatch {
  readonly cpu: number;
  /** Sample `i` is `lengths[i]` bytes at `offsets[i]` of `view`. */
  view: DataView;
  buffer: Uint8Array;
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  count: number;
}

/** Callbacks for `PerfEventArrayReader.drain`. */
export interface PerfDrainHandlers {
  /** Each sample; return `false` to stop after it. */
  onSample: (record: PerfRecord) => unknown;
  /** Each `PERF_RECORD_LOST`: how many samples the kernel dropped. */
  onLost?: (cpu: number, count: number) => void;
}

/**
 * Reads one CPU's perf ring and advances `data_tail`.
 *
 * @internal (wrapped by `PerfEventArrayReader`)
 */
export class PerfRingConsumer {
  readonly size: number;
  private readonly mask: number;
  private readonly head64: BigUint64Array;
  private readonly tail64: BigUint64Array;
  private readonly tailWords: Int32Array;
  private readonly dataView: DataView;
  private readonly dataBytes: Uint8Array;
  private readonly record: ReusablePerfRecord;
  private readonly wrapRecord: ReusablePerfRecord;
  private scratch: Uint8Array;
  private tailHigh: number;
  /** Our `data_tail` (we are its only writer). */
  private tail: number;
  private readonly u32: Uint32Array;
  private readonly u16: Uint16Array;
  private batch: PerfBatch | undefined;
  private offsets = new Int32Array(SCAN_CHUNK);
  private lengths = new Int32Array(SCAN_CHUNK);
  /** Tail after each scanned sample. */
  private ends = new Float64Array(SCAN_CHUNK);
  private scanEnd = 0;

  constructor(
    readonly cpu: number,
    memory: PerfRingMemory,
  ) {
    const { size } = memory;
    if (size < 8 || (size & (size - 1)) !== 0) {
      throw new ParseError(
        { format: "perf ring", offset: 0, expected: "a power-of-two data size" },
        `got ${size}`,
      );
    }
    this.size = size;
    this.mask = size - 1;
    this.head64 = new BigUint64Array(memory.meta, memory.metaOffset + perfPage.dataHead, 1);
    this.tail64 = new BigUint64Array(memory.meta, memory.metaOffset + perfPage.dataTail, 1);
    this.tailWords = new Int32Array(memory.meta, memory.metaOffset + perfPage.dataTail, 2);
    this.dataView = new DataView(memory.data, memory.dataOffset, size);
    this.dataBytes = new Uint8Array(memory.data, memory.dataOffset, size);
    this.record = new ReusablePerfRecord(cpu, this.dataView, this.dataBytes);
    this.scratch = new Uint8Array(256);
    this.wrapRecord = new ReusablePerfRecord(cpu, new DataView(this.scratch.buffer), this.scratch);
    this.u32 = new Uint32Array(memory.data, memory.dataOffset, size >>> 2);
    this.u16 = new Uint16Array(memory.data, memory.dataOffset, size >>> 1);
    this.tail = Number(Atomics.load(this.tail64, 0));
    this.tailHigh = Math.floor(this.tail / TWO_32);
  }

  /** Bytes written by the kernel and not yet consumed. */
  pending(): number {
    return Number(Atomics.load(this.head64, 0)) - Number(Atomics.load(this.tail64, 0));
  }

  /** Reads `data_head` (acquire) and checks it against the tail. */
  private readHead(tail: number): number {
    const head = Number(Atomics.load(this.head64, 0));
    if (head - tail > this.size || head < tail) {
      throw new ParseError(
        { format: "perf ring", offset: tail & this.mask, expected: "0 ≤ data_head - data_tail ≤ ring size" },
        `head ${head}, tail ${tail}`,
      );
    }
    return head;
  }

  /** The size field of the header at `at`, validated against the unread bytes. */
  private recordSize(at: number, unread: number): number {
    const size = this.u16[(at + perfHeader.size) >>> 1]!;
    if (size < HDR || size > unread || (size & 7) !== 0) {
      throw new ParseError(
        {
          format: "perf ring",
          offset: at,
          expected: "a record size that is a multiple of 8 within the unread bytes",
        },
        `size ${size}`,
      );
    }
    return size;
  }

  /**
   * Scans up to `max` contiguous samples from the tail into `offsets`/`lengths`/`ends` without
   * consuming them; stops before anything else (a wrapping sample, a lost record, another type).
   * `scanEnd` becomes the tail after the scanned samples.
   */
  private scan(head: number, max: number, trackEnds: boolean): number {
    if (this.offsets.length < max) this.grow(max);
    const u32 = this.u32;
    const u16 = this.u16;
    const mask = this.mask;
    const ringSize = this.size;
    const offsets = this.offsets;
    const lengths = this.lengths;
    const ends = this.ends;
    // Integer byte count from `start` instead of a double position: keeps V8 in integer arithmetic.
    const start = this.tail;
    const base = start & mask; // & takes the position modulo 2^32, and the size divides 2^32
    const avail = (head - start) | 0; // ≤ ring size (checked by readHead)
    let rel = 0;
    let count = 0;
    while (count < max && rel < avail) {
      const at = (base + rel) & mask;
      // The 8-byte header never wraps: records are 8-aligned and the size is a multiple of 8.
      const size = u16[(at + SIZE_OFFSET) >>> 1]!;
      if (size < HDR || size > avail - rel || (size & 7) !== 0) this.recordSize(at, avail - rel); // throws
      if (u32[at >>> 2] !== SAMPLE || at + size > ringSize) break;
      const rawSize = u32[(at + HDR) >>> 2]!;
      if (rawSize + HDR + 4 > size) this.badRaw(at, rawSize, size);
      rel += size;
      offsets[count] = at + HDR + 4;
      lengths[count] = rawSize;
      if (trackEnds) ends[count] = start + rel;
      count++;
    }
    this.scanEnd = start + rel;
    return count;
  }

  private grow(n: number): void {
    this.offsets = new Int32Array(n);
    this.lengths = new Int32Array(n);
    this.ends = new Float64Array(n);
    this.batch = undefined;
  }

  /** Consumes every record up to the current head (or until a callback returns `false`). Returns samples delivered. */
  drain(handlers: PerfDrainHandlers): number {
    // A direct loop (V8 inlines the callback) counting bytes from `start` in a small integer.
    const u32 = this.u32;
    const u16 = this.u16;
    const mask = this.mask;
    const ringSize = this.size;
    const record = this.record;
    const onSample = handlers.onSample;
    const start = this.tail;
    const head = this.readHead(start);
    const base = start & mask;
    const avail = (head - start) | 0; // ≤ ring size (checked by readHead)
    let rel = 0;
    let delivered = 0;
    try {
      while (rel < avail) {
        const at = (base + rel) & mask;
        // The 8-byte header never wraps: records are 8-aligned and the size is a multiple of 8.
        const size = u16[(at + SIZE_OFFSET) >>> 1]!;
        if (size < HDR || size > avail - rel || (size & 7) !== 0) this.recordSize(at, avail - rel); // throws
        rel += size;
        if (u32[at >>> 2] === SAMPLE && at + size <= ringSize) {
          const rawSize = u32[(at + HDR) >>> 2]!;
          if (rawSize + HDR + 4 > size) this.badRaw(at, rawSize, size);
          record.offset = at + HDR + 4;
          record.length = rawSize;
          delivered++;
          if (onSample(record) === false) break;
        } else {
          const r = this.slowRecord(at, size, handlers);
          if (r < 0) {
            delivered++; // the callback saw this sample and asked to stop
            break;
          }
          delivered += r;
        }
      }
    } finally {
      // Also when a callback throws: the record it saw is consumed, not redelivered.
      this.publish(start + rel);
    }
    return delivered;
  }

  /**
   * Delivers samples in batches: one callback per run of contiguous samples (a sample that wraps around
   * the ring end comes alone, copied, in `batch.view`). Lost records go to `onLost`. The batch is valid
   * only during the callback; return `false` to stop after it.
   */
  drainBatch(
    onBatch: (batch: PerfBatch) => unknown,
    onLost?: (cpu: number, count: number) => void,
    maxBatch = SCAN_CHUNK,
  ): number {
    const head = this.readHead(this.tail);
    let delivered = 0;
    while (this.tail < head) {
      const count = this.scan(head, maxBatch, false);
      this.batch ??= {
        cpu: this.cpu,
        view: this.dataView,
        buffer: this.dataBytes,
        offsets: this.offsets,
        lengths: this.lengths,
        count: 0,
      };
      const batch = this.batch;
      let more = true;
      if (count > 0) {
        batch.count = count;
        delivered += count;
        try {
          more = onBatch(batch) !== false;
        } finally {
          this.publish(this.scanEnd);
        }
      } else {
        const at = this.tail & this.mask;
        const size = this.recordSize(at, head - this.tail);
        this.publish(this.tail + size);
        const type = this.u32[at >>> 2];
        if (type === SAMPLE) {
          const wrapped = this.unwrap(at, size);
          const rawSize = wrapped.view.getUint32(HDR, littleEndianHost);
          if (rawSize + HDR + 4 > size) this.badRaw(at, rawSize, size);
          batch.offsets[0] = HDR + 4;
          batch.lengths[0] = rawSize;
          batch.count = 1;
          batch.view = wrapped.view;
          batch.buffer = wrapped.buffer;
          delivered++;
          try {
            more = onBatch(batch) !== false;
          } finally {
            batch.view = this.dataView;
            batch.buffer = this.dataBytes;
          }
        } else if (type === LOST) {
          onLost?.(this.cpu, this.lostCount(at, size));
        }
      }
      if (!more) break;
    }
    return delivered;
  }

  /** A record off the fast path: a sample that wraps, a lost record, or another type (skipped). Returns
   * 1 for a delivered sample, 0 otherwise, -1 when the callback asked to stop. */
  private slowRecord(at: number, size: number, handlers: PerfDrainHandlers): number {
    const type = this.u32[at >>> 2];
    if (type === SAMPLE) {
      const record = this.unwrap(at, size);
      const rawSize = record.view.getUint32(HDR, littleEndianHost);
      if (rawSize + HDR + 4 > size) this.badRaw(at, rawSize, size);
      record.offset = HDR + 4;
      record.length = rawSize;
      return handlers.onSample(record) === false ? -1 : 1;
    }
    if (type === LOST) handlers.onLost?.(this.cpu, this.lostCount(at, size));
    return 0;
  }

  /** `struct { header; u64 id; u64 lost; }`: the lost count. */
  private lostCount(at: number, size: number): number {
    const r = at + size <= this.size ? this.record : this.unwrap(at, size);
    const base = r === this.record ? at : 0;
    return Number(r.view.getBigUint64(base + HDR + 8, littleEndianHost));
  }

  private badRaw(at: number, rawSize: number, size: number): never {
    throw new ParseError(
      { format: "perf ring", offset: at + HDR, expected: "a raw sample size within the record" },
      `raw size ${rawSize} in a ${size}-byte record`,
    );
  }

  /** Copies a record that wraps around the end of the ring into the scratch buffer. */
  private unwrap(at: number, size: number): ReusablePerfRecord {
    if (this.scratch.length < size) {
      this.scratch = new Uint8Array(Math.max(size, this.scratch.length * 2));
      this.wrapRecord.buffer = this.scratch;
      this.wrapRecord.view = new DataView(this.scratch.buffer);
    }
    const first = this.size - at;
    this.scratch.set(this.dataBytes.subarray(at, this.size), 0);
    this.scratch.set(this.dataBytes.subarray(0, size - first), first);
    return this.wrapRecord;
  }

  private publish(tail: number): void {
    this.tail = tail;
    const high = Math.floor(tail / TWO_32);
    if (high === this.tailHigh) {
      if (needsBarriers) Atomics.store(this.tailWords, littleEndianHost ? 0 : 1, tail | 0);
      else this.tailWords[littleEndianHost ? 0 : 1] = tail | 0;
    } else {
      Atomics.store(this.tail64, 0, BigInt(tail));
      this.tailHigh = high;
    }
  }
}
