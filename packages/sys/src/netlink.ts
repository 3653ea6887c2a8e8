/**
 * rtnetlink: XDP attach through IFLA_XDP and TC (clsact qdisc + `bpf` filter) attach, for kernels or
 * devices where BPF links are not available.
 *
 * Lifetimes: unlike links, these attachments persist after every fd is closed, until detached or the
 * device goes away.
 */
import {
  BpfDefines,
  IfInfoMsg,
  Ifla,
  IflaXdp,
  LinuxDefines,
  NetlinkDefines,
  NlAttr,
  NlMsgErr,
  NlMsgHdr,
  Rtm,
  SockaddrNl,
  Tca,
  TcaBpf,
  TcMsg,
} from "./abi.generated.js";
import { Scratch } from "./attr.js";
import { Errno } from "./errno.js";
import { SyscallError } from "./errors.js";
import { Fd, rawFd } from "./fd.js";
import { addressOf, errno, libc } from "./libc.js";

const N = NetlinkDefines;
const align4 = (n: number) => (n + 3) & ~3;
const rtmNames = new Map<number, string>(Object.entries(Rtm).map(([k, v]) => [v, `RTM_${k}`]));

/** A netlink attribute to encode: a number (u32), bytes, a string (NUL-terminated), or nested attributes. */
export type NlAttrValue = number | Uint8Array | string | NlAttrSpec[];
/** `[type, value]`; nested lists get NLA_F_NESTED. Use `{ u8 | u16 }` via bytes for other widths. */
export type NlAttrSpec = readonly [type: number, value: NlAttrValue];

/** Encodes netlink attributes (TLVs, 4-byte aligned). */
export function encodeAttrs(attrs: readonly NlAttrSpec[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [type, value] of attrs) {
    let payload: Uint8Array;
    let t = type;
    if (typeof value === "number") {
      payload = new Uint8Array(4);
      new DataView(payload.buffer).setUint32(0, value >>> 0, true);
    } else if (typeof value === "string") {
      const enc = new TextEncoder().encode(value);
      payload = new Uint8Array(enc.length + 1);
      payload.set(enc);
    } else if (value instanceof Uint8Array) {
      payload = value;
    } else {
      payload = encodeAttrs(value);
      t |= N.NLA_F_NESTED;
    }
    const len = NlAttr.byteSize + payload.length;
    const out = new Uint8Array(align4(len));
    const v = new DataView(out.buffer);
    v.setUint16(NlAttr.fields.nla_len.offset, len, true);
    v.setUint16(NlAttr.fields.nla_type.offset, t, true);
    out.set(payload, NlAttr.byteSize);
    parts.push(out);
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Decodes attributes into type → payload (the last one wins for repeated types). */
export function decodeAttrs(bytes: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  while (o + NlAttr.byteSize <= bytes.length) {
    const len = v.getUint16(o + NlAttr.fields.nla_len.offset, true);
    const type = v.getUint16(o + NlAttr.fields.nla_type.offset, true) & N.NLA_TYPE_MASK;
    if (len < NlAttr.byteSize || o + len > bytes.length) break;
    out.set(type, bytes.subarray(o + NlAttr.byteSize, o + len));
    o += align4(len);
  }
  return out;
}

const u32At = (b: Uint8Array | undefined) =>
  b && b.length >= 4 ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) : undefined;
const strAt = (b: Uint8Array | undefined) => {
  if (!b) return undefined;
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
};

/** One received netlink message. */
export interface NlMessage {
  type: number;
  flags: number;
  /** The payload after the nlmsghdr. */
  payload: Uint8Array;
}

/**
 * An rtnetlink socket (NETLINK_ROUTE), close-on-exec, with extended acks. Owns its fd.
 *
 * @example
 * ```ts
 * using nl = new NetlinkSocket();
 * nl.request(Rtm.NEWQDISC, NetlinkDefines.NLM_F_CREATE, body);
 * ```
 */
export class NetlinkSocket implements Disposable {
  readonly fd: Fd;
  #seq = 1;
  readonly #rx = new Scratch(64 * 1024);

  constructor() {
    const l = libc();
    const r = l.socket(N.AF_NETLINK, LinuxDefines.SOCK_RAW | LinuxDefines.SOCK_CLOEXEC, N.NETLINK_ROUTE);
    if (r < 0) throw new SyscallError({ syscall: "socket", command: "AF_NETLINK", errno: errno() });
    this.fd = new Fd(r, "netlink");
    try {
      const one = new Scratch(4);
      one.view.setUint32(0, 1, true);
      // Best effort: extended ack messages and strict checking (4.12+ / 4.20+).
      l.setsockopt(r, N.SOL_NETLINK, N.NETLINK_EXT_ACK, one.address, 4);
      l.setsockopt(r, N.SOL_NETLINK, N.NETLINK_GET_STRICT_CHK, one.address, 4);
      const sa = new Scratch(SockaddrNl.byteSize);
      sa.view.setUint16(SockaddrNl.fields.nl_family.offset, N.AF_NETLINK, true);
      if (l.bind(r, sa.address, SockaddrNl.byteSize) < 0)
        throw new SyscallError({ syscall: "bind", command: "AF_NETLINK", errno: errno() });
    } catch (e) {
      this.fd.close();
      throw e;
    }
  }

  /**
   * Sends one request (NLM_F_REQUEST | NLM_F_ACK | `flags`) and collects the replies until the ack (or
   * NLMSG_DONE for dumps). Throws {@link SyscallError} with the kernel's extended-ack message on error.
   */
  request(type: number, flags: number, body: Uint8Array): NlMessage[] {
    const seq = this.#seq++;
    const len = NlMsgHdr.byteSize + body.length;
    const msg = new Uint8Array(align4(len));
    const v = new DataView(msg.buffer);
    const H = NlMsgHdr.fields;
    v.setUint32(H.nlmsg_len.offset, len, true);
    v.setUint16(H.nlmsg_type.offset, type, true);
    v.setUint16(H.nlmsg_flags.offset, N.NLM_F_REQUEST | N.NLM_F_ACK | flags, true);
    v.setUint32(H.nlmsg_seq.offset, seq, true);
    msg.set(body, NlMsgHdr.byteSize);
    const command = rtmNames.get(type) ?? `netlink type ${type}`;
    const l = libc();
    const fd = this.fd.raw;
    if (l.sendto(fd, addressOf(msg), msg.length, 0, 0, 0) < 0)
      throw new SyscallError({ syscall: "sendto", command, errno: errno() });
    const replies: NlMessage[] = [];
    for (;;) {
      const n = l.recv(fd, this.#rx.address, this.#rx.bytes.length, 0);
      if (n < 0) {
        const e = errno();
        if (e === Errno.EINTR) continue;
        throw new SyscallError({ syscall: "recv", command, errno: e });
      }
      const buf = this.#rx.bytes;
      const rv = this.#rx.view;
      let o = 0;
      while (o + NlMsgHdr.byteSize <= n) {
        const mlen = rv.getUint32(o + H.nlmsg_len.offset, true);
        const mtype = rv.getUint16(o + H.nlmsg_type.offset, true);
        const mflags = rv.getUint16(o + H.nlmsg_flags.offset, true);
        const mseq = rv.getUint32(o + H.nlmsg_seq.offset, true);
        if (mlen < NlMsgHdr.byteSize || o + mlen > n) break;
        const payload = buf.slice(o + NlMsgHdr.byteSize, o + mlen);
        o += align4(mlen);
        if (mseq !== seq) continue;
        if (mtype === N.NLMSG_DONE) return replies;
        if (mtype === N.NLMSG_ERROR) {
          const pv = new DataView(payload.buffer);
          const err = -pv.getInt32(NlMsgErr.fields.error.offset, true);
          if (err === 0) return replies;
          let extack: string | undefined;
          if (mflags & N.NLM_F_ACK_TLVS) {
            // The echoed request is only its header when NLM_F_CAPPED; else the whole request.
            const echoed = mflags & N.NLM_F_CAPPED ? NlMsgHdr.byteSize : align4(len);
            extack = strAt(decodeAttrs(payload.subarray(4 + echoed)).get(N.NLMSGERR_ATTR_MSG));
          }
          throw new SyscallError({ syscall: "netlink", command, errno: err, context: extack });
        }
        replies.push({ type: mtype, flags: mflags, payload });
      }
    }
  }

  /** Closes the socket. */
  close(): void {
    this.fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function withSocket<T>(f: (nl: NetlinkSocket) => T): T {
  const nl = new NetlinkSocket();
  try {
    return f(nl);
  } finally {
    nl.close();
  }
}

function ifinfomsg(ifindex: number): Uint8Array {
  const b = new Uint8Array(IfInfoMsg.byteSize);
  const v = new DataView(b.buffer);
  v.setUint8(IfInfoMsg.fields.ifi_family.offset, N.AF_UNSPEC);
  v.setInt32(IfInfoMsg.fields.ifi_index.offset, ifindex, true);
  return b;
}

const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

/** Options of {@link xdpAttach}. */
export interface XdpAttachOptions {
  /** `BpfDefines.XDP_FLAGS_*`: SKB_MODE, DRV_MODE, HW_MODE, UPDATE_IF_NOEXIST, REPLACE. */
  flags?: number;
  /** With XDP_FLAGS_REPLACE: only replace this program. */
  expectedFd?: Fd | number;
}

/**
 * Attaches an XDP program to a device through netlink (IFLA_XDP). Persists until {@link xdpDetach}.
 *
 * @example
 * ```ts
 * xdpAttach(ifindex, prog, { flags: BpfDefines.XDP_FLAGS_SKB_MODE });
 * ```
 */
export function xdpAttach(ifindex: number, progFd: Fd | number, options: XdpAttachOptions = {}): void {
  const xdp: NlAttrSpec[] = [[IflaXdp.FD, rawFd(progFd)]];
  if (options.flags) xdp.push([IflaXdp.FLAGS, options.flags]);
  if (options.expectedFd !== undefined) xdp.push([IflaXdp.EXPECTED_FD, rawFd(options.expectedFd)]);
  withSocket((nl) => nl.request(Rtm.SETLINK, 0, concat(ifinfomsg(ifindex), encodeAttrs([[Ifla.XDP, xdp]]))));
}

/** Detaches the XDP program of a device (fd -1), in the mode given by `flags`. */
export function xdpDetach(ifindex: number, flags = 0): void {
  const xdp: NlAttrSpec[] = [[IflaXdp.FD, 0xffffffff]];
  if (flags) xdp.push([IflaXdp.FLAGS, flags]);
  withSocket((nl) => nl.request(Rtm.SETLINK, 0, concat(ifinfomsg(ifindex), encodeAttrs([[Ifla.XDP, xdp]]))));
}

/** What XDP program a device runs. */
export interface XdpQuery {
  /** XDP_ATTACHED_*: 0 none, 1 driver, 2 generic (skb), 3 hardware, 4 multi. */
  attached: number;
  /** The program id (0 when none). */
  progId: number;
}

/** RTM_GETLINK: the device's attached XDP program. */
export function xdpQuery(ifindex: number): XdpQuery {
  return withSocket((nl) => {
    const replies = nl.request(Rtm.GETLINK, 0, ifinfomsg(ifindex));
    for (const r of replies) {
      if (r.type !== Rtm.NEWLINK) continue;
      const attrs = decodeAttrs(r.payload.subarray(IfInfoMsg.byteSize));
      const xdp = attrs.get(Ifla.XDP);
      if (!xdp) return { attached: 0, progId: 0 };
      const x = decodeAttrs(xdp);
      const a = x.get(IflaXdp.ATTACHED);
      return { attached: a ? a[0] : 0, progId: u32At(x.get(IflaXdp.PROG_ID)) ?? 0 };
    }
    return { attached: 0, progId: 0 };
  });
}

/** `TC_H_MAKE(major, minor)`. */
export const tcHandle = (major: number, minor: number) => ((major & 0xffff0000) | (minor & 0xffff)) >>> 0;

/** Which hook of the clsact qdisc. */
export type TcDirection = "ingress" | "egress";

function tcmsg(ifindex: number, handle: number, parent: number, info = 0): Uint8Array {
  const b = new Uint8Array(TcMsg.byteSize);
  const v = new DataView(b.buffer);
  const f = TcMsg.fields;
  v.setUint8(f.tcm_family.offset, N.AF_UNSPEC);
  v.setInt32(f.tcm_ifindex.offset, ifindex, true);
  v.setUint32(f.tcm_handle.offset, handle >>> 0, true);
  v.setUint32(f.tcm_parent.offset, parent >>> 0, true);
  v.setUint32(f.tcm_info.offset, info >>> 0, true);
  return b;
}

const CLSACT_HANDLE = tcHandle(BpfDefines.TC_H_CLSACT, 0);

/** Adds the clsact qdisc to a device (idempotent unless `exclusive`). */
export function tcClsactAdd(ifindex: number, exclusive = false): void {
  const body = concat(
    tcmsg(ifindex, CLSACT_HANDLE, BpfDefines.TC_H_CLSACT),
    encodeAttrs([[Tca.KIND, "clsact"]]),
  );
  try {
    withSocket((nl) => nl.request(Rtm.NEWQDISC, N.NLM_F_CREATE | N.NLM_F_EXCL, body));
  } catch (e) {
    if (!exclusive && e instanceof SyscallError && e.errno === Errno.EEXIST) return;
    throw e;
  }
}

/** Removes the clsact qdisc (and every filter on it). */
export function tcClsactDelete(ifindex: number): void {
  const body = concat(
    tcmsg(ifindex, CLSACT_HANDLE, BpfDefines.TC_H_CLSACT),
    encodeAttrs([[Tca.KIND, "clsact"]]),
  );
  withSocket((nl) => nl.request(Rtm.DELQDISC, 0, body));
}

/** Options of {@link tcFilterAttach}. */
export interface TcFilterOptions {
  direction: TcDirection;
  progFd: Fd | number;
  /** Shown by `tc filter show`. */
  name?: string;
  /** Filter priority (1..0xffff; default 1). */
  priority?: number;
  /** Filter handle (default 1). */
  handle?: number;
  /** Direct action: the program's return value is the TC verdict (default true). */
  directAction?: boolean;
  /** Replace an existing filter with the same priority/handle (default true). */
  replace?: boolean;
}

const ETH_P_ALL_BE = ((N.ETH_P_ALL & 0xff) << 8) | (N.ETH_P_ALL >> 8);
const parentOf = (d: TcDirection) =>
  tcHandle(
    BpfDefines.TC_H_CLSACT,
    d === "ingress" ? BpfDefines.TC_H_MIN_INGRESS : BpfDefines.TC_H_MIN_EGRESS,
  );

/**
 * Attaches a SCHED_CLS program as a `bpf` filter on the clsact qdisc (add it first with
 * {@link tcClsactAdd}). Persists until {@link tcFilterDetach} or the qdisc is removed.
 */
export function tcFilterAttach(ifindex: number, options: TcFilterOptions): void {
  const prio = options.priority ?? 1;
  const opts: NlAttrSpec[] = [[TcaBpf.FD, rawFd(options.progFd)]];
  if (options.name) opts.push([TcaBpf.NAME, options.name]);
  if (options.directAction ?? true) opts.push([TcaBpf.FLAGS, BpfDefines.TCA_BPF_FLAG_ACT_DIRECT]);
  const body = concat(
    tcmsg(ifindex, options.handle ?? 1, parentOf(options.direction), tcHandle(prio << 16, ETH_P_ALL_BE)),
    encodeAttrs([
      [Tca.KIND, "bpf"],
      [Tca.OPTIONS, opts],
    ]),
  );
  const flags = N.NLM_F_CREATE | ((options.replace ?? true) ? N.NLM_F_REPLACE : N.NLM_F_EXCL);
  withSocket((nl) => nl.request(Rtm.NEWTFILTER, flags, body));
}

/** Removes the filter with that priority and handle. */
export function tcFilterDetach(ifindex: number, direction: TcDirection, priority = 1, handle = 1): void {
  const body = concat(
    tcmsg(ifindex, handle, parentOf(direction), tcHandle(priority << 16, ETH_P_ALL_BE)),
    encodeAttrs([[Tca.KIND, "bpf"]]),
  );
  withSocket((nl) => nl.request(Rtm.DELTFILTER, 0, body));
}

/** A `bpf` filter found by {@link tcFilterList}. */
export interface TcFilterInfo {
  priority: number;
  handle: number;
  name: string;
  progId: number;
  directAction: boolean;
}

/** Lists the `bpf` filters on one clsact hook. */
export function tcFilterList(ifindex: number, direction: TcDirection): TcFilterInfo[] {
  return withSocket((nl) => {
    const replies = nl.request(Rtm.GETTFILTER, N.NLM_F_DUMP, tcmsg(ifindex, 0, parentOf(direction)));
    const out: TcFilterInfo[] = [];
    for (const r of replies) {
      if (r.type !== Rtm.NEWTFILTER) continue;
      const v = new DataView(r.payload.buffer, r.payload.byteOffset);
      const attrs = decodeAttrs(r.payload.subarray(TcMsg.byteSize));
      if (strAt(attrs.get(Tca.KIND)) !== "bpf") continue;
      const opts = attrs.get(Tca.OPTIONS);
      if (!opts) continue;
      const o = decodeAttrs(opts);
      out.push({
        priority: v.getUint32(TcMsg.fields.tcm_info.offset, true) >>> 16,
        handle: v.getUint32(TcMsg.fields.tcm_handle.offset, true),
        name: strAt(o.get(TcaBpf.NAME)) ?? "",
        progId: u32At(o.get(TcaBpf.ID)) ?? 0,
        directAction: ((u32At(o.get(TcaBpf.FLAGS)) ?? 0) & BpfDefines.TCA_BPF_FLAG_ACT_DIRECT) !== 0,
      });
    }
    return out;
  });
}
