import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setMapKernel } from "../src/kernel.js";
import { FakeKernel } from "./fake-kernel.js";
import { MapClosedError, PerfEventArray, RingBuf, UserRingBuf } from "./harness.js";

let k: FakeKernel;
beforeEach(() => {
  k = new FakeKernel();
  setMapKernel(k);
});
afterEach(() => setMapKernel(undefined));

const u32 = (n: number) => Uint8Array.from([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24]);

describe("RingBuf reader (fake kernel)", () => {
  it("maps consumer and producer pages and drains on each readiness wake-up", () => {
    using rb = RingBuf.create({ maxEntries: 8192 });
    const ring = k.ringOf(rb.fd);
    const reader = rb.reader();
    const seen: number[] = [];
    reader.watch((r) => void seen.push(r.view.getUint32(r.offset, true)));
    expect(k.watchers.has(rb.fd)).toBe(true);
    ring.write(u32(1));
    ring.write(u32(2));
    expect(seen).toEqual([]); // nothing until the poller says the fd is readable
    k.fire(rb.fd);
    expect(seen).toEqual([1, 2]);
    ring.write(u32(3));
    k.fire(rb.fd);
    expect(seen).toEqual([1, 2, 3]);
    reader.close();
    expect(k.watchers.has(rb.fd)).toBe(false);
    expect(k.mappings.every((m) => m.unmapped)).toBe(true);
  });

  it("closing the map releases the reader's mmaps before the fd, and reading after close is a typed error", () => {
    const rb = RingBuf.create({ maxEntries: 8192 });
    const fd = rb.fd;
    const reader = rb.reader();
    let fdOpenWhenUnmapped: boolean[] = [];
    const origClose = k.close.bind(k);
    k.close = (f: number) => {
      fdOpenWhenUnmapped = k.mappings.map((m) => m.unmapped);
      origClose(f);
    };
    rb.close();
    expect(fdOpenWhenUnmapped).toEqual([true, true]);
    expect(k.fds.has(fd)).toBe(false);
    expect(reader.closed).toBe(true);
    expect(() => reader.drain(() => {})).toThrow(MapClosedError);
    expect(() => rb.reader()).toThrow(MapClosedError);
  });

  it("AbortSignal stops the reader and ends the async iterator", async () => {
    using rb = RingBuf.create({ maxEntries: 8192 });
    const ring = k.ringOf(rb.fd);
    const ac = new AbortController();
    const reader = rb.reader({ signal: ac.signal });
    ring.write(u32(7));
    const got: Uint8Array[] = [];
    const done = (async () => {
      for await (const rec of reader) {
        got.push(rec);
        if (got.length === 2) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 5));
    ring.write(u32(8));
    k.fire(rb.fd);
    await done;
    expect(got).toEqual([u32(7), u32(8)]);
    expect(reader.closed).toBe(true);
    expect(k.watchers.size).toBe(0);
  });

  it("an already aborted signal gives a closed reader", () => {
    using rb = RingBuf.create({ maxEntries: 8192 });
    const reader = rb.reader({ signal: AbortSignal.abort() });
    expect(reader.closed).toBe(true);
  });
});

describe("UserRingBuf writer (fake kernel)", () => {
  it("reserves, submits and discards records the kernel-side consumer reads in order", async () => {
    using urb = UserRingBuf.create({ maxEntries: 4096 });
    const ring = k.ringOf(urb.fd);
    const { RingBufferConsumer } = await import("../src/ringbuf/consumer.js");
    const kernelSide = new RingBufferConsumer(ring.memory());
    const w = urb.writer();
    expect(w.write(u32(1))).toBe(true);
    const r = w.reserve(4)!;
    r.bytes.set(u32(2));
    const pending: number[] = [];
    kernelSide.drain((rec) => void pending.push(rec.view.getUint32(rec.offset, true)));
    expect(pending).toEqual([1]); // the reserved record is BUSY
    r.submit();
    w.reserve(4)!.discard();
    w.write(u32(3));
    kernelSide.drain((rec) => void pending.push(rec.view.getUint32(rec.offset, true)));
    expect(pending).toEqual([1, 2, 3]);
    expect(() => r.submit()).toThrow(/already submitted/);
    expect(() => w.reserve(5000)).toThrow(/does not fit/);
  });

  it("reports a full ring instead of overwriting unread records", () => {
    using urb = UserRingBuf.create({ maxEntries: 4096 });
    const w = urb.writer();
    let n = 0;
    while (w.write(new Uint8Array(56))) n++;
    expect(n).toBe(4096 / 64);
    expect(w.available()).toBe(0);
  });
});

describe("PerfEventArray reader (fake kernel)", () => {
  it("opens one ring per CPU, stores the event fds in the map, enables them, and drains them", () => {
    k.cpus = 2;
    using pa = PerfEventArray.create();
    expect(pa.maxEntries).toBe(2);
    const reader = pa.reader({ pagesPerCpu: 4 });
    const perf = [...k.perf.entries()];
    expect(perf.map(([, p]) => p.cpu)).toEqual([0, 1]);
    expect(perf.every(([, p]) => p.enabled)).toBe(true);
    expect(pa.get(0)).toBe(perf[0]![0]);
    expect(pa.get(1)).toBe(perf[1]![0]);

    const samples: [number, number][] = [];
    const lost: [number, number][] = [];
    reader.watch({
      onSample: (r) => void samples.push([r.cpu, r.view.getUint32(r.offset, true)]),
      onLost: (cpu, n) => void lost.push([cpu, n]),
    });
    perf[1]![1].ring.sample(u32(11));
    perf[1]![1].ring.lost(3);
    perf[0]![1].ring.sample(u32(22));
    k.fire(perf[1]![0]);
    expect(samples).toEqual([[1, 11]]);
    expect(lost).toEqual([[1, 3]]);
    k.fire(perf[0]![0]);
    expect(samples).toEqual([
      [1, 11],
      [0, 22],
    ]);
    reader.close();
    expect(k.perf.size).toBe(0);
    expect(k.watchers.size).toBe(0);
  });

  it("yields samples and lost events from the async iterator", async () => {
    k.cpus = 1;
    using pa = PerfEventArray.create();
    const ac = new AbortController();
    const reader = pa.reader({ pagesPerCpu: 4, signal: ac.signal });
    const [[fd, p]] = [...k.perf.entries()];
    p.ring.sample(u32(5));
    p.ring.lost(2);
    const events: unknown[] = [];
    const done = (async () => {
      for await (const e of reader) {
        events.push(e.type === "sample" ? { ...e, data: e.data.subarray(0, 4) } : e);
        if (events.length === 2) ac.abort();
      }
    })();
    k.fire(fd);
    await done;
    expect(events).toEqual([
      { type: "sample", cpu: 0, data: u32(5) },
      { type: "lost", cpu: 0, count: 2 },
    ]);
    expect(k.perf.size).toBe(0);
  });

  it("rejects a ring size that is not a power of two of pages", () => {
    using pa = PerfEventArray.create({ maxEntries: 1 });
    expect(() => pa.reader({ pagesPerCpu: 3 })).toThrow(/power of two/);
  });
});
