/**
 * The bpf() system call itself: one shared attr block, zeroed per call up to the size passed (the kernel's
 * CHECK_ATTR refuses non-zero bytes past the last field a command uses), errno read right after the call.
 * @internal
 */
import type { FieldLayout, StructLayout } from "./abi.generated.js";
import { BpfAttr, BpfCmd } from "./abi.generated.js";
import { put, Scratch } from "./attr.js";
import { Errno } from "./errno.js";
import { InvalidArgumentError, SyscallError } from "./errors.js";
import { Fd } from "./fd.js";
import { addressOf, errno, libc } from "./libc.js";
import { retryAfterMemlockRaise } from "./memlock.js";

const cmdNames = new Map<number, string>(Object.entries(BpfCmd).map(([k, v]) => [v, `BPF_${k}`]));

/** The name of a bpf command number, e.g. `bpfCmdName(0) === "BPF_MAP_CREATE"`. */
export function bpfCmdName(cmd: number): string {
  return cmdNames.get(cmd) ?? `bpf command ${cmd}`;
}

let shared: Scratch | undefined;
/** The process-wide attr block for non-hot commands (all calls are synchronous, so one suffices). */
export function sharedAttr(): Scratch {
  shared ??= new Scratch(Math.max(BpfAttr.byteSize, 256));
  return shared;
}

/** Values for the fields of an attr, by generated field name; `undefined` leaves a field zero. */
export type AttrValues = Record<string, number | bigint | undefined>;

/**
 * Zeroes the shared attr for `layout` and writes `values` into it. Throws if a name is not a field of
 * `layout` (a bug, or an ABI file generated from a kernel that lacks the field).
 */
export function fillAttr(layout: StructLayout, values: AttrValues): Scratch {
  const s = sharedAttr();
  s.bytes.fill(0, 0, layout.byteSize);
  const fields = layout.fields as Record<string, FieldLayout>;
  for (const name in values) {
    const v = values[name];
    if (v === undefined) continue;
    const f = fields[name];
    if (!f) throw new InvalidArgumentError(`attr has no field "${name}" in this ABI`);
    put(s.view, f, v);
  }
  return s;
}

/**
 * Calls bpf(cmd, attr, size): the result, or -errno. Never throws. An EPERM from a command that kernels
 * before 5.11 charge to RLIMIT_MEMLOCK raises that limit (as libbpf does) and retries once.
 */
export function bpfRaw(cmd: number, attrAddress: number, size: number): number {
  const l = libc();
  const r = l.syscall3(l.nr.bpf, cmd, attrAddress, size);
  if (r >= 0) return r;
  const e = errno();
  if (e === Errno.EPERM && retryAfterMemlockRaise(cmd)) return bpfRaw(cmd, attrAddress, size);
  return -e;
}

/** bpf() on the shared attr with `layout.byteSize`; throws {@link SyscallError}, returns the result. */
export function bpfCall(cmd: number, layout: StructLayout, context?: string): number {
  const r = bpfRaw(cmd, sharedAttr().address, layout.byteSize);
  if (r < 0) throw new SyscallError({ syscall: "bpf", command: bpfCmdName(cmd), errno: -r, context });
  return r;
}

/** bpf() that returns a new fd, owned. */
export function bpfFd(cmd: number, layout: StructLayout, kind: string, context?: string): Fd {
  return new Fd(bpfCall(cmd, layout, context), kind);
}

/**
 * bpf() with a caller-built attr: the escape hatch for commands or fields this package does not wrap.
 * Returns the syscall's result (an fd number for fd-creating commands: wrap it in {@link Fd}).
 *
 * @param cmd - a {@link BpfCmd} value
 * @param attr - the attr bytes; the kernel reads `size` of them
 * @param size - defaults to `attr.byteLength`
 * @throws {@link SyscallError} when the kernel refuses; {@link InvalidArgumentError} when size > attr length
 *
 * @example
 * ```ts
 * const attr = new Uint8Array(MapElemAttr.byteSize);
 * // ...fill it using MapElemAttr.fields...
 * bpf(BpfCmd.MAP_FREEZE, attr);
 * ```
 */
export function bpf(cmd: number, attr: Uint8Array, size: number = attr.byteLength): number {
  if (!Number.isInteger(size) || size < 0 || size > attr.byteLength)
    throw new InvalidArgumentError(`attr size ${size} does not fit the ${attr.byteLength}-byte attr`);
  const s = sharedAttr();
  // Copy into scratch so the address is stable and the tail beyond `size` is never read by accident.
  if (size <= s.bytes.byteLength) {
    s.bytes.set(attr.subarray(0, size));
    const r = bpfRaw(cmd, s.address, size);
    attr.set(s.bytes.subarray(0, size));
    if (r < 0) throw new SyscallError({ syscall: "bpf", command: bpfCmdName(cmd), errno: -r });
    return r;
  }
  const r = bpfRaw(cmd, addressOf(attr), size);
  if (r < 0) throw new SyscallError({ syscall: "bpf", command: bpfCmdName(cmd), errno: -r });
  return r;
}
