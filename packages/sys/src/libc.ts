/**
 * The koffi bindings: every native function @ebpf/sys calls, declared once with fixed arity (variadic
 * declarations cost ~300 ns more per call). Pointers cross as numbers (addresses from `koffi.address()`),
 * so a hot path can take an address once and reuse it. Loaded lazily, on first use.
 *
 * Only this package imports koffi; nothing above it should.
 * @internal
 */
import koffi, { type KoffiFunc } from "koffi";
import { SyscallNumbers } from "./abi.generated.js";

/** The native functions. All pointer parameters are addresses (numbers). @internal */
export interface Libc {
  /** syscall(nr, a, b, c): bpf(cmd, attr, size). */
  syscall3: (nr: number, a: number, b: number, c: number) => number;
  /** syscall(nr, attr, pid, cpu, group_fd, flags): perf_event_open. */
  syscall5: (nr: number, a: number, b: number, c: number, d: number, e: number) => number;
  close: (fd: number) => number;
  ioctl: (fd: number, request: number, arg: number) => number;
  fcntl: (fd: number, cmd: number, arg: number) => number;
  mmap: (addr: number, len: number, prot: number, flags: number, fd: number, offset: number) => number;
  munmap: (addr: number, len: number) => number;
  epoll_create1: (flags: number) => number;
  epoll_ctl: (epfd: number, op: number, fd: number, event: number) => number;
  /** Has `.async(epfd, events, max, timeout, cb)` for the poller's threadpool wait. */
  epoll_wait: KoffiFunc<(epfd: number, events: number, max: number, timeout: number) => number>;
  eventfd: (initval: number, flags: number) => number;
  read: (fd: number, buf: number, len: number) => number;
  write: (fd: number, buf: number, len: number) => number;
  uname: (buf: number) => number;
  sysconf: (name: number) => number;
  /** getrlimit/setrlimit(resource, struct rlimit *): two u64s, cur then max. */
  getrlimit: (resource: number, rlim: number) => number;
  setrlimit: (resource: number, rlim: number) => number;
  socket: (domain: number, type: number, protocol: number) => number;
  bind: (fd: number, addr: number, len: number) => number;
  setsockopt: (fd: number, level: number, name: number, value: number, len: number) => number;
  sendto: (fd: number, buf: number, len: number, flags: number, addr: number, addrlen: number) => number;
  recv: (fd: number, buf: number, len: number, flags: number) => number;
  /** Syscall numbers for this architecture. */
  nr: { readonly bpf: number; readonly perf_event_open: number };
}

let cached: Libc | undefined;
let faulty: Libc | undefined;

/**
 * Decides whether a native call fails: return an errno to make it fail (returning -1 with that errno,
 * without calling), or 0 to let it through. `name` is the function (`"bpf"` and `"perf_event_open"` for
 * the syscalls); `args` its arguments (for bpf: `[cmd, attr, size]`). close and munmap are never faulted.
 */
export type FaultInjector = (name: string, args: readonly number[]) => number;
let injector: FaultInjector | undefined;

/**
 * Installs (or, with undefined, removes) a fault injector for every native call of this package. For
 * fault-injection tests only.
 * @internal
 */
export function setFaultInjector(f: FaultInjector | undefined): void {
  injector = f;
  faulty = undefined;
}

function withFaults(real: Libc): Libc {
  const wrapped: Record<string, unknown> = { ...real };
  for (const [key, fn] of Object.entries(real)) {
    if (typeof fn !== "function" || key === "close" || key === "munmap") continue;
    const call = fn as (...a: number[]) => number;
    wrapped[key] = (...args: number[]) => {
      let name = key;
      let rest = args;
      if (key === "syscall3" || key === "syscall5") {
        name =
          args[0] === real.nr.bpf ? "bpf" : args[0] === real.nr.perf_event_open ? "perf_event_open" : key;
        rest = args.slice(1);
      }
      const e = injector?.(name, rest) ?? 0;
      if (e) {
        koffi.errno(e);
        return -1;
      }
      return call(...args);
    };
  }
  const realWait = real.epoll_wait;
  const wait = wrapped.epoll_wait as Record<string, unknown>;
  wait.async = (...args: unknown[]) => {
    const cb = args[args.length - 1] as (err: unknown, r: number) => void;
    const e = injector?.("epoll_wait", args.slice(0, -1) as number[]) ?? 0;
    if (!e) return (realWait.async as (...a: unknown[]) => void)(...args);
    setImmediate(() => {
      koffi.errno(e);
      cb(null, -1);
    });
  };
  return wrapped as unknown as Libc;
}

/** The bindings, loaded on first call. Throws on a platform without glibc or an unknown architecture. */
export function libc(): Libc {
  if (injector) {
    faulty ??= withFaults(loadLibc());
    return faulty;
  }
  return cached ?? loadLibc();
}

function loadLibc(): Libc {
  if (cached) return cached;
  const nr = SyscallNumbers[process.arch];
  if (process.platform !== "linux" || !nr) {
    throw new Error(`@ebpf/sys needs Linux on x64 or arm64 (this is ${process.platform}/${process.arch})`);
  }
  const lib = koffi.load("libc.so.6");
  const f = (name: string, ret: string, params: string[]) => lib.func(name, ret, params);
  cached = {
    syscall3: f("syscall", "long", ["long", "long", "uint64_t", "uint64_t"]) as Libc["syscall3"],
    syscall5: f("syscall", "long", [
      "long",
      "uint64_t",
      "long",
      "long",
      "long",
      "uint64_t",
    ]) as Libc["syscall5"],
    close: f("close", "int", ["int"]) as Libc["close"],
    ioctl: f("ioctl", "int", ["int", "ulong", "uint64_t"]) as Libc["ioctl"],
    fcntl: f("fcntl", "int", ["int", "int", "long"]) as Libc["fcntl"],
    mmap: f("mmap", "intptr_t", ["uintptr_t", "size_t", "int", "int", "int", "int64_t"]) as Libc["mmap"],
    munmap: f("munmap", "int", ["uintptr_t", "size_t"]) as Libc["munmap"],
    epoll_create1: f("epoll_create1", "int", ["int"]) as Libc["epoll_create1"],
    epoll_ctl: f("epoll_ctl", "int", ["int", "int", "int", "uintptr_t"]) as Libc["epoll_ctl"],
    epoll_wait: f("epoll_wait", "int", ["int", "uintptr_t", "int", "int"]) as Libc["epoll_wait"],
    eventfd: f("eventfd", "int", ["uint", "int"]) as Libc["eventfd"],
    read: f("read", "long", ["int", "uintptr_t", "size_t"]) as Libc["read"],
    write: f("write", "long", ["int", "uintptr_t", "size_t"]) as Libc["write"],
    uname: f("uname", "int", ["uintptr_t"]) as Libc["uname"],
    sysconf: f("sysconf", "long", ["int"]) as Libc["sysconf"],
    getrlimit: f("getrlimit", "int", ["int", "uintptr_t"]) as Libc["getrlimit"],
    setrlimit: f("setrlimit", "int", ["int", "uintptr_t"]) as Libc["setrlimit"],
    socket: f("socket", "int", ["int", "int", "int"]) as Libc["socket"],
    bind: f("bind", "int", ["int", "uintptr_t", "uint32_t"]) as Libc["bind"],
    setsockopt: f("setsockopt", "int", ["int", "int", "int", "uintptr_t", "uint32_t"]) as Libc["setsockopt"],
    sendto: f("sendto", "long", [
      "int",
      "uintptr_t",
      "size_t",
      "int",
      "uintptr_t",
      "uint32_t",
    ]) as Libc["sendto"],
    recv: f("recv", "long", ["int", "uintptr_t", "size_t", "int"]) as Libc["recv"],
    nr,
  };
  return cached;
}

/** errno of the last call on this thread; read it immediately after the call. @internal */
export function errno(): number {
  return koffi.errno();
}

/**
 * The address of the memory behind a typed array (or 0 for an empty one). Takes ~70 ns: hot paths take it
 * once. The array must stay reachable while the kernel uses the address.
 * @internal
 */
export function addressOf(bytes: ArrayBufferView | ArrayBuffer): number {
  if (bytes.byteLength === 0) return 0;
  return Number(koffi.address(bytes as unknown as Uint8Array));
}

/**
 * A zero-copy ArrayBuffer over native memory (e.g. an mmap'd region). Touching it after the memory is
 * unmapped crashes the process: only {@link Mapping} hands these out. @internal
 */
export function viewOf(address: number, length: number): ArrayBuffer {
  return koffi.view(address, length);
}
