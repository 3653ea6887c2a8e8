/**
 * The attach calls that pass pointers to strings or arrays: perf_event_open on the kprobe/uprobe PMUs
 * (the function name or binary path in config1) and LINK_CREATE for uprobe_multi/kprobe_multi. Added by
 * @ebpf/programs; addresses never leave this package.
 */
import { readFileSync } from "node:fs";
import { BpfAttachType, BpfLinkType } from "./abi.generated.js";
import { cString } from "./attr.js";
import { Errno } from "./errno.js";
import { NotSupportedError, SyscallError } from "./errors.js";
import type { Fd } from "./fd.js";
import { addressOf } from "./libc.js";
import { linkCreate } from "./link.js";
import { perfEventOpen } from "./perf.js";
import { haveLinkType } from "./probes.js";

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
