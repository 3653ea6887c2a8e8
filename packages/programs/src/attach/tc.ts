/**
 * TC classifiers: tcx links (6.6+) with before/after ordering, or on older kernels a `bpf` filter on the
 * clsact qdisc through netlink. The netlink fallback adds the clsact qdisc when the device has none and
 * removes it again on detach if it created it (and no other filter is left on it).
 */
import {
  BpfAttachType,
  BpfFlags,
  BpfLinkType,
  BpfProgType,
  Errno,
  haveLinkType,
  NotSupportedError,
  SyscallError,
  type TcDirection,
  tcClsactAdd,
  tcClsactDelete,
  tcFilterAttach,
  tcFilterDetach,
  tcFilterList,
} from "@ebpf/sys";
import { AttachError } from "../errors.js";
import { CallbackLink, FdLink, type Link } from "../link.js";
import { Program } from "../program.js";
import { ifaceLabel, ifindexOf, type NetworkInterface, unlessDeviceGone } from "./netdev.js";

/** Where in a tcx chain to insert: relative to a program or a link already attached. */
export type TcxAnchor = { before: Program | FdLink } | { after: Program | FdLink };

/** Options of {@link SchedClassifier.attach}. */
export interface TcAttachOptions {
  /** `ingress` (default) or `egress`. */
  direction?: TcDirection;
  /**
   * tcx ordering: run before or after a given program/link (default: appended last). Needs tcx links
   * (6.6+): NotSupportedError before.
   */
  anchor?: TcxAnchor;
  /** Attach only if the chain is still at this revision (tcx). */
  expectedRevision?: number;
  /** Force the netlink clsact filter even where tcx exists. */
  netlink?: boolean;
  /** Netlink only: filter priority (default 1) and handle (default 1). */
  priority?: number;
  handle?: number;
}

/**
 * A TC classifier (SCHED_CLS) program, run with direct action: its return value is the verdict.
 *
 * @example
 * ```ts
 * using prog = SchedClassifier.load(spec);
 * using first = prog.attach("eth0", { direction: "ingress" });
 * using before = other.attach("eth0", { anchor: { before: first } });
 * ```
 */
export class SchedClassifier extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.SCHED_CLS, BpfProgType.SCHED_ACT];

  /** Attaches to an interface's ingress or egress. */
  attach(iface: NetworkInterface, options: TcAttachOptions = {}): Link {
    const ifindex = ifindexOf(iface);
    const direction = options.direction ?? "ingress";
    const where = `tc ${direction} "${this.name}" on ${ifaceLabel(iface)}`;
    if (!options.netlink && haveLinkType(BpfLinkType.TCX)) {
      let flags = 0;
      let relative: number | undefined;
      const a = options.anchor;
      if (a) {
        const target = "before" in a ? a.before : a.after;
        flags |= "before" in a ? BpfFlags.BPF_F_BEFORE : BpfFlags.BPF_F_AFTER;
        if (target instanceof FdLink) flags |= BpfFlags.BPF_F_LINK;
        relative = target.fd.raw;
      }
      const fd = this.sys.linkCreate({
        progFd: this.fd,
        targetIfindex: ifindex,
        attachType: direction === "ingress" ? BpfAttachType.TCX_INGRESS : BpfAttachType.TCX_EGRESS,
        flags,
        extra: {
          "tcx.relative_fd": relative,
          "tcx.expected_revision": options.expectedRevision,
        },
      });
      return this.adopt(new FdLink(fd, `${where} (tcx)`, this.sys));
    }
    if (options.anchor) {
      if (options.netlink)
        throw new AttachError(`${where}: before/after ordering needs tcx, not the netlink filter`, {
          code: "ERR_EBPF_ATTACH_TARGET",
        });
      throw new NotSupportedError({
        feature: `${where}: before/after ordering (tcx links)`,
        minKernel: "6.6",
      });
    }
    const priority = options.priority ?? 1;
    const handle = options.handle ?? 1;
    const hadQdisc = !addClsact(ifindex);
    try {
      tcFilterAttach(ifindex, {
        direction,
        progFd: this.fd,
        name: this.name,
        priority,
        handle,
        replace: false,
      });
    } catch (e) {
      if (!hadQdisc) tcClsactDelete(ifindex);
      throw e;
    }
    return this.adopt(
      new CallbackLink(`${where} (netlink filter prio ${priority})`, () =>
        unlessDeviceGone(() => {
          tcFilterDetach(ifindex, direction, priority, handle);
          if (
            !hadQdisc &&
            tcFilterList(ifindex, "ingress").length + tcFilterList(ifindex, "egress").length === 0
          )
            tcClsactDelete(ifindex);
        }),
      ),
    );
  }
}

/** Adds the clsact qdisc; false when the device already had one. */
function addClsact(ifindex: number): boolean {
  try {
    tcClsactAdd(ifindex, true);
    return true;
  } catch (e) {
    if (e instanceof SyscallError && e.errno === Errno.EEXIST) return false;
    throw e;
  }
}
