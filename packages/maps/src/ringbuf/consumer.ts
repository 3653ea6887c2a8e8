/**
 * The BPF ring buffer consumer protocol over plain memory: no syscalls, so it runs the same over a
 * real mmap and over a fake ring in a `Uint8Array`.
 *
 * Layout (kernel/bpf/ringbuf.c): a read-write page holding `consumer_pos` (u64), a read-only page
 * holding `producer_pos` (u64), then `size` bytes of data mapped twice in a row so that a record
 * crossing the end is still contiguous. Each record starts 8-byte aligned with a header
 * `{ u32 len; u32 pg_off; }`; `len` carries BUSY (not committed yet) and DISCARD bits.
 */

import { ParseError } from "@ebpf/errors";
import { ringbufHeader } from "../abi.js";

const BPF_RINGBUF_BUSY_BIT = ringbufHeader.busyBit;
const BPF_RINGBUF_DISCARD_BIT = ringbufHeader.discardBit;
const BPF_RINGBUF_HDR_SZ = ringbufHeader.byteSize;

const LEN_MASK = ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT) >>> 0;
/**
 * On x86 (TSO) plain loads are not reordered with later loads and plain stores not with earlier
 * accesses, so a typed-array read is already an acquire and a write a release. `Atomics` on a
 * non-shared ArrayBuffer costs ~25 ns in V8 (a runtime call), 15× a plain access, so use them only
 * where the hardware needs the barriers.
 */
const needsBarriers = process.arch !== "x64" && process.arch !== "ia32";
/** Records scanned per step: the consumer position is published after each step, so the producer gets room back. */
const SCAN_CHUNK = 1024;

/**
 * Bytes available, as an int32 for the hot loops (capped at 2^30: the loops re-read the producer
 * position when they reach it, so a cap only costs a re-read).
 */
function smallInt(bytes: number): number {
  return Math.min(bytes, 0x4000_0000) | 0;
}
const TWO_32 = 0x1_0000_0000;
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Where the three parts of a ring live. Offsets are byte offsets into the buffers. */
export interface RingBufferMemory {
  /** Buffer holding `consumer_pos` at `consumerOffset` (must be writable). */
  consumer: ArrayBuffer;
  consumerOffset: number;
  /** Buffer holding `producer_pos` at `producerOffset`. */
  producer: ArrayBuffer;
  producerOffset: number;
  /** Buffer holding the data area, mapped twice: `2 * size` bytes from `dataOffset`. */
  data: ArrayBuffer;
  dataOffset: number;
  /** Data area size in bytes: a power of two (the map's max_entries). */
  size: number;
}

/**
 * One record, valid only during the callback it is passed to: the object is reused for the next
 * record and its memory belongs to the producer once the callback returns.
 */
export interface RingBufferRecord {
  /** The whole data area; the record is `length` bytes at `offset`. */
  readonly view: DataView;
  /** The whole data area as bytes. */
  readonly buffer: Uint8Array;
  /** Byte offset of the record's payload in `view` / `buffer`. */
  readonly offset: number;
  /** Payload length in bytes. */
  readonly length: number;
  /** The payload as a zero-copy `Uint8Array` (valid only during the callback). */
  bytes(): Uint8Array;
  /** A copy of the payload that stays valid. */
  copy(): Uint8Array;
}

class ReusableRecord implements RingBufferRecord {
  offset = 0;
  length = 0;
  constructor(
    readonly view: DataView,
    readonly buffer: Uint8Array,
  ) {}
  bytes(): Uint8Array {
    return this.buffer.subarray(this.offset, this.offset + this.length);
  }
  copy(): Uint8Array {
    return this.buffer.slice(this.offset, this.offset + this.length);
  }
}

/** A batch of records for `RingBufReader.drainBatch`; valid only during the callback. */
export interface RingBufferBatch {
  /** The whole data area. Record `i` is `lengths[i]` bytes at `offsets[i]`. */
  readonly view: DataView;
  /** The same memory as bytes. */
  readonly buffer: Uint8Array;
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  /** Records in this batch (entries past `count` are stale). */
  count: number;
}

/** Callback of `RingBufReader.drainBatch`; return `false` to stop after this batch. */
export type RingBufferBatchCallback = (batch: RingBufferBatch) => unknown;

/** Callback for each committed record; return `false` to stop draining after this record. */
export type RingBufferCallback = (record: RingBufferRecord) => unknown;

/**
 * Reads records from a BPF ring buffer's memory and advances `consumer_pos`.
 *
 * @internal (wrapped by `RingBufReader`)
 */
export class RingBufferConsumer {
  readonly size: number;
  private readonly mask: number;
  private readonly consumerWords: Int32Array;
  private readonly consumerPos64: BigUint64Array;
  private readonly producerPos64: BigUint64Array;
  private readonly producerWords: Int32Array;
  private readonly header: Int32Array;
  private readonly record: ReusableRecord;
  private readonly lowIndex: number;
  /** Cached high 32 bits of the consumer position as last written. */
  private consumerHigh: number;
  private batch: RingBufferBatch | undefined;
  private offsets = new Int32Array(SCAN_CHUNK);
  private lengths = new Int32Array(SCAN_CHUNK);
  /** Consumer position after each scanned record. */
  private ends = new Float64Array(SCAN_CHUNK);
  private scanEnd = 0;
  /** The producer position last read (re-read only when the consumer catches up with it). */
  private prodSeen = 0;
  /** The consumer position: we are its only writer, so it is kept here rather than re-read. */
  private cons: number;
  private readonly maxPayload: number;

  constructor(memory: RingBufferMemory) {
    const { size } = memory;
    if (size < 8 || (size & (size - 1)) !== 0) {
      throw new ParseError(
        { format: "ringbuf", offset: 0, expected: "a power-of-two data size" },
        `got ${size}`,
      );
    }
    this.size = size;
    this.mask = size - 1;
    this.consumerWords = new Int32Array(memory.consumer, memory.consumerOffset, 2);
    this.consumerPos64 = new BigUint64Array(memory.consumer, memory.consumerOffset, 1);
    this.producerPos64 = new BigUint64Array(memory.producer, memory.producerOffset, 1);
    this.producerWords = new Int32Array(memory.producer, memory.producerOffset, 2);
    this.header = new Int32Array(memory.data, memory.dataOffset, (2 * size) >>> 2);
    const bytes = new Uint8Array(memory.data, memory.dataOffset, 2 * size);
    this.record = new ReusableRecord(new DataView(memory.data, memory.dataOffset, 2 * size), bytes);
    this.lowIndex = littleEndianHost ? 0 : 1;
    this.cons = Number(Atomics.load(this.consumerPos64, 0));
    this.consumerHigh = Math.floor(this.cons / TWO_32);
    this.maxPayload = size - BPF_RINGBUF_HDR_SZ;
  }

  /** The consumer position (bytes consumed since the ring was created). */
  consumerPosition(): number {
    return Number(Atomics.load(this.consumerPos64, 0));
  }

  /** The producer position (bytes reserved since the ring was created); acquire-ordered. */
  producerPosition(): number {
    if (needsBarriers) return Number(Atomics.load(this.producerPos64, 0));
    const w = this.producerWords;
    const hi = this.lowIndex ^ 1;
    // Two 32-bit reads: retry if the high half moved in between (a torn read of the u64).
    for (;;) {
      const high = w[hi]! >>> 0;
      const low = w[this.lowIndex]! >>> 0;
      if (w[hi]! >>> 0 === high) return high * TWO_32 + low;
    }
  }

  /** Bytes reserved by the producer and not yet consumed (includes uncommitted records). */
  pending(): number {
    return this.producerPosition() - this.consumerPosition();
  }

  /**
   * Scans up to `max` committed records from the consumer position into `offsets`/`lengths`/`ends`
   * without consuming them. `scanEnd` becomes the position after the scan (trailing discarded records
   * included). Stops at the producer position or a BUSY record.
   */
  private scan(max: number, trackEnds: boolean): number {
    if (this.offsets.length < max) this.grow(max);
    const header = this.header;
    const mask = this.mask;
    const offsets = this.offsets;
    const lengths = this.lengths;
    const ends = this.ends;
    const maxPayload = this.maxPayload;
    // Integer byte count from `start` rather than a double position (see drain).
    const start = this.cons;
    const base = start & mask;
    let avail = smallInt(this.prodSeen - start);
    let rel = 0;
    let count = 0;
    while (count < max) {
      if (rel >= avail) {
        this.prodSeen = this.producerPosition();
        avail = smallInt(this.prodSeen - start);
        if (rel >= avail) break;
      }
      const at = (base + rel) & mask;
      const len = (needsBarriers ? Atomics.load(header, at >>> 2) : header[at >>> 2]!) >>> 0;
      if ((len & BPF_RINGBUF_BUSY_BIT) !== 0) break;
      const payload = len & LEN_MASK;
      if (payload > maxPayload) this.corrupt(at, payload);
      rel += (payload + BPF_RINGBUF_HDR_SZ + 7) & ~7;
      if ((len & BPF_RINGBUF_DISCARD_BIT) === 0) {
        offsets[count] = at + BPF_RINGBUF_HDR_SZ;
        lengths[count] = payload;
        if (trackEnds) ends[count] = start + rel;
        count++;
      }
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

  /**
   * Hands every committed record to `callback` until the ring is empty, a record is still being
   * written (BUSY), `limit` records were delivered, or the callback returns `false`. Discarded records
   * are skipped. Returns the number of records delivered.
   */
  drain(callback: RingBufferCallback, limit = Number.POSITIVE_INFINITY): number {
    // A direct loop (no scan into arrays), so V8 inlines the callback. Positions are 64-bit (doubles
    // in JS); the loop counts bytes from `start` in a small integer instead, which keeps V8 in integer
    // arithmetic: a double loop variable halves the throughput.
    const header = this.header;
    const mask = this.mask;
    const record = this.record;
    const maxPayload = this.maxPayload;
    let start = this.cons;
    let base = start & mask; // & takes the position modulo 2^32, and size divides 2^32
    let avail = smallInt(this.producerPosition() - start);
    let rel = 0;
    let delivered = 0;
    let sincePublish = 0;
    try {
      while (rel < avail) {
        const at = (base + rel) & mask;
        const len = (needsBarriers ? Atomics.load(header, at >>> 2) : header[at >>> 2]!) >>> 0;
        if ((len & BPF_RINGBUF_BUSY_BIT) !== 0) break;
        const payload = len & LEN_MASK;
        if (payload > maxPayload) this.corrupt(at, payload);
        rel += (payload + BPF_RINGBUF_HDR_SZ + 7) & ~7;
        if ((len & BPF_RINGBUF_DISCARD_BIT) === 0) {
          record.offset = at + BPF_RINGBUF_HDR_SZ;
          record.length = payload;
          delivered++;
          if (callback(record) === false || delivered >= limit) break;
        }
        if (++sincePublish === SCAN_CHUNK) {
          // Publish, and rebase so `rel` stays a small integer however long the drain runs.
          start += rel;
          base = start & mask;
          avail -= rel;
          rel = 0;
          this.publish(start);
          sincePublish = 0;
        }
        if (rel >= avail) avail = smallInt(this.producerPosition() - start);
      }
    } finally {
      // Also when the callback throws: the record it saw is consumed, not redelivered.
      this.publish(start + rel);
    }
    return delivered;
  }

  /**
   * Delivers the committed records in batches of up to `maxBatch`: one callback per batch with the
   * records' offsets and lengths in the data view. The fastest path: no function call per record. The
   * batch (and the memory it points at) is valid only during the callback; the consumer position
   * advances past the batch when the callback returns. Return `false` to stop after this batch.
   */
  drainBatch(callback: RingBufferBatchCallback, maxBatch = SCAN_CHUNK): number {
    let delivered = 0;
    for (;;) {
      const count = this.scan(maxBatch, false);
      if (count === 0) {
        this.publish(this.scanEnd); // discarded records only
        return delivered;
      }
      this.batch ??= {
        view: this.record.view,
        buffer: this.record.buffer,
        offsets: this.offsets,
        lengths: this.lengths,
        count: 0,
      };
      this.batch.count = count;
      delivered += count;
      let more: boolean;
      try {
        more = callback(this.batch) !== false;
      } finally {
        this.publish(this.scanEnd);
      }
      if (!more || count < maxBatch) return delivered;
    }
  }

  /** Throws the ParseError for a corrupt header (kept off the hot path; nothing is consumed). */
  private corrupt(at: number, payload: number): never {
    throw new ParseError(
      { format: "ringbuf", offset: at, expected: "a record length that fits in the ring" },
      `length ${payload}`,
    );
  }

  /** Publishes the consumer position with release semantics (a 32-bit store unless the high half moved). */
  private publish(cons: number): void {
    this.cons = cons;
    const high = Math.floor(cons / TWO_32);
    if (high === this.consumerHigh) {
      if (needsBarriers) Atomics.store(this.consumerWords, this.lowIndex, cons | 0);
      else this.consumerWords[this.lowIndex] = cons | 0;
    } else {
      Atomics.store(this.consumerPos64, 0, BigInt(cons));
      this.consumerHigh = high;
    }
  }
}
