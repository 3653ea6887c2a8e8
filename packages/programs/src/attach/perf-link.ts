/**
 * Attaching a program to a perf event fd (tracepoint, kprobe/uprobe event, software/hardware counter):
 * a bpf_link of type perf_event (5.15+, carries a cookie), else PERF_EVENT_IOC_SET_BPF + ENABLE.
 */
import {
  BpfAttachType,
  BpfLinkType,
  Errno,
  type Fd,
  haveLinkType,
  kernelSyscalls,
  NotSupportedError,
  SyscallError,
  type Syscalls,
} from "@ebpf/sys";
import { FdLink, Link } from "../link.js";
import type { Program } from "../program.js";

/** The first kernel with perf_event bpf_links (and so attach cookies on perf events). */
const PERF_LINK_MIN_KERNEL = "5.15";

/** Options of perf-event attachments (tracepoints, probes): cookie and cleanup. */
export interface PerfAttachOptions {
  /** bpf_get_attach_cookie() value (links only, 5.15+). */
  cookie?: bigint | number;
  /** Called after the attachment is gone (e.g. to remove a tracefs probe event). */
  cleanup?: () => void;
}

/** Whether `sys` refused LINK_CREATE(perf_event) because the kernel has no such link type. */
function lacksPerfLinks(sys: Syscalls, e: unknown): boolean {
  if (!(e instanceof SyscallError && e.errno === Errno.EINVAL)) return false;
  // EINVAL has other causes (a program type the event does not take): ask the probe where it can be asked.
  if (sys !== kernelSyscalls) return true;
  try {
    return !haveLinkType(BpfLinkType.PERF_EVENT);
  } catch {
    return false;
  }
}

/**
 * Attaches `progFd` to the perf event `event` and takes ownership of `event`.
 * @throws NotSupportedError for a cookie on a kernel without perf_event links (before 5.15)
 * @internal
 */
export function attachPerfEvent(
  sys: Syscalls,
  progFd: Fd,
  event: Fd,
  description: string,
  options: PerfAttachOptions = {},
): Link {
  const cleanup = options.cleanup ?? (() => {});
  try {
    const link = sys.linkCreate({
      progFd,
      targetFd: event,
      attachType: BpfAttachType.PERF_EVENT,
      extra: options.cookie !== undefined ? { "perf_event.bpf_cookie": BigInt(options.cookie) } : undefined,
    });
    return new PerfFdLink(link, event, `${description} (perf link)`, sys, cleanup);
  } catch (e) {
    // Kernels before 5.15 have no perf_event links (EINVAL): use the ioctl, which has no cookie.
    const legacy = lacksPerfLinks(sys, e);
    if (!legacy || options.cookie !== undefined) {
      event.close();
      cleanup();
      if (!legacy) throw e;
      throw new NotSupportedError({
        feature: `an attach cookie for ${description} (perf_event bpf_link)`,
        minKernel: PERF_LINK_MIN_KERNEL,
        cause: e,
      });
    }
  }
  try {
    sys.perfEventSetBpf(event, progFd);
    sys.perfEventEnable(event);
  } catch (e) {
    event.close();
    cleanup();
    throw e;
  }
  return new PerfEventIoctlLink(`${description} (perf ioctl)`, sys, event, cleanup);
}

/** A perf_event bpf_link that also owns the perf event fd (and a probe event to remove). */
class PerfFdLink extends FdLink {
  readonly #event: Fd;
  readonly #cleanup: () => void;

  constructor(link: Fd, event: Fd, description: string, sys: Syscalls, cleanup: () => void) {
    super(link, description, sys);
    this.#event = event;
    this.#cleanup = cleanup;
  }

  protected override doDetach(): void {
    try {
      super.doDetach();
    } finally {
      this.#event.close();
      this.#cleanup();
    }
  }

  protected override doRelease(): void {
    // Pinned: the link keeps the perf event (and so the probe) alive; only our fds go.
    super.doRelease();
    this.#event.close();
  }
}

/**
 * A program attached to a perf event with `PERF_EVENT_IOC_SET_BPF`: what tracepoints, kprobes, uprobes
 * and perf counters get on kernels without perf_event bpf_links (before 5.15). The attachment lives as
 * long as the perf event fd, which this object owns, so it cannot outlive the process: it has the
 * {@link FdLink} methods, but `pin`, `update` and `info` throw {@link NotSupportedError} (minKernel 5.15),
 * as cilium/ebpf's ioctl-based perf links do. `detach()`/`close()` disable the event and close it.
 *
 * @example
 * ```ts
 * const link = prog.attach("syscalls", "sys_enter_getpid");
 * if (link instanceof PerfEventIoctlLink) console.log("no bpf_link: cannot pin", link.perfEvent.raw);
 * ```
 */
export class PerfEventIoctlLink extends Link {
  readonly description: string;
  /** The perf event fd the program is attached to (owned by this link). */
  readonly perfEvent: Fd;
  readonly #sys: Syscalls;
  readonly #cleanup: () => void;

  /** @internal */
  constructor(description: string, sys: Syscalls, event: Fd, cleanup: () => void = () => {}) {
    super();
    this.description = description;
    this.#sys = sys;
    this.perfEvent = event;
    this.#cleanup = cleanup;
  }

  /** Always false: the attachment ends with the perf event fd. */
  get persistent(): boolean {
    return false;
  }

  /** Always undefined: an ioctl attachment cannot be pinned. */
  get pinnedAt(): string | undefined {
    return undefined;
  }

  #unsupported(what: string): NotSupportedError {
    return new NotSupportedError({
      feature: `${what} of a perf event attachment without a bpf_link (${this.description})`,
      minKernel: PERF_LINK_MIN_KERNEL,
    });
  }

  /** @throws NotSupportedError always: pinning needs a perf_event bpf_link (5.15+) */
  pin(_path: string): never {
    throw this.#unsupported("pinning");
  }

  /** Nothing to do: an ioctl attachment is never pinned. */
  unpin(): void {}

  /** @throws NotSupportedError always: the kernel cannot swap the program of a perf event */
  update(_program: Program, _expected?: Program): never {
    throw this.#unsupported("replacing the program");
  }

  /** @throws NotSupportedError always: there is no link object for the kernel to describe */
  info(): never {
    throw this.#unsupported("link info");
  }

  protected doDetach(): void {
    try {
      this.#sys.perfEventDisable(this.perfEvent);
    } finally {
      this.perfEvent.close();
      this.#cleanup();
    }
  }
}
