/**
 * Event-stream maps: `RingBuf` (kernel → user), `UserRingBuf` (user → kernel) and `PerfEventArray`.
 * They carry no key/value API of their own; they hand out readers and writers.
 */
import { BpfMapType } from "../abi.js";
import { codecs } from "../codec.js";
import type { MapCore, MapDependent } from "../core.js";
import { MapClosedError } from "../errors.js";
import { createWith, expectType, type MapSource, openWith, type TypedMapSpec } from "../factory.js";
import { type MappedMemory, mapKernel } from "../kernel.js";
import { BpfMap } from "../map.js";
import type { CreateMapOptions } from "../open.js";
import { PerfEventArrayReader, type PerfReaderOptions } from "../perf/reader.js";
import { UserRingBufferProducer, type UserRingBufReservation } from "../ringbuf/producer.js";
import { RingBufReader, type RingBufReaderOptions } from "../ringbuf/reader.js";

/** A ring buffer spec: only the size (a power-of-two multiple of the page size) is needed. */
export type RingSpec = Omit<TypedMapSpec, "keySize" | "valueSize"> & { keySize?: number; valueSize?: number };

/**
 * `BPF_MAP_TYPE_RINGBUF`: a multi-producer ring shared by every CPU; read it with {@link RingBuf.reader}.
 *
 * @example
 * ```ts
 * using events = RingBuf.create({ maxEntries: 1 << 20 });
 * const reader = events.reader();
 * reader.watch((rec) => console.log(rec.length));
 * ```
 */
export class RingBuf extends BpfMap<Uint8Array, Uint8Array> {
  constructor(source: MapCore | BpfMap<unknown, unknown>) {
    super(source);
    expectType(this.core, [BpfMapType.RINGBUF], "RingBuf");
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create(spec: RingSpec, options?: CreateMapOptions): RingBuf {
    return createWith(
      { ...spec, keySize: spec.keySize ?? 0, valueSize: spec.valueSize ?? 0 },
      BpfMapType.RINGBUF,
      (c) => new RingBuf(c),
      options,
    );
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open(source: MapSource): RingBuf {
    return openWith(source, (c) => new RingBuf(c));
  }
  /** Opens the map of this type pinned at `path`. */
  static fromPin(path: string): RingBuf {
    return RingBuf.open({ pin: path });
  }
  /** Maps the ring and returns a reader (see {@link RingBufReader}). */
  reader(options?: RingBufReaderOptions): RingBufReader {
    return new RingBufReader(this.core, options);
  }
}

/**
 * Writes records into a user ring buffer; the mapping is released with the writer or the map.
 */
export class UserRingBufWriter implements MapDependent, Disposable {
  private consumerMap: MappedMemory | undefined;
  private producerMap: MappedMemory | undefined;
  private producer: UserRingBufferProducer | undefined;

  /** @internal use `UserRingBuf.writer()` */
  constructor(private readonly core: MapCore) {
    const k = core.kernel;
    const fd = core.fd("opening a user ring buffer writer");
    const page = k.pageSize();
    const size = core.info.maxEntries;
    this.consumerMap = k.mmap(fd, page, false, 0);
    try {
      this.producerMap = k.mmap(fd, page + 2 * size, true, page);
    } catch (e) {
      this.consumerMap.unmap();
      throw e;
    }
    this.producer = new UserRingBufferProducer({
      consumer: this.consumerMap.buffer,
      consumerOffset: 0,
      producer: this.producerMap.buffer,
      producerOffset: 0,
      data: this.producerMap.buffer,
      dataOffset: page,
      size,
    });
    core.addDependent(this);
  }
  private live(): UserRingBufferProducer {
    if (!this.producer) throw new MapClosedError("user ring buffer writer used", this.core.info.name);
    return this.producer;
  }
  /** Free bytes in the ring. */
  available(): number {
    return this.live().available();
  }
  /** Reserves a record to fill in place; `undefined` when full. */
  reserve(length: number): UserRingBufReservation | undefined {
    return this.live().reserve(length);
  }
  /** Copies and submits one record; false when full. */
  write(payload: Uint8Array): boolean {
    return this.live().write(payload);
  }
  release(): void {
    if (!this.producer) return;
    this.producer = undefined;
    this.core.removeDependent(this);
    this.consumerMap?.unmap();
    this.producerMap?.unmap();
    this.consumerMap = this.producerMap = undefined;
  }
  close(): void {
    this.release();
  }
  [Symbol.dispose](): void {
    this.release();
  }
}

/** `BPF_MAP_TYPE_USER_RINGBUF`: the producer side lives here; programs drain with `bpf_user_ringbuf_drain`. */
export class UserRingBuf extends BpfMap<Uint8Array, Uint8Array> {
  constructor(source: MapCore | BpfMap<unknown, unknown>) {
    super(source);
    expectType(this.core, [BpfMapType.USER_RINGBUF], "UserRingBuf");
  }
  /** Creates a map of this type from `spec` (the type may be omitted). */
  static create(spec: RingSpec, options?: CreateMapOptions): UserRingBuf {
    return createWith(
      { ...spec, keySize: spec.keySize ?? 0, valueSize: spec.valueSize ?? 0 },
      BpfMapType.USER_RINGBUF,
      (c) => new UserRingBuf(c),
      options,
    );
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open(source: MapSource): UserRingBuf {
    return openWith(source, (c) => new UserRingBuf(c));
  }
  /** Maps the ring for writing. */
  writer(): UserRingBufWriter {
    return new UserRingBufWriter(this.core);
  }
}

/**
 * `BPF_MAP_TYPE_PERF_EVENT_ARRAY`: per-CPU perf rings that programs write with `bpf_perf_event_output`.
 * Values are perf event fds, installed by {@link PerfEventArray.reader}.
 */
export class PerfEventArray extends BpfMap<number, number> {
  constructor(source: MapCore | BpfMap<unknown, unknown>) {
    super(source, { keyCodec: codecs.u32, valueCodec: codecs.u32 });
    expectType(this.core, [BpfMapType.PERF_EVENT_ARRAY], "PerfEventArray");
  }
  /** Creates one with a slot per possible CPU unless `maxEntries` is given. */
  static create(spec: Partial<TypedMapSpec> = {}, options?: CreateMapOptions): PerfEventArray {
    return createWith(
      { ...spec, maxEntries: spec.maxEntries || mapKernel().possibleCpus(), keySize: 4, valueSize: 4 },
      BpfMapType.PERF_EVENT_ARRAY,
      (c) => new PerfEventArray(c),
      options,
    );
  }
  /** Wraps an existing map of this type: by pin path, id, fd (duplicated) or another map object. */
  static open(source: MapSource): PerfEventArray {
    return openWith(source, (c) => new PerfEventArray(c));
  }
  /** Opens a perf ring per CPU and returns their reader. */
  reader(options?: PerfReaderOptions): PerfEventArrayReader {
    return new PerfEventArrayReader(this.core, options);
  }
}
