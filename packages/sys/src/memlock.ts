/**
 * RLIMIT_MEMLOCK. Before 5.11 the kernel charges map and program memory to the memlock rlimit (8 MiB or
 * 64 KiB by default), so BPF_MAP_CREATE and BPF_PROG_LOAD fail with EPERM long before memory runs out.
 * libbpf raises the limit to infinity before loading; we do the same, lazily: the first such EPERM raises
 * the limit and the call is retried once (on 5.11+ the EPERM never comes, and nothing is changed).
 */
import { BpfCmd, LinuxDefines } from "./abi.generated.js";
import { Errno } from "./errno.js";
import { SyscallError } from "./errors.js";
import { addressOf, errno, libc } from "./libc.js";

const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

/** The current and maximum RLIMIT_MEMLOCK of this process, in bytes (`Infinity` for RLIM_INFINITY). */
export interface MemlockLimit {
  readonly current: number;
  readonly maximum: number;
}

function toBytes(v: bigint): number {
  return v === RLIM_INFINITY ? Number.POSITIVE_INFINITY : Number(v);
}

/**
 * Reads RLIMIT_MEMLOCK of this process.
 *
 * @example
 * ```ts
 * if (memlockLimit().current !== Infinity) console.log("BPF memory is capped on kernels before 5.11");
 * ```
 */
export function memlockLimit(): MemlockLimit {
  const buf = new BigUint64Array(2);
  if (libc().getrlimit(LinuxDefines.RLIMIT_MEMLOCK, addressOf(buf)) < 0)
    throw new SyscallError({ syscall: "getrlimit", errno: errno(), context: "RLIMIT_MEMLOCK" });
  return { current: toBytes(buf[0] as bigint), maximum: toBytes(buf[1] as bigint) };
}

/**
 * Raises RLIMIT_MEMLOCK to unlimited, as libbpf does before loading, so that kernels before 5.11 do not
 * refuse maps and programs with EPERM. Raising the hard limit needs CAP_SYS_RESOURCE; without it the soft
 * limit is raised as far as the hard limit allows. The loaders do this on their own when the kernel asks
 * for it; call it up front to do it eagerly.
 *
 * @returns `true` when the limit was changed, `false` when it was already as high as it can go
 * @throws {@link SyscallError} when setrlimit fails for another reason
 *
 * @example
 * ```ts
 * raiseMemlockLimit(); // like `ulimit -l unlimited` for this process
 * ```
 */
export function raiseMemlockLimit(): boolean {
  const { current, maximum } = memlockLimit();
  if (current === Number.POSITIVE_INFINITY && maximum === Number.POSITIVE_INFINITY) return false;
  const l = libc();
  const buf = new BigUint64Array([RLIM_INFINITY, RLIM_INFINITY]);
  if (l.setrlimit(LinuxDefines.RLIMIT_MEMLOCK, addressOf(buf)) === 0) return true;
  const e = errno();
  if (e !== Errno.EPERM)
    throw new SyscallError({ syscall: "setrlimit", errno: e, context: "RLIMIT_MEMLOCK" });
  // No CAP_SYS_RESOURCE: the soft limit may still go up to the hard one.
  if (current >= maximum) return false;
  buf[0] = maximum === Number.POSITIVE_INFINITY ? RLIM_INFINITY : BigInt(maximum);
  buf[1] = buf[0];
  if (l.setrlimit(LinuxDefines.RLIMIT_MEMLOCK, addressOf(buf)) < 0)
    throw new SyscallError({ syscall: "setrlimit", errno: errno(), context: "RLIMIT_MEMLOCK" });
  return true;
}

/** Commands whose memory pre-5.11 kernels charge to RLIMIT_MEMLOCK. */
const CHARGED = new Set<number>([BpfCmd.MAP_CREATE, BpfCmd.PROG_LOAD, BpfCmd.BTF_LOAD]);

/**
 * Whether a bpf() call that failed with EPERM should be retried: the command is charged to the memlock
 * limit and the limit could be raised just now. Raising happens at most once per process in practice
 * (afterwards the limit is infinite and this returns false), so real EPERMs are not retried twice.
 * @internal
 */
export function retryAfterMemlockRaise(cmd: number): boolean {
  if (!CHARGED.has(cmd)) return false;
  try {
    return raiseMemlockLimit();
  } catch {
    return false; // the caller reports the EPERM, whose hint says what to do
  }
}
