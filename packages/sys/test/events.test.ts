import { readFileSync } from "node:fs";
import { describeKernel, fdIsOpen } from "@ebpf/testing";
import { expect, it } from "vitest";
import {
  BpfFuncId,
  BpfMapType,
  BpfProgType,
  eventfd,
  eventfdRead,
  eventfdWrite,
  LinuxDefines,
  mapCreate,
  mapLookupElem,
  mmap,
  PerfDefines,
  PerfEventMmapPage,
  PerfEventSampleFormat,
  PerfSwIds,
  PerfTypeId,
  Poller,
  pageSize,
  perfEventDisable,
  perfEventEnable,
  perfEventOpen,
  perfEventSetBpf,
  progLoad,
  progTestRun,
  SyscallError,
} from "../src/index.js";
import { addImm, call, concat, exit, insn, ldMapFd, movImm, movReg, stW } from "./asm.js";

/** Polls `cond` every 5 ms for up to 5 s (the machine may be loaded). */
async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
}

/** A program that does bpf_ringbuf_output(ring, &u64(0x1234), 8, 0) and returns 2. */
function ringbufProgram(ringFd: number): Uint8Array {
  return concat(
    insn(0x7a, 10, 0, -8, 0x1234), // *(u64 *)(r10 - 8) = 0x1234
    ldMapFd(1, ringFd),
    movReg(2, 10),
    addImm(2, -8),
    movImm(3, 8),
    movImm(4, 0),
    call(BpfFuncId.ringbuf_output),
    movImm(0, 2),
    exit(),
  );
}

describeKernel("mmap, epoll and the poller", () => {
  it("reads a ring buffer record through mmap, woken by the poller", async () => {
    const page = pageSize();
    expect(page).toBeGreaterThanOrEqual(4096);
    const size = 4 * page;
    using ring = mapCreate({ type: BpfMapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: size });
    using consumer = mmap(ring, page, { prot: LinuxDefines.PROT_READ | LinuxDefines.PROT_WRITE });
    using producer = mmap(ring, page + 2 * size, { prot: LinuxDefines.PROT_READ, offset: page });
    using prog = progLoad({ type: BpfProgType.XDP, insns: ringbufProgram(ring.raw), license: "GPL" });

    const poller = new Poller();
    const woke = new Promise<number>((resolve) => {
      const reg = poller.register(ring, (events) => {
        reg.unregister();
        resolve(events);
      });
    });
    expect(poller.waiting).toBe(true);
    progTestRun({ progFd: prog, dataIn: new Uint8Array(64) });
    expect((await woke) & LinuxDefines.EPOLLIN).toBe(LinuxDefines.EPOLLIN);

    const cons = new DataView(consumer.buffer);
    const prod = new DataView(producer.buffer);
    const consPos = cons.getBigUint64(0, true);
    const prodPos = prod.getBigUint64(0, true);
    expect(prodPos - consPos).toBe(16n); // 8-byte header + 8-byte record
    const hdr = page + Number(consPos % BigInt(size));
    expect(prod.getUint32(hdr, true)).toBe(8); // length, not busy, not discarded
    expect(prod.getBigUint64(hdr + 8, true)).toBe(0x1234n);
    cons.setBigUint64(0, prodPos, true);

    await poller.close();
    expect(poller.waiting).toBe(false);
    producer.close();
    expect(producer.closed).toBe(true);
    expect(() => producer.buffer).toThrow(/closed/);
    // a stale view reads the placeholder's zeros instead of crashing
    expect(prod.getBigUint64(0, true)).toBe(0n);
  });

  it("the shared poller releases its thread when the last fd is removed", async () => {
    using ev = eventfd();
    const poller = Poller.shared();
    let calls = 0;
    const reg = poller.register(ev, () => {
      calls++;
      eventfdRead(ev);
    });
    expect(poller.waiting).toBe(true);
    eventfdWrite(ev, 3);
    await waitFor(() => calls === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(1);
    reg.unregister();
    await waitFor(() => !poller.waiting);
    expect(poller.waiting).toBe(false);
    expect(poller.size).toBe(0);
  });

  it("reports callback errors to onError and keeps polling", async () => {
    using ev = eventfd();
    const errors: unknown[] = [];
    const poller = new Poller({ onError: (e) => errors.push(e) });
    let calls = 0;
    poller.register(ev, () => {
      calls++;
      eventfdRead(ev);
      if (calls === 1) throw new Error("boom");
    });
    eventfdWrite(ev);
    await waitFor(() => calls === 1);
    eventfdWrite(ev);
    await waitFor(() => calls === 2);
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
    await poller.close();
    expect(() => poller.register(ev, () => {})).toThrow(/closed/);
  });

  it("perf_event_open, mmap of the perf ring, enable/disable, SET_BPF on a tracepoint", () => {
    const page = pageSize();
    using ev = perfEventOpen({
      attr: {
        type: PerfTypeId.SOFTWARE,
        config: PerfSwIds.BPF_OUTPUT,
        sample_type: PerfEventSampleFormat.RAW,
        sample_period: 1,
        wakeup_events: 1,
        disabled: true,
      },
      cpu: 0,
    });
    expect(fdIsOpen(ev.raw)).toBe(true);
    using ring = mmap(ev, page * 3);
    const meta = new DataView(ring.buffer);
    expect(Number(meta.getBigUint64(PerfEventMmapPage.fields.data_size.offset, true))).toBe(page * 2);
    perfEventEnable(ev);
    perfEventDisable(ev);

    const id = Number(readFileSync("/sys/kernel/tracing/events/syscalls/sys_enter_getppid/id", "utf8"));
    using tp = perfEventOpen({
      attr: { type: PerfTypeId.TRACEPOINT, config: id, sample_period: 1 },
      pid: 0,
      cpu: -1,
    });
    using counts = mapCreate({ type: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    const insns = concat(
      stW(-4, 0),
      movReg(2, 10),
      addImm(2, -4),
      ldMapFd(1, counts.raw),
      call(BpfFuncId.map_lookup_elem),
      new Uint8Array([0x15, 0x00, 0x01, 0x00, 0, 0, 0, 0]),
      new Uint8Array([0x62, 0x00, 0x00, 0x00, 42, 0, 0, 0]),
      movImm(0, 0),
      exit(),
    );
    using prog = progLoad({ type: BpfProgType.TRACEPOINT, insns, license: "GPL" });
    perfEventSetBpf(tp, prog);
    perfEventEnable(tp);
    // the event follows this process (pid 0, any cpu): our own getppid() fires it
    const v = new Uint8Array(4);
    for (let i = 0; i < 2000 && v[0] !== 42; i++) {
      void process.ppid;
      mapLookupElem(counts, new Uint8Array(4), v);
    }
    expect(v[0]).toBe(42);
    expect(() => perfEventSetBpf(tp, prog)).toThrow(SyscallError);
    expect(PerfDefines.PERF_EVENT_IOC_SET_BPF).toBe(0x40042408);
  });
});
