/** Network interfaces by name or index. */
import { readFileSync } from "node:fs";
import { Errno, SyscallError } from "@ebpf/sys";
import { AttachError } from "../errors.js";

/** An interface: its name (in this process's network namespace) or its index. */
export type NetworkInterface = string | number;

/**
 * The index of an interface in this process's network namespace.
 * @throws AttachError (`ERR_EBPF_NO_SUCH_INTERFACE`) when there is none by that name
 */
export function ifindexOf(iface: NetworkInterface): number {
  if (typeof iface === "number") return iface;
  if (!/^[^/\s]{1,15}$/.test(iface))
    throw new AttachError(`invalid interface name ${JSON.stringify(iface)}`, {
      code: "ERR_EBPF_NO_SUCH_INTERFACE",
    });
  try {
    return Number(readFileSync(`/sys/class/net/${iface}/ifindex`, "utf8").trim());
  } catch (cause) {
    throw new AttachError(`no network interface "${iface}"`, { code: "ERR_EBPF_NO_SUCH_INTERFACE", cause });
  }
}

/** A readable name for messages. */
export const ifaceLabel = (iface: NetworkInterface): string =>
  typeof iface === "number" ? `ifindex ${iface}` : iface;

/** Runs a netlink detach, ignoring "no such device": a deleted interface took its attachments with it. */
export function unlessDeviceGone(undo: () => void): void {
  try {
    undo();
  } catch (e) {
    if (e instanceof SyscallError && e.errno === Errno.ENODEV) return;
    throw e;
  }
}
