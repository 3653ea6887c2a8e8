/**
 * Cgroup programs: a bpf_link on the cgroup (5.7+), or the PROG_ATTACH attachment the kernel keeps until
 * PROG_DETACH (multi-attach by default). Links are always multi: several programs run in attach order.
 */
import { openSync } from "node:fs";
import { BpfAttachType, BpfFlags, BpfProgType, Errno, Fd, haveBpfLinks, SyscallError } from "@ebpf/sys";
import { AttachError } from "../errors.js";
import { CallbackLink, FdLink, type Link } from "../link.js";
import { Program } from "../program.js";

/**
 * A cgroup: its path in the cgroup v2 hierarchy, or an open fd of its directory (an `Fd`, or a plain
 * number such as `openSync(path, "r")` returns; either way the caller keeps ownership: attach dups it).
 */
export type CgroupTarget = string | Fd | number;

/**
 * A cgroup hook by name: a `BpfAttachType` name with or without `BPF_`/`CGROUP_` (`"CGROUP_INET_INGRESS"`,
 * `"inet_ingress"`, `"sock_ops"`), or the cgroup_skb shorthands `"ingress"` and `"egress"`.
 */
export type CgroupHook = string;

/** The `BpfAttachType` value of a hook name, or an AttachError listing the cgroup hooks. */
export function cgroupAttachType(hook: CgroupHook): number {
  const bare = hook
    .toUpperCase()
    .replace(/^BPF_/, "")
    .replace(/^CGROUP_/, "");
  const table = BpfAttachType as Record<string, number>;
  for (const name of [`CGROUP_INET_${bare}`, `CGROUP_${bare}`, bare]) {
    if (table[name] !== undefined) return table[name];
  }
  const known = Object.keys(table)
    .filter((k) => k.startsWith("CGROUP_"))
    .map((k) => k.slice(7).toLowerCase());
  throw new AttachError(`unknown cgroup hook "${hook}" (one of: ingress, egress, ${known.join(", ")})`, {
    code: "ERR_EBPF_ATTACH_TYPE",
  });
}

/** How a PROG_ATTACH attachment shares the cgroup. */
export type CgroupAttachMode = "multi" | "override" | "exclusive";

/** Options of the cgroup `attach` methods. */
export interface CgroupAttachOptions {
  /** The hook (a `BpfAttachType` value); default: the program's expected attach type. */
  attachType?: number;
  /** Use PROG_ATTACH even where links exist. */
  legacy?: boolean;
  /** PROG_ATTACH only: `multi` (default), `override` (children may override) or `exclusive`. */
  mode?: CgroupAttachMode;
  /** PROG_ATTACH multi only: replace this attached program atomically. */
  replace?: Program;
}

const MODE_FLAGS: Record<CgroupAttachMode, number> = {
  multi: BpfFlags.BPF_F_ALLOW_MULTI,
  override: BpfFlags.BPF_F_ALLOW_OVERRIDE,
  exclusive: 0,
};

/** Opens a cgroup directory (O_RDONLY | O_DIRECTORY | O_CLOEXEC). */
export function openCgroup(path: string): Fd {
  try {
    return new Fd(openSync(path, "r"), "cgroup");
  } catch (cause) {
    throw new AttachError(`cannot open cgroup ${path}`, { code: "ERR_EBPF_NO_SUCH_CGROUP", cause });
  }
}

function attachTypeName(t: number): string {
  const e = Object.entries(BpfAttachType).find(([, v]) => v === t);
  return e ? e[0].toLowerCase() : `attach type ${t}`;
}

/** A program that attaches to cgroups. The attach types it takes are listed per subclass. */
export abstract class CgroupProgram extends Program {
  /**
   * Attaches to a cgroup. Returns a bpf_link, or a PROG_ATTACH attachment where links are missing (or
   * with `legacy`): the latter stays in the kernel until the link's `detach()`/`close()`.
   */
  attach(cgroup: CgroupTarget, hookOrOptions: CgroupHook | CgroupAttachOptions = {}): Link {
    const options: CgroupAttachOptions =
      typeof hookOrOptions === "string" ? { attachType: cgroupAttachType(hookOrOptions) } : hookOrOptions;
    const attachType = options.attachType ?? this.expectedAttachType;
    if (attachType === undefined)
      throw new AttachError(
        `program "${this.name}": say which cgroup hook (attachType) — it has no expected attach type`,
      );
    const path =
      typeof cgroup === "string" ? cgroup : `fd ${typeof cgroup === "number" ? cgroup : cgroup.raw}`;
    const where = `${attachTypeName(attachType)} "${this.name}" on cgroup ${path}`;
    const fd =
      typeof cgroup === "string"
        ? openCgroup(cgroup)
        : typeof cgroup === "number"
          ? new Fd(cgroup, "cgroup", () => {}).dup() // borrow the caller's fd, own a duplicate
          : cgroup.dup();
    try {
      if (!options.legacy && !options.replace && haveBpfLinks()) {
        try {
          const link = this.sys.linkCreate({ progFd: this.fd, targetFd: fd, attachType });
          fd.close();
          return this.adopt(new FdLink(link, `${where} (link)`, this.sys));
        } catch (e) {
          if (!(e instanceof SyscallError && e.errno === Errno.EINVAL)) throw e;
        }
      }
      const mode = options.mode ?? "multi";
      this.sys.progAttach({
        targetFd: fd,
        progFd: this.fd,
        attachType,
        flags: MODE_FLAGS[mode] | (options.replace ? BpfFlags.BPF_F_REPLACE : 0),
        replaceProgFd: options.replace?.fd,
      });
    } catch (e) {
      if (!fd.closed) fd.close();
      throw e;
    }
    return this.adopt(
      new CallbackLink(`${where} (prog_attach ${options.mode ?? "multi"})`, () => {
        try {
          this.sys.progDetach({ targetFd: fd, progFd: this.fd, attachType });
        } finally {
          fd.close();
        }
      }),
    );
  }
}

/** `cgroup_skb/ingress`, `cgroup_skb/egress`: packets entering or leaving the cgroup's sockets. */
export class CgroupSkb extends CgroupProgram {
  static readonly programTypes: readonly number[] = [BpfProgType.CGROUP_SKB];
}

/** `cgroup/sock_create`, `cgroup/sock_release`, `cgroup/post_bind4|6`: socket lifetime hooks. */
export class CgroupSock extends CgroupProgram {
  static readonly programTypes: readonly number[] = [BpfProgType.CGROUP_SOCK];
}

/**
 * `cgroup/bind4|6`, `connect4|6`, `sendmsg4|6`, `recvmsg4|6`, `getpeername4|6`, `getsockname4|6` and the
 * unix-socket hooks (`connect_unix`, `sendmsg_unix`, `recvmsg_unix`, `getpeername_unix`,
 * `getsockname_unix`): rewrite or refuse socket addresses.
 */
export class CgroupSockAddr extends CgroupProgram {
  static readonly programTypes: readonly number[] = [BpfProgType.CGROUP_SOCK_ADDR];
}

/** `cgroup/getsockopt`, `cgroup/setsockopt`. */
export class CgroupSockopt extends CgroupProgram {
  static readonly programTypes: readonly number[] = [BpfProgType.CGROUP_SOCKOPT];
}

/** `cgroup/sysctl`: reads and writes of /proc/sys. */
export class CgroupSysctl extends CgroupProgram {
  static readonly programTypes: readonly number[] = [BpfProgType.CGROUP_SYSCTL];
}

/** `cgroup/dev`: device access (open, mknod) from the cgroup. */
export class CgroupDevice extends CgroupProgram {
  static readonly programTypes: readonly number[] = [BpfProgType.CGROUP_DEVICE];
}

/** `sockops`: TCP events of the cgroup's sockets. */
export class SockOps extends CgroupProgram {
  static readonly programTypes: readonly number[] = [BpfProgType.SOCK_OPS];
}

/** `lsm_cgroup/<hook>`: an LSM hook for the cgroup's tasks (attach type LSM_CGROUP). */
export class CgroupLsm extends CgroupProgram {
  static readonly programTypes: readonly number[] = [BpfProgType.LSM];
}
