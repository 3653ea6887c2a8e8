/**
 * Test producers that write rings the way the kernel does, into plain ArrayBuffers: a BPF ring buffer
 * (with the data pages "mapped twice" by mirroring every byte) and a perf ring (single mapping, records
 * wrap). Nothing here is shared with the code under test.
 */
import type { PerfRingMemory } from "../src/perf/consumer.js";
import type { RingBufferMemory } from "../src/ringbuf/consumer.js";

const PAGE = 4096;
const BUSY = 0x8000_0000;
const DISCARD = 0x4000_0000;

export class FakeBpfRing {
  readonly consumer = new ArrayBuffer(PAGE);
  readonly producerArea: ArrayBuffer;
  private readonly data: Uint8Array;
  private readonly dv: DataView;
  private prod: number;

  constructor(
    readonly size: number,
    start = 0,
  ) {
    this.producerArea = new ArrayBuffer(PAGE + 2 * size);
    this.data = new Uint8Array(this.producerArea, PAGE, 2 * size);
    this.dv = new DataView(this.producerArea);
    this.prod = start;
    this.setPos(this.producerArea, 0, start);
    this.setPos(this.consumer, 0, start);
  }

  memory(): RingBufferMemory {
    return {
      consumer: this.consumer,
      consumerOffset: 0,
      producer: this.producerArea,
      producerOffset: 0,
      data: this.producerArea,
      dataOffset: PAGE,
      size: this.size,
    };
  }

  private setPos(buf: ArrayBuffer, off: number, v: number): void {
    new DataView(buf).setBigUint64(off, BigInt(v), true);
  }
  consumerPos(): number {
    return Number(new DataView(this.consumer).getBigUint64(0, true));
  }
  free(): number {
    return this.size - (this.prod - this.consumerPos());
  }

  private put(pos: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const at = (pos + i) % this.size;
      this.data[at] = bytes[i]!;
      this.data[at + this.size] = bytes[i]!; // the second mapping of the same page
    }
  }
  private putHeader(pos: number, len: number): void {
    const h = new Uint8Array(8);
    new DataView(h.buffer).setUint32(0, len >>> 0, true);
    this.put(pos, h);
  }

  /** Reserves a record (BUSY) and returns its position; returns -1 when it does not fit. */
  reserve(payload: Uint8Array): number {
    const total = (payload.length + 8 + 7) & ~7;
    if (total > this.free()) return -1;
    const pos = this.prod;
    this.putHeader(pos, payload.length | BUSY);
    this.put(pos + 8, payload);
    this.prod += total;
    this.setPos(this.producerArea, 0, this.prod);
    return pos;
  }
  commit(pos: number, length: number, discard = false): void {
    this.putHeader(pos, length | (discard ? DISCARD : 0));
  }
  /** Reserve + commit. */
  write(payload: Uint8Array, discard = false): boolean {
    const pos = this.reserve(payload);
    if (pos < 0) return false;
    this.commit(pos, payload.length, discard);
    return true;
  }
  /** Corrupts the header at the consumer position (for malformed-input tests). */
  corruptNextLength(len: number): void {
    this.putHeader(this.consumerPos(), len);
  }
  /** The raw data view, both mappings. */
  dataDv(): DataView {
    return this.dv;
  }
}

export class FakePerfRing {
  readonly meta: ArrayBuffer;
  private readonly bytes: Uint8Array;
  private readonly dv: DataView;
  private head: number;

  constructor(
    readonly size: number,
    start = 0,
  ) {
    this.meta = new ArrayBuffer(PAGE + size);
    this.bytes = new Uint8Array(this.meta, PAGE, size);
    this.dv = new DataView(this.meta);
    this.head = start;
    this.dv.setBigUint64(1024, BigInt(start), true); // data_head
    this.dv.setBigUint64(1032, BigInt(start), true); // data_tail
  }
  memory(): PerfRingMemory {
    return { meta: this.meta, metaOffset: 0, data: this.meta, dataOffset: PAGE, size: this.size };
  }
  tail(): number {
    return Number(this.dv.getBigUint64(1032, true));
  }
  private put(pos: number, b: Uint8Array): void {
    for (let i = 0; i < b.length; i++) this.bytes[(pos + i) % this.size] = b[i]!;
  }
  private record(type: number, body: Uint8Array): boolean {
    const size = (8 + body.length + 7) & ~7;
    if (size > this.size - (this.head - this.tail())) return false;
    const rec = new Uint8Array(size);
    const v = new DataView(rec.buffer);
    v.setUint32(0, type, true);
    v.setUint16(4, 0, true);
    v.setUint16(6, size, true);
    rec.set(body, 8);
    this.put(this.head, rec);
    this.head += size;
    this.dv.setBigUint64(1024, BigInt(this.head), true);
    return true;
  }
  /** PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW: u32 size then the data, padded as the kernel pads. */
  sample(payload: Uint8Array): boolean {
    const raw = ((4 + payload.length + 8 + 7) & ~7) - 8 - 4;
    const body = new Uint8Array(4 + raw);
    new DataView(body.buffer).setUint32(0, raw, true);
    body.set(payload, 4);
    return this.record(9, body);
  }
  /** PERF_RECORD_LOST. */
  lost(count: number): boolean {
    const body = new Uint8Array(16);
    new DataView(body.buffer).setBigUint64(8, BigInt(count), true);
    return this.record(2, body);
  }
  /** A record of another type (must be skipped). */
  other(type: number): boolean {
    return this.record(type, new Uint8Array(8));
  }
  /** Writes a header with a bogus size at the head (malformed-input tests). */
  garbage(size: number): void {
    const rec = new Uint8Array(8);
    new DataView(rec.buffer).setUint32(0, 9, true);
    new DataView(rec.buffer).setUint16(6, size, true);
    this.put(this.head, rec);
    this.head += 8;
    this.dv.setBigUint64(1024, BigInt(this.head), true);
  }
}
