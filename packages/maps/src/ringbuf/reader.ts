/**
 * `RingBufReader`: consumes a `BPF_MAP_TYPE_RINGBUF` from its mmap, on the event loop.
 */
import type { MapCore, MapDependent } from "../core.js";
import { MapClosedError } from "../errors.js";
import type { MappedMemory } from "../kernel.js";
import { type RingBufferBatchCallback, type RingBufferCallback, RingBufferConsumer } from "./consumer.js";

/** Options of a ring buffer reader. */
export interface RingBufReaderOptions {
  /** Stops the reader (unwatches and unmaps) when aborted. */
  signal?: AbortSignal;
  /**
   * Touch every page of the mapping once up front (default true), so the first records do not pay a
   * page fault each 4 KiB (about 1 µs apiece here): a 16 MiB ring costs ~8k faults once, at open.
   */
  prefault?: boolean;
}

/**
 * Reads a BPF ring buffer. Records go to a callback as zero-copy views that are valid only during the
 * callback (see {@link RingBufferRecord}), or through the async iterator as copies. After each
 * readiness wake-up from the process-wide poller the ring is drained synchronously.
 *
 * Closing the reader or its map (or aborting the signal) unmaps the ring first; a view kept past the
 * callback then reads zeros instead of touching unmapped memory.
 *
 * @example
 * ```ts
 * const reader = events.reader();
 * reader.watch((rec) => { total += rec.view.getUint32(rec.offset, true); });
 * // later: reader.close();
 *
 * for await (const bytes of events.reader({ signal: AbortSignal.timeout(1000) })) console.log(bytes);
 * ```
 */
export class RingBufReader implements MapDependent, Disposable, AsyncIterable<Uint8Array> {
  private consumerMap: MappedMemory | undefined;
  private producerMap: MappedMemory | undefined;
  private consumer: RingBufferConsumer | undefined;
  private unwatch: (() => void) | undefined;
  private readonly onAbort: () => void;
  private readonly signal: AbortSignal | undefined;
  private wakeIterator: (() => void) | undefined;

  /** @internal use `RingBuf.reader()` */
  constructor(
    private readonly core: MapCore,
    options: RingBufReaderOptions = {},
  ) {
    const fd = core.fd("opening a ring buffer reader");
    const page = core.kernel.pageSize();
    const size = core.info.maxEntries;
    this.signal = options.signal;
    this.onAbort = () => this.close();
    this.consumerMap = core.kernel.mmap(fd, page, true, 0);
    try {
      this.producerMap = core.kernel.mmap(fd, page + 2 * size, false, page);
      this.consumer = new RingBufferConsumer({
        consumer: this.consumerMap.buffer,
        consumerOffset: 0,
        producer: this.producerMap.buffer,
        producerOffset: 0,
        data: this.producerMap.buffer,
        dataOffset: page,
        size,
      });
      if (options.prefault ?? true) prefault(this.producerMap.buffer, page);
    } catch (e) {
      this.unmap();
      throw e;
    }
    core.addDependent(this);
    if (this.signal?.aborted) this.close();
    else this.signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** True after `close()`, abort, or the map's close. */
  get closed(): boolean {
    return this.consumer === undefined;
  }

  /** Bytes produced and not yet consumed (committed or not). */
  pending(): number {
    return this.live("pending()").pending();
  }

  /**
   * Consumes the records available now, synchronously. Returns how many were delivered; stops early
   * when the callback returns `false` or after `limit` records.
   */
  drain(callback: RingBufferCallback, limit?: number): number {
    return this.live("drain()").drain(callback, limit);
  }

  /**
   * Consumes what is available in batches: one callback per batch of up to `maxBatch` records, with
   * their offsets and lengths in `batch.view` (valid only during the callback). The fastest path.
   *
   * @example
   * ```ts
   * reader.drainBatch((b) => {
   *   for (let i = 0; i < b.count; i++) total += b.view.getUint32(b.offsets[i], true);
   * });
   * ```
   */
  drainBatch(callback: RingBufferBatchCallback, maxBatch?: number): number {
    return this.live("drainBatch()").drainBatch(callback, maxBatch);
  }

  /**
   * Delivers records to `callback` on the event loop until closed: each readiness wake-up drains the
   * ring synchronously. One watcher per reader.
   */
  watch(callback: RingBufferCallback): this {
    const consumer = this.live("watch()");
    if (this.unwatch)
      throw new MapClosedError("watch() called twice on the same reader", this.core.info.name);
    this.unwatch = this.core.kernel.watch(this.core.fd(), () => {
      if (this.consumer) this.consumer.drain(callback);
    });
    consumer.drain(callback);
    return this;
  }

  /** Yields copies of the records until the reader is closed or its signal aborts. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    const queue: Uint8Array[] = [];
    const collect: RingBufferCallback = (r) => {
      queue.push(r.copy());
    };
    this.live("iterating");
    if (this.unwatch)
      throw new MapClosedError("iterating a reader that is already watched", this.core.info.name);
    this.unwatch = this.core.kernel.watch(this.core.fd(), () => {
      if (this.consumer) this.consumer.drain(collect);
      this.wakeIterator?.();
    });
    try {
      for (;;) {
        if (this.consumer) this.consumer.drain(collect);
        while (queue.length > 0) yield queue.shift()!;
        if (!this.consumer) return;
        await new Promise<void>((resolve) => {
          this.wakeIterator = resolve;
        });
        this.wakeIterator = undefined;
      }
    } finally {
      this.close();
    }
  }

  private live(what: string): RingBufferConsumer {
    if (!this.consumer) throw new MapClosedError(`ring buffer reader ${what}`, this.core.info.name);
    return this.consumer;
  }

  private unmap(): void {
    const c = this.consumerMap;
    const p = this.producerMap;
    this.consumerMap = undefined;
    this.producerMap = undefined;
    c?.unmap();
    p?.unmap();
  }

  /** Stops watching and unmaps the ring. Idempotent. */
  release(): void {
    if (!this.consumer) return;
    this.consumer = undefined;
    this.unwatch?.();
    this.unwatch = undefined;
    this.signal?.removeEventListener("abort", this.onAbort);
    this.core.removeDependent(this);
    this.unmap();
    this.wakeIterator?.();
  }

  close(): void {
    this.release();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/** Reads one byte per page so the page tables are populated before the hot path runs. */
function prefault(buffer: ArrayBuffer, page: number): number {
  const bytes = new Uint8Array(buffer);
  let sum = 0;
  for (let at = 0; at < bytes.length; at += page) sum += bytes[at]!;
  return sum;
}
