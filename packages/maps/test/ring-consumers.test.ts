import { ParseError } from "@ebpf/errors";
import { describe, expect, it } from "vitest";
import { PerfRingConsumer } from "../src/perf/consumer.js";
import { RingBufferConsumer } from "../src/ringbuf/consumer.js";
import { FakeBpfRing, FakePerfRing } from "./fake-rings.js";

const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
const bytesOf = (n: number, len: number) => Uint8Array.from({ length: len }, (_, i) => (n + i) & 0xff);

describe("BPF ring buffer consumer (fake ring)", () => {
  it("delivers records in order with their lengths and advances consumer_pos", () => {
    const ring = new FakeBpfRing(4096);
    const c = new RingBufferConsumer(ring.memory());
    for (let i = 0; i < 10; i++) ring.write(bytesOf(i, 1 + i));
    const got: Uint8Array[] = [];
    expect(c.drain((r) => void got.push(r.copy()))).toBe(10);
    expect(got.map((g) => g.length)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(got[4]).toEqual(bytesOf(4, 5));
    // 8-byte header + payload rounded to 8 for each record
    expect(ring.consumerPos()).toBe(got.reduce((s, g) => s + ((g.length + 15) & ~7), 0));
    expect(c.drain(() => {})).toBe(0);
  });

  it("hands zero-copy views that point into the ring", () => {
    const ring = new FakeBpfRing(4096);
    const c = new RingBufferConsumer(ring.memory());
    ring.write(u32(0xabcdef));
    c.drain((r) => {
      expect(r.view.getUint32(r.offset, true)).toBe(0xabcdef);
      expect(r.bytes().buffer).toBe(ring.producerArea);
    });
  });

  it("stops at a BUSY record and resumes once it is committed, keeping order", () => {
    const ring = new FakeBpfRing(4096);
    const c = new RingBufferConsumer(ring.memory());
    ring.write(u32(1));
    const busy = ring.reserve(u32(2));
    ring.write(u32(3));
    const seen: number[] = [];
    const cb = (r: { view: DataView; offset: number }) => void seen.push(r.view.getUint32(r.offset, true));
    expect(c.drain(cb)).toBe(1);
    expect(seen).toEqual([1]);
    ring.commit(busy, 4);
    expect(c.drain(cb)).toBe(2);
    expect(seen).toEqual([1, 2, 3]);
  });

  it("skips discarded records but still consumes their space", () => {
    const ring = new FakeBpfRing(4096);
    const c = new RingBufferConsumer(ring.memory());
    ring.write(u32(1));
    ring.write(u32(2), true);
    ring.write(u32(3));
    const seen: number[] = [];
    c.drain((r) => void seen.push(r.view.getUint32(r.offset, true)));
    expect(seen).toEqual([1, 3]);
    expect(ring.consumerPos()).toBe(48);
  });

  it("reads records that cross the end of the data area contiguously (double mapping)", () => {
    const ring = new FakeBpfRing(256);
    const c = new RingBufferConsumer(ring.memory());
    let sent = 0;
    let received = 0;
    // Payloads of 40 bytes (48 with header) do not divide 256, so records straddle the end.
    for (let round = 0; round < 50; round++) {
      while (ring.write(bytesOf(sent, 40))) sent++;
      c.drain((r) => {
        expect(r.length).toBe(40);
        expect(r.copy()).toEqual(bytesOf(received, 40));
        received++;
      });
    }
    expect(received).toBe(sent);
    expect(sent).toBeGreaterThan(200);
  });

  it("returning false stops after that record; a limit bounds one drain", () => {
    const ring = new FakeBpfRing(4096);
    const c = new RingBufferConsumer(ring.memory());
    for (let i = 0; i < 5; i++) ring.write(u32(i));
    expect(c.drain(() => false)).toBe(1);
    expect(c.drain(() => {}, 2)).toBe(2);
    expect(c.drain(() => {})).toBe(2);
  });

  it("works across the 2^32 boundary of the 64-bit positions", () => {
    const start = 2 ** 32 - 64;
    const ring = new FakeBpfRing(256, start);
    const c = new RingBufferConsumer(ring.memory());
    let n = 0;
    for (let i = 0; i < 20; i++) {
      ring.write(u32(i));
      c.drain((r) => {
        expect(r.view.getUint32(r.offset, true)).toBe(n);
        n++;
      });
    }
    expect(n).toBe(20);
    expect(ring.consumerPos()).toBe(start + 20 * 16);
  });

  it("reports a corrupt record length as a ParseError with the offset, not a RangeError", () => {
    const ring = new FakeBpfRing(256);
    const c = new RingBufferConsumer(ring.memory());
    ring.write(u32(1));
    ring.corruptNextLength(10_000);
    const e = (() => {
      try {
        c.drain(() => {});
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ParseError);
    expect((e as ParseError).offset).toBe(0);
  });

  it("drainBatch: one callback per batch with offsets/lengths, skipping discards, stopping at BUSY", () => {
    const ring = new FakeBpfRing(4096);
    const c = new RingBufferConsumer(ring.memory());
    for (let i = 0; i < 5; i++) ring.write(u32(i), i === 2);
    const busy = ring.reserve(u32(99));
    ring.write(u32(5));
    const batches: number[][] = [];
    let posDuringCallback = -1;
    const n = c.drainBatch((b) => {
      posDuringCallback = ring.consumerPos();
      batches.push(Array.from({ length: b.count }, (_, i) => b.view.getUint32(b.offsets[i]!, true)));
      expect(Array.from(b.lengths.subarray(0, b.count))).toEqual(new Array(b.count).fill(4));
    }, 2);
    expect(n).toBe(4);
    expect(batches).toEqual([
      [0, 1],
      [3, 4],
    ]);
    expect(posDuringCallback).toBe(32); // the second batch is not released to the producer until it returns
    expect(ring.consumerPos()).toBe(5 * 16);
    ring.commit(busy, 4);
    batches.length = 0;
    expect(c.drainBatch((b) => void batches.push([b.count]))).toBe(2);
    expect(batches).toEqual([[2]]);
  });

  it("refuses a data size that is not a power of two", () => {
    const ring = new FakeBpfRing(256);
    expect(() => new RingBufferConsumer({ ...ring.memory(), size: 300 })).toThrow(ParseError);
  });
});

describe("perf ring consumer (fake ring)", () => {
  it("delivers raw samples with the padded raw size, and lost counts", () => {
    const ring = new FakePerfRing(4096);
    const c = new PerfRingConsumer(3, ring.memory());
    ring.sample(bytesOf(1, 16));
    ring.lost(7);
    ring.other(3); // PERF_RECORD_COMM: skipped
    ring.sample(bytesOf(2, 5));
    const samples: Uint8Array[] = [];
    const lost: [number, number][] = [];
    const n = c.drain({
      onSample: (r) => {
        expect(r.cpu).toBe(3);
        samples.push(r.copy());
      },
      onLost: (cpu, count) => lost.push([cpu, count]),
    });
    expect(n).toBe(2);
    // 16 bytes + u32 size + 8 header = 28 → padded to 32 → raw size 20 (the kernel pads the raw data)
    expect(samples[0]!.length).toBe(20);
    expect(samples[0]!.subarray(0, 16)).toEqual(bytesOf(1, 16));
    expect(samples[1]!.subarray(0, 5)).toEqual(bytesOf(2, 5));
    expect(lost).toEqual([[3, 7]]);
    expect(ring.tail()).toBe(32 + 24 + 16 + 24);
  });

  it("copies records that wrap around the end of the ring", () => {
    const ring = new FakePerfRing(128);
    const c = new PerfRingConsumer(0, ring.memory());
    let sent = 0;
    let got = 0;
    for (let round = 0; round < 40; round++) {
      while (ring.sample(bytesOf(sent, 20))) sent++;
      c.drain({
        onSample: (r) => {
          expect(r.copy().subarray(0, 20)).toEqual(bytesOf(got, 20));
          got++;
        },
      });
    }
    expect(got).toBe(sent);
    expect(sent).toBeGreaterThan(80);
  });

  it("drainBatch: runs of samples per callback, wrapped samples alone and copied, lost counts in order", () => {
    const ring = new FakePerfRing(128);
    const c = new PerfRingConsumer(1, ring.memory());
    // Fill to 96 bytes, drain, then write records that straddle the end of the 128-byte ring.
    for (let i = 0; i < 3; i++) ring.sample(bytesOf(i, 16));
    expect(c.drain({ onSample: () => {} })).toBe(3);
    const events: string[] = [];
    ring.sample(bytesOf(10, 16)); // at 96: fits exactly (32 bytes)
    ring.sample(bytesOf(11, 24)); // at 0 (wrapped position 128): contiguous again
    ring.lost(4);
    ring.sample(bytesOf(12, 16));
    const n = c.drainBatch(
      (b) => {
        for (let i = 0; i < b.count; i++) {
          events.push(`s${b.buffer[b.offsets[i]!]}:${b.lengths[i]}`);
        }
        events.push("|");
      },
      (cpu, count) => events.push(`lost${cpu}:${count}`),
      8,
    );
    expect(n).toBe(3);
    expect(events).toEqual(["s10:20", "s11:28", "|", "lost1:4", "s12:20", "|"]);
  });

  it("drainBatch copies a sample that wraps around the ring end into its own batch", () => {
    const ring = new FakePerfRing(128);
    const c = new PerfRingConsumer(0, ring.memory());
    ring.sample(bytesOf(0, 40)); // 56 bytes
    ring.sample(bytesOf(1, 40)); // 56 bytes → 112
    c.drain({ onSample: () => {} });
    ring.sample(bytesOf(2, 40)); // at 112: wraps
    const seen: Uint8Array[] = [];
    c.drainBatch((b) => {
      for (let i = 0; i < b.count; i++) seen.push(b.buffer.slice(b.offsets[i]!, b.offsets[i]! + 40));
    });
    expect(seen).toEqual([bytesOf(2, 40)]);
    expect(ring.tail()).toBe(168);
  });

  it("gives a ParseError for a record size that is impossible", () => {
    const ring = new FakePerfRing(128);
    const c = new PerfRingConsumer(0, ring.memory());
    ring.garbage(4);
    expect(() => c.drain({ onSample: () => {} })).toThrow(ParseError);
    const ring2 = new FakePerfRing(128);
    const c2 = new PerfRingConsumer(0, ring2.memory());
    ring2.garbage(1000);
    expect(() => c2.drain({ onSample: () => {} })).toThrow(/expected a record size/);
  });
});
