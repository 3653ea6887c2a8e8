/**
 * The SEC-name table: one entry per libbpf `SEC_DEF` (libbpf 1.5 `section_defs[]`), in libbpf's order,
 * which is also the matching order (first match wins). Data only; matching lives in `sec-names.ts`.
 *
 * Pattern syntax (libbpf's): `"xdp"` matches exactly; `"kprobe+"` matches `"kprobe"` or
 * `"kprobe/<anything>"`; a pattern ending in `/` matches any name with that prefix.
 *
 * Program and attach types are kernel enum names; `@ebpf/sys` maps them to numbers.
 */
import type { SecDef, SecFlag } from "./types.js";

type Row = readonly [
  pattern: string,
  progType: string,
  attachType: string | undefined,
  flags?: readonly SecFlag[],
];

const ATTACHABLE: readonly SecFlag[] = ["attachable"];
const ATTACHABLE_OPT: readonly SecFlag[] = ["attachable", "attach_type_optional"];
const BTF: readonly SecFlag[] = ["attach_btf"];
const BTF_SLEEPABLE: readonly SecFlag[] = ["attach_btf", "sleepable"];
const XDP_FRAGS: readonly SecFlag[] = ["attachable", "xdp_frags"];

const ROWS: readonly Row[] = [
  ["socket", "SOCKET_FILTER", undefined],
  ["sk_reuseport/migrate", "SK_REUSEPORT", "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE", ATTACHABLE],
  ["sk_reuseport", "SK_REUSEPORT", "BPF_SK_REUSEPORT_SELECT", ATTACHABLE],
  ["kprobe+", "KPROBE", undefined],
  ["uprobe+", "KPROBE", undefined],
  ["uprobe.s+", "KPROBE", undefined, ["sleepable"]],
  ["kretprobe+", "KPROBE", undefined, ["return"]],
  ["uretprobe+", "KPROBE", undefined, ["return"]],
  ["uretprobe.s+", "KPROBE", undefined, ["return", "sleepable"]],
  ["kprobe.multi+", "KPROBE", "BPF_TRACE_KPROBE_MULTI", ["multi"]],
  ["kretprobe.multi+", "KPROBE", "BPF_TRACE_KPROBE_MULTI", ["multi", "return"]],
  ["kprobe.session+", "KPROBE", "BPF_TRACE_KPROBE_SESSION", ["multi", "session"]],
  ["uprobe.multi+", "KPROBE", "BPF_TRACE_UPROBE_MULTI", ["multi"]],
  ["uretprobe.multi+", "KPROBE", "BPF_TRACE_UPROBE_MULTI", ["multi", "return"]],
  ["uprobe.multi.s+", "KPROBE", "BPF_TRACE_UPROBE_MULTI", ["multi", "sleepable"]],
  ["uretprobe.multi.s+", "KPROBE", "BPF_TRACE_UPROBE_MULTI", ["multi", "return", "sleepable"]],
  ["uprobe.session+", "KPROBE", "BPF_TRACE_UPROBE_SESSION", ["multi", "session"]],
  ["uprobe.session.s+", "KPROBE", "BPF_TRACE_UPROBE_SESSION", ["multi", "session", "sleepable"]],
  ["ksyscall+", "KPROBE", undefined, ["syscall"]],
  ["kretsyscall+", "KPROBE", undefined, ["syscall", "return"]],
  ["usdt+", "KPROBE", undefined, ["usdt"]],
  ["usdt.s+", "KPROBE", undefined, ["usdt", "sleepable"]],
  ["tc/ingress", "SCHED_CLS", "BPF_TCX_INGRESS"], // alias for tcx/ingress
  ["tc/egress", "SCHED_CLS", "BPF_TCX_EGRESS"], // alias for tcx/egress
  ["tcx/ingress", "SCHED_CLS", "BPF_TCX_INGRESS"],
  ["tcx/egress", "SCHED_CLS", "BPF_TCX_EGRESS"],
  ["tc", "SCHED_CLS", undefined],
  ["classifier", "SCHED_CLS", undefined],
  ["action", "SCHED_ACT", undefined],
  ["netkit/primary", "SCHED_CLS", "BPF_NETKIT_PRIMARY"],
  ["netkit/peer", "SCHED_CLS", "BPF_NETKIT_PEER"],
  ["tracepoint+", "TRACEPOINT", undefined],
  ["tp+", "TRACEPOINT", undefined],
  ["raw_tracepoint+", "RAW_TRACEPOINT", undefined],
  ["raw_tp+", "RAW_TRACEPOINT", undefined],
  ["raw_tracepoint.w+", "RAW_TRACEPOINT_WRITABLE", undefined],
  ["raw_tp.w+", "RAW_TRACEPOINT_WRITABLE", undefined],
  ["tp_btf+", "TRACING", "BPF_TRACE_RAW_TP", BTF],
  ["fentry+", "TRACING", "BPF_TRACE_FENTRY", BTF],
  ["fmod_ret+", "TRACING", "BPF_MODIFY_RETURN", BTF],
  ["fexit+", "TRACING", "BPF_TRACE_FEXIT", BTF],
  ["fentry.s+", "TRACING", "BPF_TRACE_FENTRY", BTF_SLEEPABLE],
  ["fmod_ret.s+", "TRACING", "BPF_MODIFY_RETURN", BTF_SLEEPABLE],
  ["fexit.s+", "TRACING", "BPF_TRACE_FEXIT", BTF_SLEEPABLE],
  ["freplace+", "EXT", undefined, BTF],
  ["lsm+", "LSM", "BPF_LSM_MAC", BTF],
  ["lsm.s+", "LSM", "BPF_LSM_MAC", BTF_SLEEPABLE],
  ["lsm_cgroup+", "LSM", "BPF_LSM_CGROUP", BTF],
  ["iter+", "TRACING", "BPF_TRACE_ITER", BTF],
  ["iter.s+", "TRACING", "BPF_TRACE_ITER", BTF_SLEEPABLE],
  ["syscall", "SYSCALL", undefined, ["sleepable"]],
  ["xdp.frags/devmap", "XDP", "BPF_XDP_DEVMAP", XDP_FRAGS],
  ["xdp/devmap", "XDP", "BPF_XDP_DEVMAP", ATTACHABLE],
  ["xdp.frags/cpumap", "XDP", "BPF_XDP_CPUMAP", XDP_FRAGS],
  ["xdp/cpumap", "XDP", "BPF_XDP_CPUMAP", ATTACHABLE],
  ["xdp.frags", "XDP", "BPF_XDP", XDP_FRAGS],
  ["xdp", "XDP", "BPF_XDP", ATTACHABLE_OPT],
  ["perf_event", "PERF_EVENT", undefined],
  ["lwt_in", "LWT_IN", undefined],
  ["lwt_out", "LWT_OUT", undefined],
  ["lwt_xmit", "LWT_XMIT", undefined],
  ["lwt_seg6local", "LWT_SEG6LOCAL", undefined],
  ["sockops", "SOCK_OPS", "BPF_CGROUP_SOCK_OPS", ATTACHABLE_OPT],
  ["sk_skb/stream_parser", "SK_SKB", "BPF_SK_SKB_STREAM_PARSER", ATTACHABLE_OPT],
  ["sk_skb/stream_verdict", "SK_SKB", "BPF_SK_SKB_STREAM_VERDICT", ATTACHABLE_OPT],
  ["sk_skb/verdict", "SK_SKB", "BPF_SK_SKB_VERDICT", ATTACHABLE_OPT],
  ["sk_skb", "SK_SKB", undefined],
  ["sk_msg", "SK_MSG", "BPF_SK_MSG_VERDICT", ATTACHABLE_OPT],
  ["lirc_mode2", "LIRC_MODE2", "BPF_LIRC_MODE2", ATTACHABLE_OPT],
  ["flow_dissector", "FLOW_DISSECTOR", "BPF_FLOW_DISSECTOR", ATTACHABLE_OPT],
  ["cgroup_skb/ingress", "CGROUP_SKB", "BPF_CGROUP_INET_INGRESS", ATTACHABLE_OPT],
  ["cgroup_skb/egress", "CGROUP_SKB", "BPF_CGROUP_INET_EGRESS", ATTACHABLE_OPT],
  ["cgroup/skb", "CGROUP_SKB", undefined],
  ["cgroup/sock_create", "CGROUP_SOCK", "BPF_CGROUP_INET_SOCK_CREATE", ATTACHABLE],
  ["cgroup/sock_release", "CGROUP_SOCK", "BPF_CGROUP_INET_SOCK_RELEASE", ATTACHABLE],
  ["cgroup/sock", "CGROUP_SOCK", "BPF_CGROUP_INET_SOCK_CREATE", ATTACHABLE_OPT],
  ["cgroup/post_bind4", "CGROUP_SOCK", "BPF_CGROUP_INET4_POST_BIND", ATTACHABLE],
  ["cgroup/post_bind6", "CGROUP_SOCK", "BPF_CGROUP_INET6_POST_BIND", ATTACHABLE],
  ["cgroup/bind4", "CGROUP_SOCK_ADDR", "BPF_CGROUP_INET4_BIND", ATTACHABLE],
  ["cgroup/bind6", "CGROUP_SOCK_ADDR", "BPF_CGROUP_INET6_BIND", ATTACHABLE],
  ["cgroup/connect4", "CGROUP_SOCK_ADDR", "BPF_CGROUP_INET4_CONNECT", ATTACHABLE],
  ["cgroup/connect6", "CGROUP_SOCK_ADDR", "BPF_CGROUP_INET6_CONNECT", ATTACHABLE],
  ["cgroup/connect_unix", "CGROUP_SOCK_ADDR", "BPF_CGROUP_UNIX_CONNECT", ATTACHABLE],
  ["cgroup/sendmsg4", "CGROUP_SOCK_ADDR", "BPF_CGROUP_UDP4_SENDMSG", ATTACHABLE],
  ["cgroup/sendmsg6", "CGROUP_SOCK_ADDR", "BPF_CGROUP_UDP6_SENDMSG", ATTACHABLE],
  ["cgroup/sendmsg_unix", "CGROUP_SOCK_ADDR", "BPF_CGROUP_UNIX_SENDMSG", ATTACHABLE],
  ["cgroup/recvmsg4", "CGROUP_SOCK_ADDR", "BPF_CGROUP_UDP4_RECVMSG", ATTACHABLE],
  ["cgroup/recvmsg6", "CGROUP_SOCK_ADDR", "BPF_CGROUP_UDP6_RECVMSG", ATTACHABLE],
  ["cgroup/recvmsg_unix", "CGROUP_SOCK_ADDR", "BPF_CGROUP_UNIX_RECVMSG", ATTACHABLE],
  ["cgroup/getpeername4", "CGROUP_SOCK_ADDR", "BPF_CGROUP_INET4_GETPEERNAME", ATTACHABLE],
  ["cgroup/getpeername6", "CGROUP_SOCK_ADDR", "BPF_CGROUP_INET6_GETPEERNAME", ATTACHABLE],
  ["cgroup/getpeername_unix", "CGROUP_SOCK_ADDR", "BPF_CGROUP_UNIX_GETPEERNAME", ATTACHABLE],
  ["cgroup/getsockname4", "CGROUP_SOCK_ADDR", "BPF_CGROUP_INET4_GETSOCKNAME", ATTACHABLE],
  ["cgroup/getsockname6", "CGROUP_SOCK_ADDR", "BPF_CGROUP_INET6_GETSOCKNAME", ATTACHABLE],
  ["cgroup/getsockname_unix", "CGROUP_SOCK_ADDR", "BPF_CGROUP_UNIX_GETSOCKNAME", ATTACHABLE],
  ["cgroup/sysctl", "CGROUP_SYSCTL", "BPF_CGROUP_SYSCTL", ATTACHABLE],
  ["cgroup/getsockopt", "CGROUP_SOCKOPT", "BPF_CGROUP_GETSOCKOPT", ATTACHABLE],
  ["cgroup/setsockopt", "CGROUP_SOCKOPT", "BPF_CGROUP_SETSOCKOPT", ATTACHABLE],
  ["cgroup/dev", "CGROUP_DEVICE", "BPF_CGROUP_DEVICE", ATTACHABLE_OPT],
  ["struct_ops+", "STRUCT_OPS", undefined],
  ["struct_ops.s+", "STRUCT_OPS", undefined, ["sleepable"]],
  ["sk_lookup", "SK_LOOKUP", "BPF_SK_LOOKUP", ATTACHABLE],
  ["netfilter", "NETFILTER", "BPF_NETFILTER"],
];

/**
 * Every libbpf SEC definition, in matching order. Frozen.
 *
 * @example
 * ```ts
 * SEC_TABLE.filter((d) => d.flags.includes("sleepable")).map((d) => d.pattern); // ["uprobe.s+", ...]
 * ```
 */
export const SEC_TABLE: readonly SecDef[] = Object.freeze(
  ROWS.map(([pattern, prog, attach, flags]) =>
    Object.freeze({
      pattern,
      programType: `BPF_PROG_TYPE_${prog}`,
      expectedAttachType: attach,
      flags: Object.freeze([...(flags ?? [])]),
    }),
  ),
);
