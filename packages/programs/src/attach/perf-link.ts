/**
 * Attaching a program to a perf event fd (tracepoint, kprobe/uprobe event, software/hardware counter):
 * a bpf_link of type perf_event (5.15+, carries a cookie), else PERF_EVENT_IOC_SET_BPF + ENABLE.
 */
import { BpfAttachType, Errno, type Fd, SyscallError, type Syscalls } from "@ebpf/sys";
import { CallbackLink, FdLink, type Link } from "../link.js";

/** Options of perf-event attachments (tracepoints, probes): cookie and cleanup. */
export interface PerfAttachOptions {
  /** bpf_get_attach_cookie() value (links only, 5.15+). */
  cookie?: bigint | number;
  /** Called after the attachment is gone (e.g. to remove a tracefs probe event). */
  cleanup?: () => void;
}

/**
 * Attaches `progFd` to the perf event `event` and takes ownership of `event`.
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
    // Kernels before 5.15 have no perf_event links (EINVAL): use the ioctl.
    if (!(e instanceof SyscallError && e.errno === Errno.EINVAL) || options.cookie !== undefined) {
      event.close();
      cleanup();
      throw e;
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
  return new CallbackLink(`${description} (perf ioctl)`, () => {
    try {
      sys.perfEventDisable(event);
    } finally {
      event.close();
      cleanup();
    }
  });
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
