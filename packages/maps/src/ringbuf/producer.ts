/**
 * The producer side of a `BPF_MAP_TYPE_USER_RINGBUF`, over plain memory: user space reserves, fills
 * and submits records that a BPF program drains with `bpf_user_ringbuf_drain()`.
 *
 * Layout: the consumer page (kernel-owned, read-only here), then the producer page (we own
 * `producer_pos`), then the data pages mapped twice. Same record header as the kernel→user ring.
 */
import { ringbufHeader } from "../abi.js";
import { MapError } from "../errors.js";
import type { RingBufferMemory } from "./consumer.js";

const TWO_32 = 0x1_0000_0000;
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A reserved record: fill `bytes`, then `submit()` or `discard()` exactly once. */
export interface UserRingBufReservation {
  /** Zero-copy view of the record's payload in the ring. */
  readonly bytes: Uint8Array;
  submit(): void;
  discard(): void;
}

/**
 * Writes records into a user ring buffer.
 *
 * @internal (wrapped by `UserRingBuf.writer()`)
 */
export class UserRingBufferProducer {
  readonly size: number;
  private readonly mask: number;
  private readonly consumerPos64: BigUint64Array;
  private readonly producerPos64: BigUint64Array;
  private readonly producerWords: Int32Array;
  private readonly header: Int32Array;
  private readonly data: Uint8Array;
  private producerPos: number;

  constructor(memory: RingBufferMemory) {
    this.size = memory.size;
    this.mask = memory.size - 1;
    this.consumerPos64 = new BigUint64Array(memory.consumer, memory.consumerOffset, 1);
    this.producerPos64 = new BigUint64Array(memory.producer, memory.producerOffset, 1);
    this.producerWords = new Int32Array(memory.producer, memory.producerOffset, 2);
    this.header = new Int32Array(memory.data, memory.dataOffset, (2 * memory.size) >>> 2);
    this.data = new Uint8Array(memory.data, memory.dataOffset, 2 * memory.size);
    this.producerPos = Number(Atomics.load(this.producerPos64, 0));
  }

  /** Bytes free for new records (header and padding included). */
  available(): number {
    return this.size - (this.producerPos - Number(Atomics.load(this.consumerPos64, 0)));
  }

  /** Reserves `length` payload bytes, or returns `undefined` when the ring is full. */
  reserve(length: number): UserRingBufReservation | undefined {
    const hdr = ringbufHeader.byteSize;
    if (!Number.isInteger(length) || length <= 0 || length + hdr > this.size) {
      throw new MapError(
        "ERR_EBPF_MAP_VALUE_SIZE",
        `record of ${length} bytes does not fit a ${this.size}-byte ring`,
      );
    }
    const total = (length + hdr + 7) & ~7;
    if (total > this.available()) return undefined;
    const at = this.producerPos & this.mask;
    Atomics.store(this.header, at >>> 2, length | ringbufHeader.busyBit | 0);
    Atomics.store(this.header, (at >>> 2) + 1, 0);
    this.producerPos += total;
    this.publish(this.producerPos);
    const bytes = this.data.subarray(at + hdr, at + hdr + length);
    let done = false;
    const finish = (discard: boolean) => {
      if (done) throw new MapError("ERR_EBPF_INVALID_ARG", "reservation already submitted or discarded");
      done = true;
      Atomics.store(this.header, at >>> 2, length | (discard ? ringbufHeader.discardBit : 0) | 0);
    };
    return { bytes, submit: () => finish(false), discard: () => finish(true) };
  }

  /** Copies `payload` into a new record and submits it; false when the ring is full. */
  write(payload: Uint8Array): boolean {
    const r = this.reserve(payload.byteLength);
    if (!r) return false;
    r.bytes.set(payload);
    r.submit();
    return true;
  }

  private publish(pos: number): void {
    if (Math.floor(pos / TWO_32) === Math.floor(Number(Atomics.load(this.producerPos64, 0)) / TWO_32)) {
      Atomics.store(this.producerWords, littleEndianHost ? 0 : 1, pos | 0);
    } else {
      Atomics.store(this.producerPos64, 0, BigInt(pos));
    }
  }
}
