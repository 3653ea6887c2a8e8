/**
 * `PerfEventArrayReader`: one perf ring per online CPU behind a `BPF_MAP_TYPE_PERF_EVENT_ARRAY`.
 */
import type { MapCore, MapDependent } from "../core.js";
import { MapClosedError, MapError } from "../errors.js";
import type { MappedMemory } from "../kernel.js";
import { type PerfBatch, type PerfDrainHandlers, PerfRingConsumer } from "./consumer.js";

/** Options of a perf event array reader. */
export interface PerfReaderOptions {
  /** Data pages per CPU ring, a power of two (default 64, i.e. 256 KiB with 4 KiB pages). */
  pagesPerCpu?: number;
  /** Wake up after this many samples (default 1). */
  wakeupEvents?: number;
  /** Wake up once this many bytes are in a ring (instead of `wakeupEvents`). */
  watermarkBytes?: number;
  /** CPUs to open rings for (default: every online CPU). */
  cpus?: readonly number[];
  /** Stops the reader when aborted. */
  signal?: AbortSignal;
}

/** What the async iterator yields: a copied sample, or how many samples a CPU's ring lost. */
export type PerfEvent =
  | { type: "sample"; cpu: number; data: Uint8Array }
  | { type: "lost"; cpu: number; count: number };

interface CpuRing {
  cpu: number;
  fd: number;
  mapping: MappedMemory;
  consumer: PerfRingConsumer;
  unwatch?: () => void;
}

/**
 * Reads a perf event array: opens a `PERF_COUNT_SW_BPF_OUTPUT` event per CPU, maps its ring, stores the
 * event fd in the map at the CPU's index, and drains the rings on readiness. Same API shape as
 * {@link RingBufReader}; lost-sample records become `onLost` calls / `{ type: "lost" }` events.
 *
 * @example
 * ```ts
 * const reader = events.reader({ pagesPerCpu: 64 });
 * reader.watch({ onSample: (r) => console.log(r.cpu, r.length), onLost: (cpu, n) => console.warn(cpu, n) });
 * ```
 */
export class PerfEventArrayReader implements MapDependent, Disposable, AsyncIterable<PerfEvent> {
  private rings: CpuRing[] = [];
  private open = true;
  private watching = false;
  private readonly onAbort: () => void;
  private readonly signal: AbortSignal | undefined;
  private wakeIterator: (() => void) | undefined;

  /** @internal use `PerfEventArray.reader()` */
  constructor(
    private readonly core: MapCore,
    options: PerfReaderOptions = {},
  ) {
    const k = core.kernel;
    const mapFd = core.fd("opening a perf reader");
    const pages = options.pagesPerCpu ?? 64;
    if (!Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0) {
      throw new MapError("ERR_EBPF_INVALID_ARG", `pagesPerCpu must be a power of two, got ${pages}`);
    }
    const page = k.pageSize();
    const cpus = options.cpus ?? k.onlineCpus();
    const key = new Uint8Array(4);
    const keyView = new DataView(key.buffer);
    const port = k.elementPort(mapFd, core.info.keySize, core.info.valueSize);
    try {
      for (const cpu of cpus) {
        if (cpu >= core.info.maxEntries) continue; // the map has no slot for this CPU
        const fd = k.openPerfOutput({
          cpu,
          wakeupEvents: options.wakeupEvents,
          watermarkBytes: options.watermarkBytes,
        });
        let mapping: MappedMemory;
        try {
          mapping = k.mmap(fd, page * (1 + pages), true, 0);
        } catch (e) {
          k.close(fd);
          throw e;
        }
        const consumer = new PerfRingConsumer(cpu, {
          meta: mapping.buffer,
          metaOffset: 0,
          data: mapping.buffer,
          dataOffset: page,
          size: page * pages,
        });
        this.rings.push({ cpu, fd, mapping, consumer });
        keyView.setUint32(0, cpu, true);
        port.key.set(key);
        new DataView(port.value.buffer, port.value.byteOffset, 4).setUint32(0, fd, true);
        port.update(0);
        k.enablePerf(fd);
      }
    } catch (e) {
      this.closeRings();
      throw e;
    }
    this.signal = options.signal;
    this.onAbort = () => this.close();
    core.addDependent(this);
    if (this.signal?.aborted) this.close();
    else this.signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** The CPUs this reader has rings for. */
  get cpus(): number[] {
    return this.rings.map((r) => r.cpu);
  }

  get closed(): boolean {
    return !this.open;
  }

  /** Drains every CPU's ring now, synchronously. Returns the samples delivered. */
  drain(handlers: PerfDrainHandlers): number {
    if (!this.open) throw new MapClosedError("perf reader drain()", this.core.info.name);
    let n = 0;
    for (const ring of this.rings) n += ring.consumer.drain(handlers);
    return n;
  }

  /**
   * Drains every CPU's ring now in batches: one `onBatch` call per run of samples (see
   * {@link PerfBatch}), lost counts to `onLost`. Returns the samples delivered.
   */
  drainBatch(onBatch: (batch: PerfBatch) => unknown, onLost?: (cpu: number, count: number) => void): number {
    if (!this.open) throw new MapClosedError("perf reader drainBatch()", this.core.info.name);
    let n = 0;
    for (const ring of this.rings) n += ring.consumer.drainBatch(onBatch, onLost);
    return n;
  }

  /** Delivers samples and lost counts on the event loop until closed. */
  watch(handlers: PerfDrainHandlers): this {
    if (!this.open) throw new MapClosedError("perf reader watch()", this.core.info.name);
    if (this.watching)
      throw new MapClosedError("watch() called twice on the same reader", this.core.info.name);
    this.watching = true;
    for (const ring of this.rings) {
      ring.unwatch = this.core.kernel.watch(ring.fd, () => {
        if (this.open) ring.consumer.drain(handlers);
      });
    }
    this.drain(handlers);
    return this;
  }

  /** Yields copied samples and lost-sample events until closed or aborted. */
  async *[Symbol.asyncIterator](): AsyncGenerator<PerfEvent, void, undefined> {
    const queue: PerfEvent[] = [];
    const handlers: PerfDrainHandlers = {
      onSample: (r) => {
        queue.push({ type: "sample", cpu: r.cpu, data: r.copy() });
      },
      onLost: (cpu, count) => queue.push({ type: "lost", cpu, count }),
    };
    this.watch({
      onSample: (r) => {
        handlers.onSample(r);
        this.wakeIterator?.();
      },
      onLost: (cpu, count) => {
        handlers.onLost?.(cpu, count);
        this.wakeIterator?.();
      },
    });
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (!this.open) return;
        await new Promise<void>((resolve) => {
          this.wakeIterator = resolve;
        });
        this.wakeIterator = undefined;
      }
    } finally {
      this.close();
    }
  }

  private closeRings(): void {
    const k = this.core.kernel;
    for (const ring of this.rings) {
      ring.unwatch?.();
      ring.mapping.unmap();
      k.close(ring.fd);
    }
    this.rings = [];
  }

  /** Stops watching, unmaps every ring and closes the perf events. Idempotent. */
  release(): void {
    if (!this.open) return;
    this.open = false;
    this.signal?.removeEventListener("abort", this.onAbort);
    this.core.removeDependent(this);
    this.closeRings();
    this.wakeIterator?.();
  }

  close(): void {
    this.release();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
