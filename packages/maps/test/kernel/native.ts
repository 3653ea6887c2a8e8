/**
 * The few system calls the map kernel tests need and `@ebpf/sys` does not export: `pidfd_open`, and
 * sockets set up before `bind` (SO_REUSEPORT, AF_XDP). Node 20 can do neither (its `reusePort` option
 * arrived in 22.12), so these borrow `@ebpf/sys`'s internal koffi bindings instead of loading koffi again.
 */
import { readFileSync } from "node:fs";
import { Errno, SocketOptions, SyscallError } from "@ebpf/sys";
import { addressOf, errno, libc } from "../../../sys/src/libc.js";

/** Linux ABI numbers that are not in `abi.generated.ts` (which is generated from BTF: these are `#define`s). */
export const Net = {
  AF_INET: 2,
  /** `<linux/socket.h>` */
  AF_XDP: 44,
  SOCK_DGRAM: 2,
  SOCK_RAW: 3,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,
  /** asm-generic/socket.h (x86-64, arm64). */
  SO_REUSEPORT: 15,
  MSG_DONTWAIT: 0x40,
  /** `<linux/if_xdp.h>` */
  SOL_XDP: 283,
  XDP_RX_RING: 2,
  XDP_UMEM_REG: 4,
  XDP_UMEM_FILL_RING: 5,
  XDP_UMEM_COMPLETION_RING: 6,
  XDP_COPY: 1 << 1,
} as const;

/** `pidfd_open` has the same number on every architecture (the unified table from 5.1 on). */
const SYS_PIDFD_OPEN = 434;

function check(r: number, syscall: string): number {
  if (r < 0) throw new SyscallError({ syscall, errno: errno() });
  return r;
}

/** `pidfd_open(pid, 0)`: an fd referring to the process (Linux 5.3). */
export function pidfdOpen(pid: number): number {
  return check(libc().syscall3(SYS_PIDFD_OPEN, pid, 0, 0), "pidfd_open");
}

/** Closes an fd created here. */
export function closeFd(fd: number): void {
  libc().close(fd);
}

function setSockOpt(fd: number, level: number, name: number, value: Uint8Array): void {
  check(libc().setsockopt(fd, level, name, addressOf(value), value.byteLength), "setsockopt");
}

function int32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

function sockaddrIn(port: number): Uint8Array {
  const sa = new Uint8Array(16);
  const v = new DataView(sa.buffer);
  v.setUint16(0, Net.AF_INET, true);
  v.setUint16(2, port, false);
  sa.set([127, 0, 0, 1], 4);
  return sa;
}

/**
 * A non-blocking UDP socket on 127.0.0.1:`port` (0: any), with SO_REUSEPORT set before `bind` when
 * `reusePort` (so several sockets share the port as one reuseport group).
 */
export function udpSocket(port: number, reusePort: boolean): number {
  const fd = check(
    libc().socket(Net.AF_INET, Net.SOCK_DGRAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0),
    "socket",
  );
  try {
    if (reusePort) setSockOpt(fd, SocketOptions.SOL_SOCKET, Net.SO_REUSEPORT, int32(1));
    const sa = sockaddrIn(port);
    check(libc().bind(fd, addressOf(sa), sa.byteLength), "bind");
    return fd;
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}

/** How many datagrams are waiting on a non-blocking socket (drains them). */
export function drain(fd: number): number {
  const buf = new Uint8Array(64);
  let n = 0;
  for (;;) {
    const r = libc().recv(fd, addressOf(buf), buf.byteLength, Net.MSG_DONTWAIT);
    if (r < 0) {
      const e = errno();
      if (e === Errno.EAGAIN) return n;
      throw new SyscallError({ syscall: "recv", errno: e });
    }
    n++;
  }
}

/** The ifindex of a network device. */
export function ifindex(dev: string): number {
  return Number(readFileSync(`/sys/class/net/${dev}/ifindex`, "utf8"));
}

/** An AF_XDP socket and the UMEM memory it registered (kept reachable while the socket lives). */
export interface XdpSocket {
  fd: number;
  umem: ArrayBuffer;
  close(): void;
}

/**
 * An AF_XDP socket with a small UMEM, fill/completion/RX rings, bound to queue 0 of `dev` in copy mode:
 * the minimum the kernel needs before the socket is usable as an XSKMAP value. The rings are not mapped.
 */
export function xdpSocket(dev: string): XdpSocket {
  const page = 4096;
  const chunk = 2048;
  const fd = check(libc().socket(Net.AF_XDP, Net.SOCK_RAW | Net.SOCK_CLOEXEC, 0), "socket(AF_XDP)");
  // UMEM must start on a page boundary: over-allocate and register the aligned part.
  const umem = new ArrayBuffer(3 * page);
  const base = addressOf(umem);
  const aligned = Math.ceil(base / page) * page;
  try {
    const reg = new Uint8Array(32); // struct xdp_umem_reg (addr, len, chunk_size, headroom, flags, tx_metadata_len)
    const r = new DataView(reg.buffer);
    r.setBigUint64(0, BigInt(aligned), true);
    r.setBigUint64(8, BigInt(2 * page), true);
    r.setUint32(16, chunk, true);
    setSockOpt(fd, Net.SOL_XDP, Net.XDP_UMEM_REG, reg.subarray(0, 24)); // 24: the 5.x layout, accepted by all
    setSockOpt(fd, Net.SOL_XDP, Net.XDP_UMEM_FILL_RING, int32(4));
    setSockOpt(fd, Net.SOL_XDP, Net.XDP_UMEM_COMPLETION_RING, int32(4));
    setSockOpt(fd, Net.SOL_XDP, Net.XDP_RX_RING, int32(4));
    const sa = new Uint8Array(16); // struct sockaddr_xdp
    const v = new DataView(sa.buffer);
    v.setUint16(0, Net.AF_XDP, true);
    v.setUint16(2, Net.XDP_COPY, true);
    v.setUint32(4, ifindex(dev), true);
    v.setUint32(8, 0, true);
    check(libc().bind(fd, addressOf(sa), sa.byteLength), "bind(AF_XDP)");
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  return { fd, umem, close: () => closeFd(fd) };
}
