/**
 * Real-kernel element tests for the map types whose values are tied to other kernel objects: XSKMAP
 * (AF_XDP sockets), REUSEPORT_SOCKARRAY (SO_REUSEPORT sockets), TASK_STORAGE (pidfds), cgroup storage
 * (created by attaching a program), and STRUCT_OPS (a kernel struct type). Programs are hand-assembled
 * and loaded with @ebpf/sys so these tests need no ELF loader; the values they check come from the
 * kernel (BPF_PROG_TEST_RUN results, packets delivered, counters bumped by real traffic).
 */
import { spawn, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, statSync } from "node:fs";
import { type Btf, BtfKind } from "@ebpf/btf";
import { loadKernelBtf } from "@ebpf/btf/node";
import {
  AluOp,
  alu64Imm,
  callHelper,
  encodeInstructions,
  exit,
  type Instruction,
  ldImm64,
  ldx,
  mov64Imm,
  mov64Reg,
  PseudoLd,
  Size,
  stx,
} from "@ebpf/relocate";
import {
  BpfAttachType,
  BpfFuncId,
  BpfProgType,
  btfLoad,
  type Fd,
  progAttach,
  progDetach,
  progLoad,
  progTestRun,
  SocketOptions,
  SyscallError,
  setSockOptInt,
  XdpAction,
} from "@ebpf/sys";
import { describeKernel, kernelAtLeast } from "@ebpf/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  BpfFlagsForTest as BpfFlags,
  CgroupStorage,
  type Codec,
  codecs,
  expectNotSupported,
  PerCpuCgroupStorage,
  ReusePortSockArray,
  SockHash,
  StructOpsMap,
  TaskStorage,
  XskMap,
} from "../harness.js";
import { closeFd, drain, pidfdOpen, udpSocket, xdpSocket } from "./native.js";
import { storageBtf } from "./storage-btf.js";

/** `enum sk_action` (not in abi.generated.ts). */
const SK_PASS = 1;

function load(type: number, insns: Instruction[], expectedAttachType?: number): Fd {
  const logBuf = new Uint8Array(64 * 1024);
  return progLoad({
    type,
    insns: encodeInstructions(insns),
    license: "GPL",
    logLevel: 1,
    logBuf,
    expectedAttachType,
  });
}

/** A SyscallError from `fn` with errno `name`. */
function expectErrno(fn: () => unknown, name: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SyscallError);
  expect((err as SyscallError).errnoName).toBe(name);
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describeKernel("XskMap on the real kernel", () => {
  // bpf_redirect_map(&xsks, 0, XDP_PASS): XDP_REDIRECT when slot 0 holds a socket, XDP_PASS when empty.
  const redirectProg = (mapFd: number) =>
    load(BpfProgType.XDP, [
      ldImm64(1, BigInt(mapFd), PseudoLd.MAP_FD),
      mov64Imm(2, 0),
      mov64Imm(3, XdpAction.PASS),
      callHelper(BpfFuncId.redirect_map),
      exit(),
    ]);
  const run = (prog: Fd) => progTestRun({ progFd: prog, dataIn: new Uint8Array(64) }).retval;

  it("an AF_XDP socket in slot 0 makes bpf_redirect_map redirect; user space cannot read it back", () => {
    using m = XskMap.create({ name: "xsks", keySize: 4, valueSize: 4, maxEntries: 4 });
    expect(m.info()).toMatchObject({ typeName: "xskmap", keySize: 4, valueSize: 4, maxEntries: 4 });
    const prog = redirectProg(m.fd);
    const xsk = xdpSocket("lo");
    try {
      expect(run(prog)).toBe(XdpAction.PASS);
      m.set(0, xsk.fd);
      expect(run(prog)).toBe(XdpAction.REDIRECT);
      // The kernel keeps sockets, not fds: it offers no lookup to user space (EOPNOTSUPP).
      const err = expectNotSupported(() => m.get(0), undefined);
      expect(err.feature).toBe("BPF_MAP_LOOKUP_ELEM on xskmap maps");
      expect(err.cause).toMatchObject({ errnoName: "EOPNOTSUPP" });
      expectErrno(() => m.set(1, xsk.fd, { mode: "exist" }), "ENOENT");
      expect(m.delete(0)).toBe(true);
      expect(run(prog)).toBe(XdpAction.PASS);
      expect([...m.keys()]).toEqual([0, 1, 2, 3]);
    } finally {
      xsk.close();
      prog.close();
    }
  });

  it("refuses fds that are not AF_XDP sockets, and indexes out of range", () => {
    using m = XskMap.create({ keySize: 4, valueSize: 4, maxEntries: 2 });
    const udp = udpSocket(0, false);
    try {
      expectErrno(() => m.set(0, udp), "EOPNOTSUPP");
      expectErrno(() => m.set(0, m.fd), "ENOTSOCK");
      expectErrno(() => m.set(2, udp), "E2BIG");
    } finally {
      closeFd(udp);
    }
  });
});

describeKernel("ReusePortSockArray on the real kernel", () => {
  let a = -1;
  let b = -1;
  let port = 0;
  const cookies = new Map<number, number>();
  beforeAll(() => {
    // Two UDP sockets sharing one port: a reuseport group of two.
    a = udpSocket(0, true);
    const sh = SockHash.create({ keySize: 4, valueSize: 8, maxEntries: 2 });
    try {
      port = boundPort(a);
      b = udpSocket(port, true);
      // The socket cookies, as the sockhash reports them (a socket is in one of the two maps at a time).
      for (const fd of [a, b]) {
        sh.set(0, fd);
        cookies.set(fd, sh.get(0)!);
        sh.delete(0);
      }
    } finally {
      sh.close();
    }
  });
  afterAll(() => {
    if (a >= 0) closeFd(a);
    if (b >= 0) closeFd(b);
  });

  it("stores group members by index; lookup returns the socket cookie", () => {
    using m = ReusePortSockArray.create({ keySize: 4, valueSize: 8, maxEntries: 4 });
    expect(m.info().typeName).toBe("reuseport_sockarray");
    m.set(0, a);
    m.set(1, b);
    expect(cookies.get(a)).toBeGreaterThan(0);
    expect(cookies.get(b)).not.toBe(cookies.get(a));
    expect(m.get(0)).toBe(cookies.get(a));
    expect(m.get(1)).toBe(cookies.get(b));
    expect(m.get(2)).toBeUndefined();
    expectErrno(() => m.set(1, a, { mode: "noexist" }), "EEXIST");
    expect(m.delete(1)).toBe(true);
    expect(m.get(1)).toBeUndefined();
    expect(m.delete(1)).toBe(false);
    // A socket is in one reuseport array at a time (the kernel says EBUSY): free it for the next test.
    expect(m.delete(0)).toBe(true);
  });

  it("bpf_sk_select_reuseport steers datagrams to the socket in slot 0", async () => {
    using m = ReusePortSockArray.create({ keySize: 4, valueSize: 8, maxEntries: 2 });
    const prog = load(BpfProgType.SK_REUSEPORT, [
      mov64Reg(6, 1),
      mov64Imm(2, 0),
      stx(Size.W, 10, 2, -4),
      mov64Reg(1, 6),
      ldImm64(2, BigInt(m.fd), PseudoLd.MAP_FD),
      mov64Reg(3, 10),
      alu64Imm(AluOp.ADD, 3, -4),
      mov64Imm(4, 0),
      callHelper(BpfFuncId.sk_select_reuseport),
      mov64Imm(0, SK_PASS),
      exit(),
    ]);
    const sender = createSocket("udp4");
    try {
      setSockOptInt(a, SocketOptions.SOL_SOCKET, SocketOptions.SO_ATTACH_REUSEPORT_EBPF, prog.raw);
      const burst = async (n: number) => {
        for (let i = 0; i < n; i++) {
          await new Promise<void>((r, j) => sender.send(`p${i}`, port, "127.0.0.1", (e) => (e ? j(e) : r())));
        }
        const got = { a: 0, b: 0 };
        await until(() => {
          got.a += drain(a);
          got.b += drain(b);
          return got.a + got.b >= n;
        });
        return got;
      };
      drain(a);
      drain(b);
      for (const first of [a, b]) {
        m.set(0, first);
        const got = await burst(6);
        expect(first === a ? got : { a: got.b, b: got.a }).toEqual({ a: 6, b: 0 });
      }
    } finally {
      setSockOptInt(a, SocketOptions.SOL_SOCKET, SocketOptions.SO_DETACH_REUSEPORT_BPF, 0);
      sender.close();
      prog.close();
    }
  });

  it("a closed socket leaves the array; sockets outside a reuseport group are refused", () => {
    using m = ReusePortSockArray.create({ keySize: 4, valueSize: 8, maxEntries: 2 });
    const c = udpSocket(port, true);
    m.set(0, c);
    expect(m.get(0)).toBeGreaterThan(0);
    closeFd(c);
    expect(m.get(0)).toBeUndefined();
    const plain = udpSocket(0, false);
    try {
      expectErrno(() => m.set(0, plain), "EINVAL");
    } finally {
      closeFd(plain);
    }
    // A 4-byte value holds the fd on update, but cannot carry the 8-byte cookie back.
    using narrow = ReusePortSockArray.create({ keySize: 4, valueSize: 4, maxEntries: 1 });
    narrow.set(0, a);
    expectErrno(() => narrow.get(0), "ENOSPC");
  });
});

/** The port a socket is bound to, from /proc/net/udp (inode of the socket ↔ local address). */
function boundPort(fd: number): number {
  const ino = statSync(`/proc/self/fd/${fd}`).ino;
  for (const line of readFileSync("/proc/net/udp", "utf8").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (Number(cols[9]) === ino) return Number.parseInt(cols[1]!.split(":")[1]!, 16);
  }
  throw new Error(`socket fd ${fd} not found in /proc/net/udp`);
}

interface Pair {
  a: number;
  b: number;
}

describeKernel("TaskStorage on the real kernel (BTF built in the test)", () => {
  let btfFd: Fd;
  let btf: Btf;
  let intId = 0;
  let pairId = 0;
  beforeAll(() => {
    const built = storageBtf();
    ({ btf, intId, pairId } = built);
    btfFd = btfLoad({ btf: built.bytes });
  });
  afterAll(() => btfFd?.close());
  const spec = () => ({
    keySize: 4,
    valueSize: 8,
    maxEntries: 0,
    flags: BpfFlags.BPF_F_NO_PREALLOC,
    btfFd: btfFd.raw,
    btfKeyTypeId: intId,
    btfValueTypeId: pairId,
  });

  it("values per task keyed by pidfd, decoded through BTF; they go away with the task (Linux 5.11)", async () => {
    if (!kernelAtLeast("5.11")) {
      expect(expectNotSupported(() => TaskStorage.create(spec()), "5.11").feature).toBe(
        "map type task_storage",
      );
      return;
    }
    using m = TaskStorage.create<Pair>(spec(), { btf });
    expect(m.info()).toMatchObject({ typeName: "task_storage", btfKeyTypeId: intId, btfValueTypeId: pairId });
    const self = pidfdOpen(process.pid);
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    await new Promise((r) => child.once("spawn", r));
    const other = pidfdOpen(child.pid!);
    try {
      expect(m.get(self)).toBeUndefined();
      m.set(self, { a: process.pid, b: 1 });
      m.set(other, { a: child.pid!, b: 2 });
      expect(m.get(self)).toEqual({ a: process.pid, b: 1 });
      expect(m.get(other)).toEqual({ a: child.pid!, b: 2 });
      expectErrno(() => m.set(self, { a: 0, b: 0 }, { mode: "noexist" }), "EEXIST");
      // Another pidfd of the same task reaches the same storage.
      const again = pidfdOpen(process.pid);
      expect(m.get(again)).toEqual({ a: process.pid, b: 1 });
      closeFd(again);
      expect(m.delete(self)).toBe(true);
      expect(m.get(self)).toBeUndefined();
      expect(m.delete(self)).toBe(false);
      // When the task is gone, so is its storage (the pidfd now names no task).
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      expect(m.get(other)).toBeUndefined();
      // Keys must be pidfds: any other fd is EBADF. Nor can the map be walked (ENOTSUPP).
      expectErrno(() => m.get(m.fd), "EBADF");
      const err = expectNotSupported(() => [...m.keys()], undefined);
      expect(err.feature).toBe("BPF_MAP_GET_NEXT_KEY on task_storage maps");
    } finally {
      child.kill("SIGKILL");
      closeFd(self);
      closeFd(other);
    }
  });
});

/** `struct bpf_cgroup_storage_key`: the cgroup's inode id and the attach type. */
interface CgroupKey {
  cgroupInodeId: bigint;
  attachType: number;
}
const cgroupKeyCodec: Codec<CgroupKey> = {
  size: 16,
  encode(k, view, off) {
    view.setBigUint64(off, k.cgroupInodeId, true);
    view.setUint32(off + 8, k.attachType, true);
    view.setUint32(off + 12, 0, true);
  },
  decode: (view, off) => ({
    cgroupInodeId: view.getBigUint64(off, true),
    attachType: view.getUint32(off + 8, true),
  }),
};

describeKernel("cgroup storage on the real kernel: counters of a cgroup_skb program", () => {
  const cgroup = `/sys/fs/cgroup/unified/ebpf_maps_${process.pid}`;
  beforeAll(() => mkdirSync(cgroup));
  afterAll(() => {
    if (existsSync(cgroup)) rmdirSync(cgroup);
  });

  /** Runs a node child inside the test cgroup that sends `n` UDP datagrams to `port`. */
  function sendFromCgroup(n: number, port: number): void {
    const script = `require("fs").writeFileSync(${JSON.stringify(`${cgroup}/cgroup.procs`)}, String(process.pid));
const s = require("dgram").createSocket("udp4"); let i = 0;
const next = () => i++ < ${n} ? s.send("x", ${port}, "127.0.0.1", next) : s.close();
next();`;
    const r = spawnSync(process.execPath, ["-e", script], { stdio: "pipe" });
    expect(r.status, r.stderr.toString()).toBe(0);
  }

  it("shared and per-CPU storage appear on attach, count egress packets, and go away with the cgroup", async () => {
    const shared = CgroupStorage.create<CgroupKey, bigint>(
      { keySize: 16, valueSize: 8, maxEntries: 0 },
      { keyCodec: cgroupKeyCodec, valueCodec: codecs.u64 },
    );
    const perCpu = PerCpuCgroupStorage.create<CgroupKey, bigint>(
      { keySize: 16, valueSize: 8, maxEntries: 0 },
      { keyCodec: cgroupKeyCodec, valueCodec: codecs.u64 },
    );
    const bump = (mapFd: number) => [
      ldImm64(1, BigInt(mapFd), PseudoLd.MAP_FD),
      mov64Imm(2, 0),
      callHelper(BpfFuncId.get_local_storage),
      ldx(Size.DW, 1, 0, 0),
      alu64Imm(AluOp.ADD, 1, 1),
      stx(Size.DW, 0, 1, 0),
    ];
    const prog = load(
      BpfProgType.CGROUP_SKB,
      [...bump(shared.fd), ...bump(perCpu.fd), mov64Imm(0, 1), exit()],
      BpfAttachType.CGROUP_INET_EGRESS,
    );
    let dir = openSync(cgroup, "r");
    const receiver = createSocket("udp4");
    await new Promise<void>((r) => receiver.bind(0, "127.0.0.1", r));
    receiver.on("message", () => {});
    try {
      const key: CgroupKey = {
        cgroupInodeId: statSync(cgroup, { bigint: true }).ino,
        attachType: BpfAttachType.CGROUP_INET_EGRESS,
      };
      expect([...shared.keys()]).toEqual([]);
      progAttach({ targetFd: dir, progFd: prog, attachType: BpfAttachType.CGROUP_INET_EGRESS });
      // The kernel allocates one storage per (cgroup, attach type) when the program is attached.
      expect([...shared.keys()]).toEqual([key]);
      expect([...perCpu.keys()]).toEqual([key]);
      expect(shared.get(key)).toBe(0n);
      expect(perCpu.get(key)?.every((v) => v === 0n)).toBe(true);
      shared.set(key, 1000n); // user space may seed the value the program then updates
      const n = 5;
      sendFromCgroup(n, (receiver.address() as { port: number }).port);
      expect(shared.get(key)).toBe(1000n + BigInt(n));
      const cpus = perCpu.get(key)!;
      expect(cpus.length).toBe(perCpu.valueBufferSize / 8);
      expect(cpus.reduce((s, v) => s + v, 0n)).toBe(BigInt(n));
      // Cgroup storage has no delete: since 5.9 it lives as long as the cgroup (or the map).
      expectErrno(() => shared.delete(key), "EINVAL");
      progDetach({ targetFd: dir, progFd: prog, attachType: BpfAttachType.CGROUP_INET_EGRESS });
      prog.close();
      expect(shared.get(key)).toBe(1000n + BigInt(n));
      closeSync(dir);
      dir = -1;
      rmdirSync(cgroup);
      await until(() => [...shared.keys()].length === 0, 5000);
      expect([...shared.keys()]).toEqual([]);
      expect([...perCpu.keys()]).toEqual([]);
    } finally {
      if (dir >= 0) {
        if (!prog.closed) {
          try {
            progDetach({ targetFd: dir, progFd: prog, attachType: BpfAttachType.CGROUP_INET_EGRESS });
          } catch {}
        }
        closeSync(dir);
      }
      prog.close();
      receiver.close();
      shared.close();
      perCpu.close();
    }
  });
});

describeKernel("StructOpsMap on the real kernel", () => {
  it("is created from a spec naming a kernel struct; info and the value round-trip (Linux 5.6)", () => {
    const vmlinux = loadKernelBtf();
    const id = vmlinux.findIdByName("bpf_struct_ops_tcp_congestion_ops", BtfKind.Struct);
    expect(id).toBeGreaterThan(0);
    const valueSize = vmlinux.sizeOf(id!);
    // No btfFd: the value type is the kernel's, and the library lends the BTF fd the kernel wants.
    const spec = { name: "cc_ops", keySize: 4, valueSize, maxEntries: 1, btfVmlinuxValueTypeId: id! };
    if (!kernelAtLeast("5.6")) {
      expectNotSupported(() => StructOpsMap.create(spec), "5.6");
      return;
    }
    using raw = StructOpsMap.create(spec);
    expect(raw.info()).toMatchObject({
      typeName: "struct_ops",
      name: "cc_ops",
      keySize: 4,
      valueSize,
      maxEntries: 1,
      btfVmlinuxValueTypeId: id,
    });
    expect(raw.get(0)?.byteLength).toBe(valueSize);
    // The same map decoded through kernel BTF. Before 6.9 refcnt and state lead the value; after, a
    // `common` struct holds them.
    type Ops = { state?: number; common?: { state: number }; data: { name: string; ssthresh: bigint } };
    using ops = StructOpsMap.open<Ops>(raw, { btf: vmlinux });
    const value = ops.get(0)!;
    // Nothing registered yet: BPF_STRUCT_OPS_STATE_INIT (0), and no name filled in.
    expect(value.common?.state ?? value.state).toBe(0);
    expect(value.data).toMatchObject({ name: "", ssthresh: 0n });
    expect(ops.delete(0)).toBe(false);
    // tcp_congestion_ops needs ssthresh, undo_cwnd and cong_avoid: an empty value fails validation.
    expectErrno(() => raw.set(0, new Uint8Array(valueSize)), "EINVAL");
  });
});
