// The same scenarios against the real kernel and against FakeSyscalls: the fake must behave like the kernel
// for everything map and program logic relies on.
import { describeKernel } from "@ebpf/testing";
import { describe, expect, it } from "vitest";
import {
  BpfAttachType,
  BpfFlags,
  BpfMapType,
  BpfProgType,
  FakeSyscalls,
  kernelSyscalls,
  LoadError,
  SyscallError,
  type Syscalls,
} from "../src/index.js";
import { returnImm } from "./asm.js";

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint) => new Uint8Array(new BigUint64Array([n]).buffer);
const rd64 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
const errnoOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof SyscallError) return e.errnoName;
    throw e;
  }
  return "ok";
};

function scenarios(sys: Syscalls) {
  it("hash map: update flags, full map, iteration, delete", () => {
    using fd = sys.mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 2 });
    sys.mapUpdateElem(fd, u32(1), u64(10n));
    expect(errnoOf(() => sys.mapUpdateElem(fd, u32(1), u64(11n), BpfFlags.BPF_NOEXIST))).toBe("EEXIST");
    expect(errnoOf(() => sys.mapUpdateElem(fd, u32(2), u64(11n), BpfFlags.BPF_EXIST))).toBe("ENOENT");
    sys.mapUpdateElem(fd, u32(2), u64(20n));
    expect(errnoOf(() => sys.mapUpdateElem(fd, u32(3), u64(30n)))).toBe("E2BIG");
    sys.mapUpdateElem(fd, u32(2), u64(21n), BpfFlags.BPF_EXIST);
    const v = new Uint8Array(8);
    expect(sys.mapLookupElem(fd, u32(2), v)).toBe(true);
    expect(rd64(v)).toBe(21n);
    const next = new Uint8Array(4);
    const seen: number[] = [];
    let k: Uint8Array | null = null;
    while (sys.mapGetNextKey(fd, k, next)) {
      seen.push(next[0]);
      k = next.slice();
    }
    expect(seen.sort()).toEqual([1, 2]);
    // an unknown key restarts iteration at the first key
    expect(sys.mapGetNextKey(fd, u32(99), next)).toBe(true);
    expect(sys.mapDeleteElem(fd, u32(1))).toBe(true);
    expect(sys.mapDeleteElem(fd, u32(1))).toBe(false);
    expect(errnoOf(() => sys.mapUpdateElem(fd, u32(1), u64(1n), 99))).toBe("EINVAL");
  });

  it("array map: preallocated zeros, out of range, no delete, freeze", () => {
    using fd = sys.mapCreate({ type: BpfMapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 });
    const v = new Uint8Array(8).fill(7);
    expect(sys.mapLookupElem(fd, u32(1), v)).toBe(true);
    expect(rd64(v)).toBe(0n);
    expect(sys.mapLookupElem(fd, u32(2), v)).toBe(false);
    expect(errnoOf(() => sys.mapUpdateElem(fd, u32(2), u64(1n)))).toBe("E2BIG");
    expect(errnoOf(() => sys.mapUpdateElem(fd, u32(0), u64(1n), BpfFlags.BPF_NOEXIST))).toBe("EEXIST");
    expect(errnoOf(() => sys.mapDeleteElem(fd, u32(0)))).toBe("EINVAL");
    sys.mapFreeze(fd);
    expect(errnoOf(() => sys.mapUpdateElem(fd, u32(0), u64(1n)))).toBe("EPERM");
  });

  it("queue: FIFO pop through LOOKUP_AND_DELETE, full queue", () => {
    using fd = sys.mapCreate({ type: BpfMapType.QUEUE, keySize: 0, valueSize: 8, maxEntries: 2 });
    const none = new Uint8Array(0);
    sys.mapUpdateElem(fd, none, u64(1n));
    sys.mapUpdateElem(fd, none, u64(2n));
    expect(errnoOf(() => sys.mapUpdateElem(fd, none, u64(3n)))).toBe("E2BIG");
    const v = new Uint8Array(8);
    expect(sys.mapLookupAndDeleteElem(fd, null, v)).toBe(true);
    expect(rd64(v)).toBe(1n);
    const ops = sys.mapElemOps(fd, 0, 8);
    expect(ops.lookupAndDelete()).toBe(true);
    expect(rd64(ops.value)).toBe(2n);
    expect(ops.lookupAndDelete()).toBe(false);
  });

  it("batch ops round-trip", () => {
    using fd = sys.mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 10 });
    const keys = new Uint8Array(new Uint32Array([1, 2, 3, 4, 5]).buffer);
    const values = new Uint8Array(new BigUint64Array([1n, 2n, 3n, 4n, 5n]).buffer);
    expect(sys.mapUpdateBatch(fd, { keys, values, count: 5 }).count).toBe(5);
    const ok = new Uint8Array(40);
    const ov = new Uint8Array(80);
    const pos = new Uint8Array(4);
    let total = 0;
    let r = sys.mapLookupBatch(fd, { keys: ok, values: ov, count: 3, outBatch: pos });
    total += r.count;
    while (!r.done) {
      r = sys.mapLookupBatch(fd, { keys: ok, values: ov, count: 3, inBatch: pos, outBatch: pos });
      total += r.count;
    }
    expect(total).toBe(5);
    expect(sys.mapDeleteBatch(fd, { keys, count: 2 }).count).toBe(2);
    expect(errnoOf(() => sys.mapDeleteBatch(fd, { keys, count: 1 }))).toBe("ENOENT");
  });

  it("programs: load, test run, info, rejection is a LoadError", () => {
    using prog = sys.progLoad({
      type: BpfProgType.XDP,
      insns: returnImm(2),
      license: "GPL",
      name: "fake_or_real",
    });
    expect(sys.progInfo(prog).name).toBe("fake_or_real");
    expect(typeof sys.progTestRun({ progFd: prog, dataIn: new Uint8Array(64) }).retval).toBe("number");
    expect(() => sys.progLoad({ type: BpfProgType.XDP, insns: new Uint8Array(3), license: "GPL" })).toThrow(
      SyscallError,
    );
  });

  it("ids: a created map is found by id and reopened", () => {
    using fd = sys.mapCreate({
      type: BpfMapType.HASH,
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
      name: "byid",
    });
    const id = sys.mapInfo(fd).id;
    let found = false;
    for (let i = sys.getNextId("map", 0); i !== undefined; i = sys.getNextId("map", i)) found ||= i === id;
    expect(found).toBe(true);
    using again = sys.getFdById("map", id);
    expect(sys.mapInfo(again).name).toBe("byid");
    expect(errnoOf(() => sys.getFdById("map", 0x7fffffff))).toBe("ENOENT");
  });

  it("closed fds are refused before reaching the kernel", () => {
    const fd = sys.mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1 });
    fd.close();
    expect(() => sys.mapLookupElem(fd, u32(0), new Uint8Array(4))).toThrow(/closed/);
  });
}

describe("FakeSyscalls", () => {
  scenarios(new FakeSyscalls());

  it("injects faults, logs calls, tracks leaks, simulates verifier rejections", () => {
    const sys = new FakeSyscalls();
    sys.failNext("mapCreate", "EPERM");
    expect(
      errnoOf(() => sys.mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1 })),
    ).toBe("EPERM");
    const fd = sys.mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(sys.calls.map((c) => c.op)).toEqual(["mapCreate", "mapCreate"]);
    expect(() => sys.assertNoLeaks()).toThrow(/1 fd/);
    sys.objPin(fd, "/sys/fs/bpf/x");
    fd.close();
    sys.assertNoLeaks();
    using again = sys.objGet("/sys/fs/bpf/x");
    expect(sys.object(again).kind).toBe("map");
    sys.unpin("/sys/fs/bpf/x");

    sys.onProgLoad = () => ({ errno: "EACCES", log: "0: R0 !read_ok" });
    const log = new Uint8Array(100);
    try {
      sys.progLoad({ type: BpfProgType.XDP, insns: returnImm(0), license: "GPL", logBuf: log });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LoadError);
      expect((e as LoadError).log).toBe("0: R0 !read_ok");
    }
    sys.onProgLoad = undefined;
    using prog = sys.progLoad({ type: BpfProgType.CGROUP_SKB, insns: returnImm(1), license: "GPL" });
    sys.progAttach({ targetFd: 5, progFd: prog, attachType: BpfAttachType.CGROUP_INET_INGRESS });
    expect(sys.progQuery({ targetFd: 5, attachType: BpfAttachType.CGROUP_INET_INGRESS }).progIds).toEqual([
      sys.progInfo(prog).id,
    ]);
    using link = sys.linkCreate({ progFd: prog, targetFd: 5, attachType: BpfAttachType.CGROUP_INET_EGRESS });
    expect(sys.linkInfo(link).progId).toBe(sys.progInfo(prog).id);
  });
});

describeKernel("kernelSyscalls (the scenarios FakeSyscalls is held to)", () => {
  scenarios(kernelSyscalls);
});
