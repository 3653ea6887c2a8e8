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
/** Publish the consumer position at least this often during a long drain, so the producer gets room back. */
const PUBLISH_EVERY = 1024;
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

/** A batch of records for {@link RingBufferConsumer.drainBatch}; valid only during the callback. */
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

/** Callback of {@link RingBufferConsumer.drainBatch}; return `false` to stop after this batch. */
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
   * Hands every committed record to `callback` until the ring is empty, a record is still being
   * written (BUSY), `limit` records were delivered, or the callback returns `false`. Discarded records
   * are skipped. Returns the number of records delivered.
   */
  drain(callback: RingBufferCallback, limit = Number.POSITIVE_INFINITY): number {
    const header = this.header;
    const mask = this.mask;
    const record = this.record;
    let cons = this.cons;
    let prod = this.producerPosition();
    let delivered = 0;
    let sincePublish = 0;
    while (cons < prod) {
      const at = cons & mask; // positions are < 2^53; & keeps the low 32 bits, size ≤ 2^31
      const len = (needsBarriers ? Atomics.load(header, at >>> 2) : header[at >>> 2]!) >>> 0;
      if ((len & BPF_RINGBUF_BUSY_BIT) !== 0) break;
      const payload = len & LEN_MASK;
      if (payload > this.maxPayload) this.corrupt(cons, at, payload);
      cons += (payload + BPF_RINGBUF_HDR_SZ + 7) & ~7;
      if ((len & BPF_RINGBUF_DISCARD_BIT) === 0) {
        record.offset = at + BPF_RINGBUF_HDR_SZ;
        record.length = payload;
        delivered++;
        this.cons = cons; // the record is consumed even if the callback throws
        if (callback(record) === false || delivered >= limit) break;
      }
      if (++sincePublish === PUBLISH_EVERY) {
        this.publish(cons);
        sincePublish = 0;
      }
      if (cons >= prod) prod = this.producerPosition();
    }
    this.publish(cons);
    return delivered;
  }

  /**
   * Delivers the committed records in batches of up to `maxBatch`: one callback per batch with the
   * records' offsets and lengths in the data view. The fastest path: no function call per record. The
   * batch (and the memory it points at) is valid only during the callback; the consumer position
   * advances past the batch when the callback returns. Return `false` to stop after this batch.
   */
  drainBatch(callback: RingBufferBatchCallback, maxBatch = 4096): number {
    if (!this.batch || this.batch.offsets.length < maxBatch) {
      this.batch = {
        view: this.record.view,
        buffer: this.record.buffer,
        offsets: new Int32Array(maxBatch),
        lengths: new Int32Array(maxBatch),
        count: 0,
      };
    }
    const batch = this.batch;
    const { offsets, lengths } = batch;
    const header = this.header;
    const mask = this.mask;
    let cons = this.cons;
    let prod = this.producerPosition();
    let delivered = 0;
    for (;;) {
      let count = 0;
      let busy = false;
      while (count < maxBatch) {
        if (cons >= prod) {
          prod = this.producerPosition();
          if (cons >= prod) break;
        }
        const at = cons & mask;
        const len = (needsBarriers ? Atomics.load(header, at >>> 2) : header[at >>> 2]!) >>> 0;
        if ((len & BPF_RINGBUF_BUSY_BIT) !== 0) {
          busy = true;
          break;
        }
        const payload = len & LEN_MASK;
        if (payload > this.maxPayload) this.corrupt(this.cons, at, payload);
        cons += (payload + BPF_RINGBUF_HDR_SZ + 7) & ~7;
        if ((len & BPF_RINGBUF_DISCARD_BIT) === 0) {
          offsets[count] = at + BPF_RINGBUF_HDR_SZ;
          lengths[count] = payload;
          count++;
        }
      }
      if (count === 0) {
        this.publish(cons); // discarded records only
        return delivered;
      }
      batch.count = count;
      delivered += count;
      this.cons = cons;
      const more = callback(batch) !== false;
      this.publish(cons);
      if (!more || busy || count < maxBatch) return delivered;
    }
  }

  /** Records the position reached and throws the ParseError for a corrupt header (kept off the hot path). */
  private corrupt(cons: number, at: number, payload: number): never {
    this.publish(cons);
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
