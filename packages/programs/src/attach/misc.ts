/**
 * The remaining attach points: sockmap programs (sk_msg, sk_skb), network-namespace programs (sk_lookup,
 * flow_dissector), netfilter hooks, lirc, and the types with no attach point (syscall).
 */
import { openSync } from "node:fs";
import { BpfAttachType, BpfProgType, Errno, Fd, SocketOptions, SyscallError, setSockOptInt } from "@ebpf/sys";
import { AttachError } from "../errors.js";
import { CallbackLink, FdLink, type Link } from "../link.js";
import { Program } from "../program.js";

/** PROG_ATTACH to a map/device fd, undone by PROG_DETACH; the target fd is dup'ed and kept until then. */
function progAttachLink(prog: Program, target: Fd, attachType: number, description: string): Link {
  const fd = target.dup();
  try {
    prog.sys.progAttach({ targetFd: fd, progFd: prog.fd, attachType });
  } catch (e) {
    fd.close();
    throw e;
  }
  return new CallbackLink(description, () => {
    try {
      prog.sys.progDetach({ targetFd: fd, progFd: prog.fd, attachType });
    } finally {
      fd.close();
    }
  });
}

/** A network namespace: a path such as `/proc/self/ns/net` or `/run/netns/<name>`, or an open fd. */
export type NetnsTarget = string | Fd;

function openNetns(target: NetnsTarget): Fd {
  if (typeof target !== "string") return target.dup();
  try {
    return new Fd(openSync(target, "r"), "netns");
  } catch (cause) {
    throw new AttachError(`cannot open network namespace ${target}`, {
      code: "ERR_EBPF_ATTACH_TARGET",
      cause,
    });
  }
}

/** `sk_msg`: verdicts on messages sent on sockets of a sockmap/sockhash. */
export class SkMsg extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.SK_MSG];

  /** Attaches to a sockmap or sockhash (its fd). */
  attach(sockMap: Fd): Link {
    return this.adopt(
      progAttachLink(this, sockMap, BpfAttachType.SK_MSG_VERDICT, `sk_msg "${this.name}" on map ${sockMap}`),
    );
  }
}

/** Which sk_skb hook. */
export type SkSkbKind = "stream_parser" | "stream_verdict" | "verdict";

/** `sk_skb/stream_parser`, `sk_skb/stream_verdict`, `sk_skb/verdict` on a sockmap/sockhash. */
export class SkSkb extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.SK_SKB];

  /** Attaches to a sockmap or sockhash (its fd). */
  attach(sockMap: Fd, kind: SkSkbKind): Link {
    const at = {
      stream_parser: BpfAttachType.SK_SKB_STREAM_PARSER,
      stream_verdict: BpfAttachType.SK_SKB_STREAM_VERDICT,
      verdict: BpfAttachType.SK_SKB_VERDICT,
    }[kind];
    return this.adopt(progAttachLink(this, sockMap, at, `sk_skb/${kind} "${this.name}" on map ${sockMap}`));
  }
}

/** A program attached to a network namespace by link (sk_lookup, flow_dissector). */
function netnsLink(prog: Program, netns: NetnsTarget, attachType: number, what: string): Link {
  const fd = openNetns(netns);
  try {
    const link = prog.sys.linkCreate({ progFd: prog.fd, targetFd: fd, attachType });
    return new FdLink(
      link,
      `${what} "${prog.name}" on netns ${typeof netns === "string" ? netns : netns.raw}`,
      prog.sys,
    );
  } finally {
    fd.close();
  }
}

/** `sk_lookup`: picks the socket for incoming connections/packets of a network namespace. */
export class SkLookup extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.SK_LOOKUP];

  /** Attaches to a network namespace (default: this process's). */
  attach(netns: NetnsTarget = "/proc/self/ns/net"): Link {
    return this.adopt(netnsLink(this, netns, BpfAttachType.SK_LOOKUP, "sk_lookup"));
  }
}

/** `flow_dissector`: replaces the kernel's flow dissector in a network namespace. */
export class FlowDissector extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.FLOW_DISSECTOR];

  /** Attaches to a network namespace (link, 5.7+; PROG_ATTACH before). */
  attach(netns: NetnsTarget = "/proc/self/ns/net"): Link {
    try {
      return this.adopt(netnsLink(this, netns, BpfAttachType.FLOW_DISSECTOR, "flow_dissector"));
    } catch (e) {
      if (!(e instanceof SyscallError && e.errno === Errno.EINVAL)) throw e;
    }
    const fd = openNetns(netns);
    try {
      return this.adopt(
        progAttachLink(this, fd, BpfAttachType.FLOW_DISSECTOR, `flow_dissector "${this.name}"`),
      );
    } finally {
      fd.close();
    }
  }
}

/** Options of {@link Netfilter.attach}. */
export interface NetfilterAttachOptions {
  /** Protocol family: `NFPROTO_IPV4` (2) or `NFPROTO_IPV6` (10). */
  protocolFamily: number;
  /** Hook: `NF_INET_PRE_ROUTING` (0), `LOCAL_IN` (1), `FORWARD` (2), `LOCAL_OUT` (3), `POST_ROUTING` (4). */
  hook: number;
  /** Priority among the hook's functions (not 0 or the extremes); default -128. */
  priority?: number;
  /** `BPF_F_NETFILTER_IP_DEFRAG` (1) to see defragmented packets. */
  flags?: number;
}

/**
 * `netfilter`: a netfilter hook function (6.4+; load with expected attach type NETFILTER); returns
 * NF_ACCEPT (1) or NF_DROP (0).
 */
export class Netfilter extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.NETFILTER];

  /** Registers the program at a netfilter hook of this network namespace. */
  attach(options: NetfilterAttachOptions): Link {
    const fd = this.sys.linkCreate({
      progFd: this.fd,
      attachType: BpfAttachType.NETFILTER,
      extra: {
        "netfilter.pf": options.protocolFamily,
        "netfilter.hooknum": options.hook,
        "netfilter.priority": options.priority ?? -128,
        "netfilter.flags": options.flags,
      },
    });
    return this.adopt(
      new FdLink(fd, `netfilter pf ${options.protocolFamily} hook ${options.hook} "${this.name}"`, this.sys),
    );
  }
}

/** `lirc_mode2`: decodes IR signals of a lirc device (`/dev/lircN`). */
export class LircMode2 extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.LIRC_MODE2];

  /** Attaches to a lirc device (its path or an open fd). */
  attach(device: string | Fd): Link {
    const fd = typeof device === "string" ? new Fd(openSync(device, "r+"), "lirc") : device.dup();
    try {
      return this.adopt(progAttachLink(this, fd, BpfAttachType.LIRC_MODE2, `lirc_mode2 "${this.name}"`));
    } finally {
      fd.close();
    }
  }
}

/** `syscall`: a program run only through {@link Program.testRun}, its context the arguments struct. */
export class Syscall extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.SYSCALL];
}

/** A socket: an fd number (e.g. a Node socket's `_handle.fd`) or an owned `Fd` from @ebpf/sys. */
export type SocketTarget = number | Fd;

const sockFd = (s: SocketTarget) => (typeof s === "number" ? s : s.raw);

/** setsockopt-based attachment: undone by the detach option; a closed socket has nothing left to undo. */
function socketLink(prog: Program, socket: SocketTarget, attach: number, detach: number, what: string): Link {
  const fd = sockFd(socket);
  setSockOptInt(fd, SocketOptions.SOL_SOCKET, attach, prog.fd.raw);
  return new CallbackLink(`${what} "${prog.name}" on socket fd ${fd}`, () => {
    try {
      setSockOptInt(fd, SocketOptions.SOL_SOCKET, detach, 0);
    } catch (e) {
      if (!(e instanceof SyscallError && (e.errno === Errno.EBADF || e.errno === Errno.ENOENT))) throw e;
    }
  });
}

/**
 * `socket`: a socket filter (SO_ATTACH_BPF): returns how many bytes of each packet the socket keeps
 * (0 drops it). Also the type for programs that are only test-run.
 *
 * @example
 * ```ts
 * using link = prog.attach(sock._handle.fd);
 * ```
 */
export class SocketFilter extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.SOCKET_FILTER];

  /** Filters the packets a socket receives. The filter lives as long as the socket, or until detach. */
  attach(socket: SocketTarget): Link {
    return this.adopt(
      socketLink(this, socket, SocketOptions.SO_ATTACH_BPF, SocketOptions.SO_DETACH_BPF, "socket filter"),
    );
  }
}

/** `sk_reuseport`: picks the socket of a SO_REUSEPORT group (SO_ATTACH_REUSEPORT_EBPF). */
export class SkReuseport extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.SK_REUSEPORT];

  /** Attaches to the reuseport group of `socket`. */
  attach(socket: SocketTarget): Link {
    return this.adopt(
      socketLink(
        this,
        socket,
        SocketOptions.SO_ATTACH_REUSEPORT_EBPF,
        SocketOptions.SO_DETACH_REUSEPORT_BPF,
        "sk_reuseport",
      ),
    );
  }
}
