/**
 * setsockopt(2) with an integer value, for attaching BPF programs to sockets (SO_ATTACH_BPF,
 * SO_ATTACH_REUSEPORT_EBPF). Added by @ebpf/programs (socket filters, sk_reuseport).
 */
import { Scratch } from "./attr.js";
import { SyscallError } from "./errors.js";
import { type Fd, rawFd } from "./fd.js";
import { errno, libc } from "./libc.js";

/**
 * Socket option numbers for BPF (asm-generic/socket.h: x86-64 and arm64; alpha, mips, parisc and sparc
 * use other values and are not supported by this package).
 */
export const SocketOptions = {
  SOL_SOCKET: 1,
  SO_DETACH_FILTER: 27,
  SO_ATTACH_BPF: 50,
  SO_DETACH_BPF: 27,
  SO_ATTACH_REUSEPORT_EBPF: 52,
  SO_DETACH_REUSEPORT_BPF: 68,
} as const;

let scratch: Scratch | undefined;

/**
 * setsockopt(fd, level, name, &value, 4) with a 32-bit integer value (an fd for SO_ATTACH_BPF).
 *
 * @example
 * ```ts
 * setSockOptInt(sock, SocketOptions.SOL_SOCKET, SocketOptions.SO_ATTACH_BPF, prog.fd.raw);
 * ```
 */
export function setSockOptInt(fd: Fd | number, level: number, name: number, value: number): void {
  scratch ??= new Scratch(8);
  scratch.view.setInt32(0, value, true);
  if (libc().setsockopt(rawFd(fd), level, name, scratch.address, 4) < 0)
    throw new SyscallError({ syscall: "setsockopt", command: optionName(name), errno: errno() });
}

function optionName(name: number): string {
  const e = Object.entries(SocketOptions).find(([k, v]) => v === name && k.startsWith("SO_"));
  return e ? e[0] : `option ${name}`;
}
