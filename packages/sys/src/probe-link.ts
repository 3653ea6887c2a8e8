/**
 * The attach calls that pass pointers to strings or arrays: perf_event_open on the kprobe/uprobe PMUs
 * (the function name or binary path in config1) and LINK_CREATE for uprobe_multi/kprobe_multi. Added by
 * @ebpf/programs; addresses never leave this package.
 */
import { readFileSync } from "node:fs";
import { BpfAttachType, BpfFlags, BpfLinkType } from "./abi.generated.js";
import { cString } from "./attr.js";
import { Errno } from "./errno.js";
import { InvalidArgumentError, NotSupportedError, SyscallError } from "./errors.js";
import type { Fd } from "./fd.js";
import { addressOf } from "./libc.js";
import { linkCreate } from "./link.js";
import { perfEventOpen } from "./perf.js";
import { haveKprobeMultiLink, haveLinkType, kprobeMultiLinkMissing } from "./probes.js";
import type { Syscalls } from "./syscalls.js";

/** A dynamic PMU of /sys/bus/event_source/devices: its type and the config bit that makes a retprobe. */
export interface ProbePmu {
  type: number;
  retprobeBit: number;
}

/** The `kprobe` or `uprobe` PMU, or undefined when the kernel has none (no CONFIG_KPROBES/UPROBES). */
export function probePmu(kind: "kprobe" | "uprobe"): ProbePmu | undefined {
  const dir = `/sys/bus/event_source/devices/${kind}`;
  try {
    const type = Number(readFileSync(`${dir}/type`, "utf8").trim());
    const fmt = readFileSync(`${dir}/format/retprobe`, "utf8").trim(); // "config:0"
    const m = /^config:(\d+)$/.exec(fmt);
    return { type, retprobeBit: m ? Number(m[1]) : 0 };
  } catch {
    return undefined;
  }
}

/** Options of {@link perfEventOpenProbe}. */
export interface ProbeEventOptions {
  kind: "kprobe" | "uprobe";
  /** Kernel function (kprobe) or absolute path of the binary (uprobe). */
  target: string;
  /** Offset into the function (kprobe) or file offset (uprobe). */
  offset: number | bigint;
  retprobe?: boolean;
  /** Process to probe (uprobes), -1 for all. */
  pid?: number;
  /** uprobes: the reference counter (USDT semaphore) offset. */
  refCtrOffset?: number;
}

/**
 * perf_event_open on the kprobe/uprobe PMU: a probe that exists while the returned fd does.
 * @throws NotSupportedError when the PMU is missing
 */
export function perfEventOpenProbe(options: ProbeEventOptions): Fd {
  const pmu = probePmu(options.kind);
  if (!pmu)
    throw new NotSupportedError({ feature: `${options.kind} PMU (perf_event_open ${options.kind}s)` });
  const name = cString(options.target);
  let config = options.retprobe ? 1n << BigInt(pmu.retprobeBit) : 0n;
  if (options.refCtrOffset) config |= BigInt(options.refCtrOffset) << 32n;
  const pid = options.pid ?? -1;
  return perfEventOpen({
    attr: {
      type: pmu.type,
      config,
      config1: addressOf(name),
      config2: BigInt(options.offset),
      sample_period: 1,
      wakeup_events: 1,
    },
    pid,
    cpu: pid === -1 ? 0 : -1,
  });
}

/** Options of {@link uprobeMultiLinkCreate}. */
export interface UprobeMultiOptions {
  progFd: Fd | number;
  /** Absolute path of the binary. */
  path: string;
  /** File offsets to probe. */
  offsets: readonly number[];
  /** One cookie per offset. */
  cookies?: readonly (number | bigint)[];
  /** `BPF_F_UPROBE_MULTI_RETURN` for uretprobes. */
  flags?: number;
  /** Only this process (0: all). */
  pid?: number;
}

/**
 * LINK_CREATE with a uprobe_multi link (6.6+): many uprobes of one binary in one link.
 * @throws NotSupportedError (minKernel 6.6) when the kernel has no uprobe_multi links
 */
export function uprobeMultiLinkCreate(o: UprobeMultiOptions): Fd {
  const path = cString(o.path);
  const offsets = BigUint64Array.from(o.offsets, (x) => BigInt(x));
  const cookies = o.cookies ? BigUint64Array.from(o.cookies, (x) => BigInt(x)) : undefined;
  try {
    return createUprobeMulti(o, path, offsets, cookies);
  } catch (e) {
    // EINVAL is also a bad offset or flag: only the probe tells a missing link type apart.
    if (e instanceof SyscallError && e.errno === Errno.EINVAL && !haveLinkType(BpfLinkType.UPROBE_MULTI))
      throw new NotSupportedError({ feature: "uprobe_multi links", minKernel: "6.6", cause: e });
    throw e;
  }
}

function createUprobeMulti(
  o: UprobeMultiOptions,
  path: Uint8Array,
  offsets: BigUint64Array,
  cookies: BigUint64Array | undefined,
): Fd {
  return linkCreate({
    progFd: o.progFd,
    attachType: BpfAttachType.TRACE_UPROBE_MULTI,
    extra: {
      "uprobe_multi.path": addressOf(path),
      "uprobe_multi.offsets": addressOf(offsets),
      "uprobe_multi.cookies": cookies ? addressOf(cookies) : undefined,
      "uprobe_multi.cnt": o.offsets.length,
      "uprobe_multi.flags": o.flags,
      "uprobe_multi.pid": o.pid,
    },
  });
}

/** Options of {@link kprobeMultiLinkCreate}: `symbols` or `addresses`, not both. */
export interface KprobeMultiOptions {
  /** A program loaded with expected attach type `TRACE_KPROBE_MULTI`. */
  progFd: Fd | number;
  /** Kernel function names as kallsyms spells them (traceable ones: see `available_filter_functions`). */
  symbols?: readonly string[];
  /** Function entry addresses instead of names (as in `available_filter_functions_addrs`). */
  addresses?: readonly (number | bigint)[];
  /** bpf_get_attach_cookie() values, one per symbol/address, in the same order. */
  cookies?: readonly (number | bigint)[];
  /** `BPF_F_KPROBE_MULTI_RETURN`: fire at function return (kretprobe.multi). */
  retprobe?: boolean;
}

/**
 * LINK_CREATE with a kprobe_multi link (5.18, fprobe-based: the kernel needs CONFIG_FPROBE): one program
 * on the entry (or return) of many kernel functions at once, like libbpf's
 * `bpf_program__attach_kprobe_multi_opts` and cilium/ebpf's `link.KprobeMulti`.
 *
 * @example
 * ```ts
 * using link = kprobeMultiLinkCreate({ progFd: prog, symbols: ["do_sys_openat2", "vfs_read"], cookies: [1, 2] });
 * ```
 * @throws InvalidArgumentError for neither or both of `symbols`/`addresses`, or cookies of another length
 * @throws NotSupportedError (minKernel 5.18) when the kernel has no kprobe_multi links (older, or built
 *   without CONFIG_FPROBE: then the feature names it)
 * @throws SyscallError ESRCH when a symbol is not in kallsyms or cannot be traced (EINVAL on 5.18)
 */
export function kprobeMultiLinkCreate(
  o: KprobeMultiOptions,
  sys: Pick<Syscalls, "linkCreate"> = { linkCreate },
): Fd {
  const nSyms = o.symbols?.length ?? 0;
  const nAddrs = o.addresses?.length ?? 0;
  if (nSyms === 0 && nAddrs === 0)
    throw new InvalidArgumentError("kprobe_multi needs at least one symbol or address");
  if (nSyms > 0 && nAddrs > 0)
    throw new InvalidArgumentError("kprobe_multi takes symbols or addresses, not both");
  const cnt = nSyms || nAddrs;
  if (o.cookies && o.cookies.length !== cnt)
    throw new InvalidArgumentError(
      `kprobe_multi: ${o.cookies.length} cookies for ${cnt} ${nSyms ? "symbols" : "addresses"}`,
    );
  // The strings stay reachable (an argument of the call) until the kernel has copied them.
  const strings = (o.symbols ?? []).map((s) => cString(s));
  const addrs = nAddrs ? BigUint64Array.from(o.addresses ?? [], (x) => BigInt(x)) : undefined;
  const cookies = o.cookies ? BigUint64Array.from(o.cookies, (x) => BigInt(x)) : undefined;
  try {
    return createKprobeMulti(sys, o, cnt, strings, addrs, cookies);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    if (e.errno === Errno.ESRCH)
      throw new SyscallError({
        syscall: e.syscall,
        command: e.command,
        errno: e.errno,
        context:
          "kprobe_multi: a function is not in kallsyms or cannot be traced (see available_filter_functions)",
        cause: e,
      });
    // EINVAL is also a bad flag, a missing symbol (5.18) or a program not loaded for kprobe_multi: only the
    // probe tells a kernel without the link type apart.
    let have = true;
    try {
      have = haveKprobeMultiLink();
    } catch {
      // the probe itself was refused (EPERM): report the call's own error
    }
    if (!have) throw kprobeMultiNotSupported(e);
    if (e.errno === Errno.EINVAL)
      throw new SyscallError({
        syscall: e.syscall,
        command: e.command,
        errno: e.errno,
        context:
          "kprobe_multi: a function not found (5.18), or the program was not loaded with expected attach type TRACE_KPROBE_MULTI",
        cause: e,
      });
    throw e;
  }
}

function createKprobeMulti(
  sys: Pick<Syscalls, "linkCreate">,
  o: KprobeMultiOptions,
  cnt: number,
  strings: readonly Uint8Array[],
  addrs: BigUint64Array | undefined,
  cookies: BigUint64Array | undefined,
): Fd {
  const syms = strings.length ? BigUint64Array.from(strings, (s) => BigInt(addressOf(s))) : undefined;
  return sys.linkCreate({
    progFd: o.progFd,
    attachType: BpfAttachType.TRACE_KPROBE_MULTI,
    extra: {
      "kprobe_multi.flags": o.retprobe ? BpfFlags.BPF_F_KPROBE_MULTI_RETURN : 0,
      "kprobe_multi.cnt": cnt,
      "kprobe_multi.syms": syms ? addressOf(syms) : undefined,
      "kprobe_multi.addrs": addrs ? addressOf(addrs) : undefined,
      "kprobe_multi.cookies": cookies ? addressOf(cookies) : undefined,
    },
  });
}

/**
 * The NotSupportedError of a kernel without kprobe_multi links: older than 5.18, or (EOPNOTSUPP) built
 * without CONFIG_FPROBE, which the feature then names.
 */
export function kprobeMultiNotSupported(cause?: unknown): NotSupportedError {
  const why = kprobeMultiLinkMissing();
  return new NotSupportedError({
    feature: `kprobe_multi links${why ? ` (${why})` : ""}`,
    minKernel: "5.18",
    cause,
  });
}
