/**
 * XDP: a bpf_link on the interface (5.9+), or on older kernels the netlink attachment (IFLA_XDP), which
 * the kernel keeps until it is removed — the returned link's `detach()`/`close()` removes it.
 */
import {
  BpfAttachType,
  BpfDefines,
  BpfProgType,
  Errno,
  haveBpfLinks,
  SyscallError,
  xdpAttach,
  xdpDetach,
} from "@ebpf/sys";
import { CallbackLink, FdLink, type Link } from "../link.js";
import { Program } from "../program.js";
import { ifaceLabel, ifindexOf, type NetworkInterface, unlessDeviceGone } from "./netdev.js";

/** Where XDP runs: generic (`skb`), in the driver (`drv`), offloaded to the NIC (`hw`). */
export type XdpMode = "skb" | "drv" | "hw";

/** Options of {@link Xdp.attach}. */
export interface XdpAttachOptions {
  /** Default: the kernel picks (driver mode when supported, else generic). */
  mode?: XdpMode;
  /** Replace this program, which must be the one attached (netlink attachments only; links use update). */
  replace?: Program;
  /** Force the netlink attachment even where links exist. */
  netlink?: boolean;
}

const MODE_FLAG: Record<XdpMode, number> = {
  skb: BpfDefines.XDP_FLAGS_SKB_MODE,
  drv: BpfDefines.XDP_FLAGS_DRV_MODE,
  hw: BpfDefines.XDP_FLAGS_HW_MODE,
};

/**
 * An XDP program.
 *
 * @example
 * ```ts
 * using prog = Xdp.load(spec);
 * using link = prog.attach("eth0", { mode: "skb" });
 * ```
 */
export class Xdp extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.XDP];

  /** Attaches to an interface; returns a link (bpf_link, or a netlink attachment on old kernels). */
  attach(iface: NetworkInterface, options: XdpAttachOptions = {}): Link {
    const ifindex = ifindexOf(iface);
    const flags = options.mode ? MODE_FLAG[options.mode] : 0;
    const where = `xdp "${this.name}" on ${ifaceLabel(iface)}${options.mode ? ` (${options.mode})` : ""}`;
    if (!options.netlink && !options.replace && haveBpfLinks()) {
      try {
        const fd = this.sys.linkCreate({
          progFd: this.fd,
          targetIfindex: ifindex,
          attachType: BpfAttachType.XDP,
          flags,
        });
        return this.adopt(new FdLink(fd, `${where} (link)`, this.sys));
      } catch (e) {
        // EINVAL from a kernel whose LINK_CREATE lacks XDP: fall back to netlink.
        if (!(e instanceof SyscallError && e.errno === Errno.EINVAL)) throw e;
      }
    }
    const replaceFlags = options.replace
      ? BpfDefines.XDP_FLAGS_REPLACE
      : BpfDefines.XDP_FLAGS_UPDATE_IF_NOEXIST;
    xdpAttach(ifindex, this.fd, { flags: flags | replaceFlags, expectedFd: options.replace?.fd });
    return this.adopt(
      new CallbackLink(`${where} (netlink)`, () => unlessDeviceGone(() => xdpDetach(ifindex, flags))),
    );
  }
}
