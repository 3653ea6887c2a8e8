/**
 * Tracepoints, raw tracepoints, BTF-typed tracing (tp_btf, fentry, fexit, fmod_ret), LSM and extensions.
 */
import { BpfAttachType, BpfProgType, type Fd, PerfTypeId } from "@ebpf/sys";
import { AttachError } from "../errors.js";
import { FdLink, type Link } from "../link.js";
import { Program } from "../program.js";
import { attachPerfEvent } from "./perf-link.js";
import { tracepointId } from "./tracefs.js";

/** Options of {@link TracePoint.attach}. */
export interface TracePointAttachOptions {
  /** bpf_get_attach_cookie() value (5.15+). */
  cookie?: bigint | number;
}

/**
 * A tracepoint program (`tracepoint/<category>/<name>`), attached through a perf event.
 *
 * @example
 * ```ts
 * using prog = TracePoint.load(spec);
 * using link = prog.attach("syscalls", "sys_enter_getpid");
 * ```
 */
export class TracePoint extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.TRACEPOINT];

  /** Attaches to tracepoint `category/name` (see /sys/kernel/tracing/events). */
  attach(category: string, name: string, options: TracePointAttachOptions = {}): Link {
    const id = tracepointId(category, name);
    const event = this.sys.perfEventOpen({
      attr: { type: PerfTypeId.TRACEPOINT, config: id, sample_period: 1, wakeup_events: 1 },
      pid: -1,
      cpu: 0,
    });
    return this.adopt(
      attachPerfEvent(this.sys, this.fd, event, `tracepoint ${category}/${name} "${this.name}"`, options),
    );
  }
}

/** A raw tracepoint program (`raw_tp/<name>`, or writable: `raw_tp.w/<name>`). */
export class RawTracePoint extends Program {
  static readonly programTypes: readonly number[] = [
    BpfProgType.RAW_TRACEPOINT,
    BpfProgType.RAW_TRACEPOINT_WRITABLE,
  ];

  /** Attaches to raw tracepoint `name` (e.g. `"sys_enter"`, `"sched_switch"`). */
  attach(name: string, options: { cookie?: bigint | number } = {}): Link {
    const fd = this.sys.rawTracepointOpen(name, this.fd, options.cookie);
    return this.adopt(new FdLink(fd, `raw_tp ${name} "${this.name}"`, this.sys));
  }
}

/**
 * BTF-typed tracing programs: `tp_btf/<tracepoint>`, `fentry/<func>`, `fexit/<func>`,
 * `fmod_ret/<func>`. The target is chosen at load (`attachTo`), so `attach()` takes no target.
 */
export class Tracing extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.TRACING];

  /** Attaches to the target given at load. */
  attach(options: { cookie?: bigint | number } = {}): Link {
    const at = this.expectedAttachType;
    let fd: Fd;
    if (options.cookie !== undefined && at !== undefined) {
      fd = this.sys.linkCreate({
        progFd: this.fd,
        attachType: at,
        extra: { "tracing.cookie": BigInt(options.cookie) },
      });
    } else {
      fd = this.sys.rawTracepointOpen(null, this.fd);
    }
    return this.adopt(new FdLink(fd, `${tracingKind(at)} ${this.attachTo ?? ""} "${this.name}"`, this.sys));
  }
}

function tracingKind(at: number | undefined): string {
  switch (at) {
    case BpfAttachType.TRACE_RAW_TP:
      return "tp_btf";
    case BpfAttachType.TRACE_FENTRY:
      return "fentry";
    case BpfAttachType.TRACE_FEXIT:
      return "fexit";
    case BpfAttachType.MODIFY_RETURN:
      return "fmod_ret";
    default:
      return "tracing";
  }
}

/** `tp_btf/<tracepoint>`: a raw tracepoint with typed arguments. */
export class BtfTracePoint extends Tracing {}
/** `fentry/<func>`: runs at a kernel function's entry. */
export class FEntry extends Tracing {}
/** `fexit/<func>`: runs at a kernel function's exit, with its return value. */
export class FExit extends Tracing {}
/** `fmod_ret/<func>`: may change an error-injectable function's return value. */
export class FModRet extends Tracing {}

/** `lsm/<hook>` (BPF LSM; `lsm_cgroup/<hook>` programs are {@link CgroupLsm}). */
export class Lsm extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.LSM];

  /** Attaches to the LSM hook given at load. */
  attach(): Link {
    if (this.expectedAttachType === BpfAttachType.LSM_CGROUP)
      throw new AttachError(`program "${this.name}" is lsm_cgroup: attach it to a cgroup with CgroupLsm`);
    const fd = this.sys.rawTracepointOpen(null, this.fd);
    return this.adopt(new FdLink(fd, `lsm ${this.attachTo ?? ""} "${this.name}"`, this.sys));
  }
}

/**
 * `freplace/<func>`: replaces a global function of another BPF program (loaded with `attachProgFd` and
 * `attachTo`/`attachBtfId`).
 */
export class Extension extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.EXT];

  /** Attaches in place of the function chosen at load, or of `btfId` in `target`. */
  attach(target?: { program: Program; btfId: number }): Link {
    const fd = target
      ? this.sys.linkCreate({
          progFd: this.fd,
          targetFd: target.program.fd,
          attachType: 0,
          targetBtfId: target.btfId,
        })
      : this.sys.rawTracepointOpen(null, this.fd);
    return this.adopt(new FdLink(fd, `freplace ${this.attachTo ?? ""} "${this.name}"`, this.sys));
  }
}
