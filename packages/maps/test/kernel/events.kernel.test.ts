import { execFileSync } from "node:child_process";
import { describeKernel, fdIsOpen, kernelAtLeast } from "@ebpf/testing";
import { afterAll, expect, it } from "vitest";
import { COOKIE, loadProducer, loadUserRingDrainer, produce } from "../../bench/producers.mjs";
import {
  ArrayMap,
  codecs,
  expectNotSupported,
  MapClosedError,
  PerfEventArray,
  RingBuf,
  UserRingBuf,
} from "../harness.js";

/** BPF_MAP_TYPE_USER_RINGBUF and bpf_user_ringbuf_drain landed in Linux 6.1. */
const USER_RINGBUF = "6.1";

const cleanup: { close(): void }[] = [];
afterAll(() => {
  for (const c of cleanup.reverse()) c.close();
});

function counter(): ArrayMap<bigint> {
  const c = ArrayMap.create({ valueSize: 8, maxEntries: 1 }, { valueCodec: codecs.u64 });
  cleanup.push(c);
  return c;
}

describeKernel("event streams on the real kernel", () => {
  it("ring buffer: records produced by a BPF program arrive in order, zero-copy, via drain", () => {
    const events = RingBuf.create({ name: "rb", maxEntries: 1 << 16 });
    cleanup.push(events);
    const seq = counter();
    const prog = loadProducer("ringbuf", events.fd, seq.fd);
    cleanup.push(prog);
    produce(prog, 1000);
    const reader = events.reader();
    const got: number[] = [];
    const n = reader.drain((r) => {
      expect(r.length).toBe(16);
      expect(r.view.getBigUint64(r.offset + 8, true)).toBe(COOKIE);
      got.push(r.view.getUint32(r.offset, true));
    });
    expect(n).toBe(1000);
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(reader.pending()).toBe(0);
    reader.close();
  });

  it("ring buffer: the poller wakes the watcher; the async iterator copies; abort stops and unmaps", async () => {
    const events = RingBuf.create({ maxEntries: 1 << 16 });
    cleanup.push(events);
    const seq = counter();
    const prog = loadProducer("ringbuf", events.fd, seq.fd);
    cleanup.push(prog);
    const ac = new AbortController();
    const reader = events.reader({ signal: ac.signal });
    const got: number[] = [];
    const iterating = (async () => {
      for await (const rec of reader) {
        got.push(new DataView(rec.buffer, rec.byteOffset).getUint32(0, true));
        if (got.length === 50) ac.abort();
      }
    })();
    setTimeout(() => produce(prog, 20), 10);
    setTimeout(() => produce(prog, 30), 40);
    await iterating;
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(reader.closed).toBe(true);
    expect(() => reader.drain(() => {})).toThrow(MapClosedError);
  });

  it("ring buffer: a watcher on the event loop, then closing the map releases the reader first", async () => {
    const events = RingBuf.create({ maxEntries: 1 << 16 });
    const seq = counter();
    const prog = loadProducer("ringbuf", events.fd, seq.fd);
    cleanup.push(prog);
    const reader = events.reader();
    let total = 0;
    const arrived = new Promise<void>((resolve) => {
      reader.watch(() => {
        total++;
        if (total === 100) resolve();
      });
    });
    produce(prog, 100);
    await arrived;
    const fd = events.fd;
    events.close();
    expect(reader.closed).toBe(true);
    expect(fdIsOpen(fd)).toBe(false);
  });

  it("perf event array: samples from a BPF program arrive on the CPU's ring with the padded raw size", async () => {
    const events = PerfEventArray.create({ name: "pe" });
    cleanup.push(events);
    const seq = counter();
    const prog = loadProducer("perf", events.fd, seq.fd);
    cleanup.push(prog);
    const reader = events.reader({ pagesPerCpu: 16 });
    expect(reader.cpus.length).toBeGreaterThan(0);
    produce(prog, 200);
    const got: number[] = [];
    let lost = 0;
    reader.drain({
      onSample: (r) => {
        expect(r.length).toBe(20); // 16 bytes + u32 size + 8-byte header, padded to 8: the kernel pads raw data
        expect(r.view.getBigUint64(r.offset + 8, true)).toBe(COOKIE);
        got.push(r.view.getUint32(r.offset, true));
      },
      onLost: (_cpu, n) => {
        lost += n;
      },
    });
    expect(lost).toBe(0);
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
    reader.close();
  });

  it("perf event array: a small ring overflows and the loss is reported", () => {
    const events = PerfEventArray.create();
    cleanup.push(events);
    const seq = counter();
    const prog = loadProducer("perf", events.fd, seq.fd);
    cleanup.push(prog);
    const reader = events.reader({ pagesPerCpu: 1, watermarkBytes: 2048 });
    // The kernel writes the LOST record only before the next sample that fits in the same CPU's ring, so the
    // burst and the samples after it must run on one CPU: pin this thread (the test runs on its process's
    // main thread) for the duration, or a migration in between hides the loss.
    using _pinned = pinToOneCpu();
    produce(prog, 2000); // 2000 × 32 bytes into a 4 KiB ring: most are dropped
    let samples = 0;
    let lost = 0;
    const handlers = {
      onSample: () => {
        samples++;
      },
      onLost: (_cpu: number, n: number) => {
        lost += n;
      },
    };
    reader.drain(handlers);
    expect(samples).toBeGreaterThan(0);
    expect(samples).toBeLessThan(2000);
    produce(prog, 1);
    reader.drain(handlers);
    expect(lost).toBeGreaterThan(0);
    expect(samples + lost).toBeLessThanOrEqual(2001);
    expect(samples + lost).toBeGreaterThan(samples);
    reader.close();
  });

  it("user ring buffer: records written here are drained by a BPF program (bpf_user_ringbuf_drain)", () => {
    if (!kernelAtLeast(USER_RINGBUF)) {
      expectNotSupported(() => UserRingBuf.create({ maxEntries: 1 << 14 }), USER_RINGBUF);
      return;
    }
    const urb = UserRingBuf.create({ maxEntries: 1 << 14 });
    cleanup.push(urb);
    const result = ArrayMap.create({ valueSize: 8, maxEntries: 1 }, { valueCodec: codecs.u64 });
    cleanup.push(result);
    const prog = loadUserRingDrainer(urb.fd, result.fd);
    cleanup.push(prog);
    const w = urb.writer();
    for (let i = 0; i < 3; i++) expect(w.write(new Uint8Array(16).fill(i))).toBe(true);
    const r = w.reserve(8)!;
    r.discard();
    expect(w.available()).toBe((1 << 14) - 3 * 24 - 16);
    produce(prog, 1);
    expect(result.get(0)).toBe(3n); // the discarded record is skipped by the kernel
    expect(w.available()).toBe(1 << 14); // and the kernel gave all the space back
    w.close();
  });

  it("user ring buffer: the writer maps the producer side and reports free space", () => {
    if (!kernelAtLeast(USER_RINGBUF)) {
      const err = expectNotSupported(() => UserRingBuf.create({ maxEntries: 1 << 14 }), USER_RINGBUF);
      expect(err.feature).toBe("map type user_ringbuf");
      return;
    }
    const urb = UserRingBuf.create({ maxEntries: 1 << 14 });
    cleanup.push(urb);
    const w = urb.writer();
    expect(w.available()).toBe(1 << 14);
    expect(w.write(new Uint8Array(100))).toBe(true);
    expect(w.available()).toBe((1 << 14) - 112);
    w.close();
    expect(() => w.write(new Uint8Array(1))).toThrow(MapClosedError);
  });
});

/**
 * Pins this process's main thread to the first CPU it may run on (util-linux `taskset`), until disposed.
 * Vitest runs each test file in a forked process, on its main thread.
 */
function pinToOneCpu(): Disposable {
  const pid = String(process.pid);
  const current =
    execFileSync("taskset", ["-p", "-c", pid], { encoding: "utf8" }).split(":").at(-1)?.trim() ?? "";
  const first = current.split(/[,-]/)[0];
  if (!first) throw new Error(`cannot read this thread's CPU affinity (taskset said "${current}")`);
  execFileSync("taskset", ["-p", "-c", first, pid], { stdio: "ignore" });
  return { [Symbol.dispose]: () => execFileSync("taskset", ["-p", "-c", current, pid], { stdio: "ignore" }) };
}
