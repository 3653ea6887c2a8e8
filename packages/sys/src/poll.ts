/**
 * epoll, eventfd, and the process-wide readiness {@link Poller}.
 */
import { EpollEvent, LinuxDefines } from "./abi.generated.js";
import { Scratch } from "./attr.js";
import { SyscallError } from "./errors.js";
import { Fd, rawFd } from "./fd.js";
import { errno, libc } from "./libc.js";

/** epoll_create1(EPOLL_CLOEXEC): an owned epoll fd. */
export function epollCreate(): Fd {
  const r = libc().epoll_create1(LinuxDefines.EPOLL_CLOEXEC);
  if (r < 0) throw new SyscallError({ syscall: "epoll_create1", errno: errno() });
  return new Fd(r, "epoll");
}

let ctlScratch: Scratch | undefined;

/** epoll_ctl(epfd, op, fd, {events, data}). `data` is a u64 token returned with each event. */
export function epollCtl(
  epfd: Fd | number,
  op: number,
  fd: Fd | number,
  events: number,
  data: number | bigint,
): void {
  ctlScratch ??= new Scratch(EpollEvent.byteSize);
  const v = ctlScratch.view;
  v.setUint32(EpollEvent.fields.events.offset, events >>> 0, true);
  v.setBigUint64(EpollEvent.fields.data.offset, BigInt(data), true);
  const r = libc().epoll_ctl(rawFd(epfd), op, rawFd(fd), ctlScratch.address);
  if (r < 0) {
    const name =
      op === LinuxDefines.EPOLL_CTL_ADD ? "ADD" : op === LinuxDefines.EPOLL_CTL_DEL ? "DEL" : "MOD";
    throw new SyscallError({ syscall: "epoll_ctl", command: `EPOLL_CTL_${name}`, errno: errno() });
  }
}

/** One ready fd from {@link epollWait}. */
export interface EpollReady {
  events: number;
  data: bigint;
}

/** A buffer for up to `max` epoll events, for {@link epollWait}. */
export class EpollEvents {
  readonly scratch: Scratch;
  readonly max: number;
  constructor(max = 64) {
    this.max = max;
    this.scratch = new Scratch(EpollEvent.byteSize * max);
  }
  /** Event `i` of the last wait. */
  at(i: number): EpollReady {
    const base = i * EpollEvent.byteSize;
    const v = this.scratch.view;
    return {
      events: v.getUint32(base + EpollEvent.fields.events.offset, true),
      data: v.getBigUint64(base + EpollEvent.fields.data.offset, true),
    };
  }
}

/** Synchronous epoll_wait: how many events are in `into` (0 on timeout). Retries EINTR. */
export function epollWait(epfd: Fd | number, into: EpollEvents, timeoutMs: number): number {
  for (;;) {
    const r = libc().epoll_wait(rawFd(epfd), into.scratch.address, into.max, timeoutMs);
    if (r >= 0) return r;
    const e = errno();
    if (e !== 4) throw new SyscallError({ syscall: "epoll_wait", errno: e });
  }
}

/** eventfd(initval, EFD_CLOEXEC | flags): an owned eventfd. */
export function eventfd(initval = 0, flags = 0): Fd {
  const r = libc().eventfd(initval, LinuxDefines.EFD_CLOEXEC | flags);
  if (r < 0) throw new SyscallError({ syscall: "eventfd", errno: errno() });
  return new Fd(r, "eventfd");
}

let counter: Scratch | undefined;

/** Adds `n` to an eventfd's counter. */
export function eventfdWrite(fd: Fd | number, n: number | bigint = 1): void {
  counter ??= new Scratch(8);
  counter.view.setBigUint64(0, BigInt(n), true);
  const r = libc().write(rawFd(fd), counter.address, 8);
  if (r < 0) throw new SyscallError({ syscall: "write", command: "eventfd", errno: errno() });
}

/** Reads and resets an eventfd's counter; 0n when it was zero and the fd is non-blocking (EAGAIN). */
export function eventfdRead(fd: Fd | number): bigint {
  counter ??= new Scratch(8);
  const r = libc().read(rawFd(fd), counter.address, 8);
  if (r < 0) {
    const e = errno();
    if (e === 11) return 0n;
    throw new SyscallError({ syscall: "read", command: "eventfd", errno: e });
  }
  return counter.view.getBigUint64(0, true);
}
