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

/** Callbacks for {@link PerfRingConsumer.drain}. */
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
    this.tailHigh = Math.floor(Number(Atomics.load(this.tail64, 0)) / TWO_32);
  }

  /** Bytes written by the kernel and not yet consumed. */
  pending(): number {
    return Number(Atomics.load(this.head64, 0)) - Number(Atomics.load(this.tail64, 0));
  }

  /** Consumes every record up to the current head (or until a callback returns `false`). Returns samples delivered. */
  drain(handlers: PerfDrainHandlers): number {
    const view = this.dataView;
    const mask = this.mask;
    let tail = Number(Atomics.load(this.tail64, 0));
    const head = Number(Atomics.load(this.head64, 0));
    if (head - tail > this.size) {
      throw new ParseError(
        { format: "perf ring", offset: tail & mask, expected: "data_head - data_tail ≤ ring size" },
        `head ${head}, tail ${tail}`,
      );
    }
    let delivered = 0;
    const hdrSize = perfHeader.byteSize;
    while (tail < head) {
      const at = tail & mask;
      // The 8-byte header never wraps: records are 8-aligned and the size is a multiple of 8.
      const type = view.getUint32(at + perfHeader.type, littleEndianHost);
      const size = view.getUint16(at + perfHeader.size, littleEndianHost);
      if (size < hdrSize || size > head - tail) {
        throw new ParseError(
          { format: "perf ring", offset: at, expected: "a record size between 8 and the unread bytes" },
          `size ${size}`,
        );
      }
      let stop = false;
      if (type === perfRecord.sample) {
        const record = at + size <= this.size ? this.record : this.unwrap(at, size);
        const base = record === this.record ? at : 0;
        const rawSize = record.view.getUint32(base + hdrSize, littleEndianHost);
        if (rawSize + hdrSize + 4 > size) {
          throw new ParseError(
            { format: "perf ring", offset: at + hdrSize, expected: "a raw sample size within the record" },
            `raw size ${rawSize} in a ${size}-byte record`,
          );
        }
        record.offset = base + hdrSize + 4;
        record.length = rawSize;
        delivered++;
        stop = handlers.onSample(record) === false;
      } else if (type === perfRecord.lost) {
        const record = at + size <= this.size ? this.record : this.unwrap(at, size);
        const base = record === this.record ? at : 0;
        // struct { header; u64 id; u64 lost; }
        const lost = Number(record.view.getBigUint64(base + hdrSize + 8, littleEndianHost));
        handlers.onLost?.(this.cpu, lost);
      }
      tail += size;
      if (stop) break;
    }
    this.storeTail(tail);
    return delivered;
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

  private storeTail(tail: number): void {
    const high = Math.floor(tail / TWO_32);
    if (high === this.tailHigh) {
      Atomics.store(this.tailWords, littleEndianHost ? 0 : 1, tail | 0);
    } else {
      Atomics.store(this.tail64, 0, BigInt(tail));
      this.tailHigh = high;
    }
  }
}
