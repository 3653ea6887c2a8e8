import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describeKernel, fdIsOpen } from "@ebpf/testing";
import { describe, expect, it } from "vitest";
import {
  BpfMapType,
  BpfProgType,
  ClosedFdError,
  EbpfError,
  epollCreate,
  errnoName,
  errnoValue,
  eventfd,
  Fd,
  hintFor,
  mapCreate,
  NetlinkSocket,
  NotSupportedError,
  PerfSwIds,
  PerfTypeId,
  perfEventOpen,
  progLoad,
  SyscallError,
} from "../src/index.js";
import { returnImm } from "./asm.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

describe("Fd ownership (fake closer)", () => {
  it("closes once, reads as closed, refuses use after close", () => {
    const closed: number[] = [];
    const fd = new Fd(1_000_001, "map", (n) => closed.push(n));
    expect(fd.raw).toBe(1_000_001);
    expect(String(fd)).toBe("map fd 1000001");
    fd.close();
    fd.close();
    expect(closed).toEqual([1_000_001]);
    expect(fd.closed).toBe(true);
    expect(() => fd.raw).toThrow(ClosedFdError);
    expect(() => fd.raw).toThrow(expect.objectContaining({ code: "ERR_EBPF_FD_CLOSED" }));
  });

  it("[Symbol.dispose] closes; release() hands the number over without closing", () => {
    const closed: number[] = [];
    {
      using _fd = new Fd(7, "x", (n) => closed.push(n));
    }
    expect(closed).toEqual([7]);
    const fd = new Fd(8, "x", (n) => closed.push(n));
    expect(fd.release()).toBe(8);
    fd.close();
    expect(closed).toEqual([7]);
    expect(() => new Fd(-1)).toThrow(RangeError);
  });

  it("the FinalizationRegistry closes a forgotten fd, and never one that was closed explicitly", async () => {
    const closed: number[] = [];
    (() => {
      new Fd(11, "x", (n) => closed.push(n));
      new Fd(12, "x", (n) => closed.push(n)).close();
    })();
    for (let i = 0; i < 20 && !closed.includes(11); i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(closed.sort()).toEqual([11, 12]);
  });
});

describe("errors", () => {
  it("names errnos both ways", () => {
    expect(errnoName(1)).toBe("EPERM");
    expect(errnoName(11)).toBe("EAGAIN");
    expect(errnoName(524)).toBe("ENOTSUPP");
    expect(errnoName(4242)).toBe("E4242");
    expect(errnoValue("E2BIG")).toBe(7);
  });

  it("SyscallError carries syscall, command, errno name and number, and a hint", () => {
    const e = new SyscallError({ syscall: "bpf", command: "BPF_MAP_UPDATE_ELEM", errno: 7 });
    expect(e).toBeInstanceOf(EbpfError);
    expect(e).toMatchObject({
      code: "ERR_EBPF_SYSCALL",
      syscall: "bpf",
      command: "BPF_MAP_UPDATE_ELEM",
      errno: 7,
      errnoName: "E2BIG",
    });
    expect(e.message).toMatch(
      /^bpf\(BPF_MAP_UPDATE_ELEM\) failed: E2BIG \(errno 7\)\. Hint: the map is full/,
    );
    expect(new SyscallError({ syscall: "bpf", command: "BPF_PROG_LOAD", errno: 7 }).hint).toMatch(
      /newer than the running kernel/,
    );
    expect(hintFor("bpf", "BPF_PROG_LOAD", 28)).toMatch(/log/);
    expect(hintFor("bpf", "BPF_MAP_LOOKUP_ELEM", 9)).toMatch(/not open/);
    const n = new NotSupportedError({ feature: "map type ringbuf", minKernel: "5.8" });
    expect(n).toMatchObject({
      code: "ERR_EBPF_NOT_SUPPORTED",
      feature: "map type ringbuf",
      minKernel: "5.8",
    });
    expect(n.message).toBe("map type ringbuf is not supported by this kernel (needs Linux 5.8 or later)");
  });
});

function isCloexec(fd: number): boolean {
  const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))![1];
  return (Number.parseInt(flags, 8) & 0o2000000) !== 0;
}

describeKernel("real fds", () => {
  it("every kind of fd this package opens is close-on-exec", () => {
    using map = mapCreate({ type: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    using prog = progLoad({ type: BpfProgType.XDP, insns: returnImm(2), license: "GPL" });
    using perf = perfEventOpen({ attr: { type: PerfTypeId.SOFTWARE, config: PerfSwIds.CPU_CLOCK }, cpu: 0 });
    using ep = epollCreate();
    using ev = eventfd();
    using nl = new NetlinkSocket();
    using dup = map.dup();
    for (const fd of [map, prog, perf, ep, ev, nl.fd, dup]) expect(isCloexec(fd.raw), String(fd)).toBe(true);
  });

  it("close() really closes, and a dup is independent", () => {
    const map = mapCreate({ type: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    const dup = map.dup();
    const raw = map.raw;
    map.close();
    expect(fdIsOpen(raw)).toBe(false);
    expect(fdIsOpen(dup.raw)).toBe(true);
    dup.close();
  });
});
