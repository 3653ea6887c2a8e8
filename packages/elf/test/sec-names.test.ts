// The SEC-name table against libbpf's matching rules.
import { describe, expect, it } from "vitest";
import { matchSectionName, SEC_TABLE } from "../src/index.js";

type Row = [
  name: string,
  programType: string,
  attachType: string | undefined,
  attachTo: string | undefined,
  sleepable?: boolean,
];

const P = (t: string) => `BPF_PROG_TYPE_${t}`;

const CASES: Row[] = [
  ["socket", P("SOCKET_FILTER"), undefined, undefined],
  ["sk_reuseport", P("SK_REUSEPORT"), "BPF_SK_REUSEPORT_SELECT", undefined],
  ["sk_reuseport/migrate", P("SK_REUSEPORT"), "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE", undefined],
  ["kprobe/do_unlinkat", P("KPROBE"), undefined, "do_unlinkat"],
  ["kprobe", P("KPROBE"), undefined, undefined],
  ["kretprobe/do_unlinkat+0x10", P("KPROBE"), undefined, "do_unlinkat+0x10"],
  ["ksyscall/openat", P("KPROBE"), undefined, "openat"],
  ["kretsyscall/openat", P("KPROBE"), undefined, "openat"],
  ["kprobe.multi/tcp_*", P("KPROBE"), "BPF_TRACE_KPROBE_MULTI", "tcp_*"],
  ["kretprobe.multi/tcp_*", P("KPROBE"), "BPF_TRACE_KPROBE_MULTI", "tcp_*"],
  ["kprobe.session/vfs_read", P("KPROBE"), "BPF_TRACE_KPROBE_SESSION", "vfs_read"],
  ["uprobe//bin/bash:readline", P("KPROBE"), undefined, "/bin/bash:readline"],
  ["uretprobe.s//bin/bash:readline", P("KPROBE"), undefined, "/bin/bash:readline", true],
  ["uprobe.s", P("KPROBE"), undefined, undefined, true],
  ["uprobe.multi//lib/libc.so.6:malloc", P("KPROBE"), "BPF_TRACE_UPROBE_MULTI", "/lib/libc.so.6:malloc"],
  ["uretprobe.multi.s/x:y", P("KPROBE"), "BPF_TRACE_UPROBE_MULTI", "x:y", true],
  ["usdt/libc:probe", P("KPROBE"), undefined, "libc:probe"],
  ["usdt.s/libc:probe", P("KPROBE"), undefined, "libc:probe", true],
  ["uretprobe//bin/bash:readline", P("KPROBE"), undefined, "/bin/bash:readline"],
  ["uretprobe.multi/x:y", P("KPROBE"), "BPF_TRACE_UPROBE_MULTI", "x:y"],
  ["uprobe.multi.s/x:y", P("KPROBE"), "BPF_TRACE_UPROBE_MULTI", "x:y", true],
  ["uprobe.session/x:y", P("KPROBE"), "BPF_TRACE_UPROBE_SESSION", "x:y"],
  ["uprobe.session.s/x:y", P("KPROBE"), "BPF_TRACE_UPROBE_SESSION", "x:y", true],
  ["tc", P("SCHED_CLS"), undefined, undefined],
  ["tc/ingress", P("SCHED_CLS"), "BPF_TCX_INGRESS", undefined],
  ["tc/egress", P("SCHED_CLS"), "BPF_TCX_EGRESS", undefined],
  ["tcx/ingress", P("SCHED_CLS"), "BPF_TCX_INGRESS", undefined],
  ["tcx/egress", P("SCHED_CLS"), "BPF_TCX_EGRESS", undefined],
  ["netkit/primary", P("SCHED_CLS"), "BPF_NETKIT_PRIMARY", undefined],
  ["netkit/peer", P("SCHED_CLS"), "BPF_NETKIT_PEER", undefined],
  ["classifier", P("SCHED_CLS"), undefined, undefined],
  ["action", P("SCHED_ACT"), undefined, undefined],
  ["tracepoint/syscalls/sys_enter_openat", P("TRACEPOINT"), undefined, "syscalls/sys_enter_openat"],
  ["tp/sched/sched_switch", P("TRACEPOINT"), undefined, "sched/sched_switch"],
  ["raw_tp/sched_switch", P("RAW_TRACEPOINT"), undefined, "sched_switch"],
  ["raw_tracepoint/sched_switch", P("RAW_TRACEPOINT"), undefined, "sched_switch"],
  ["raw_tp.w/bpf_test_finish", P("RAW_TRACEPOINT_WRITABLE"), undefined, "bpf_test_finish"],
  ["raw_tracepoint.w/x", P("RAW_TRACEPOINT_WRITABLE"), undefined, "x"],
  ["tp_btf/sched_switch", P("TRACING"), "BPF_TRACE_RAW_TP", "sched_switch"],
  ["fentry/do_unlinkat", P("TRACING"), "BPF_TRACE_FENTRY", "do_unlinkat"],
  ["fexit/do_unlinkat", P("TRACING"), "BPF_TRACE_FEXIT", "do_unlinkat"],
  ["fmod_ret/x", P("TRACING"), "BPF_MODIFY_RETURN", "x"],
  ["fentry.s/x", P("TRACING"), "BPF_TRACE_FENTRY", "x", true],
  ["fexit.s/x", P("TRACING"), "BPF_TRACE_FEXIT", "x", true],
  ["fmod_ret.s/x", P("TRACING"), "BPF_MODIFY_RETURN", "x", true],
  ["freplace/handler", P("EXT"), undefined, "handler"],
  ["lsm/file_open", P("LSM"), "BPF_LSM_MAC", "file_open"],
  ["lsm.s/file_open", P("LSM"), "BPF_LSM_MAC", "file_open", true],
  ["lsm_cgroup/socket_bind", P("LSM"), "BPF_LSM_CGROUP", "socket_bind"],
  ["iter/bpf_map", P("TRACING"), "BPF_TRACE_ITER", "bpf_map"],
  ["iter.s/task", P("TRACING"), "BPF_TRACE_ITER", "task", true],
  ["syscall", P("SYSCALL"), undefined, undefined, true],
  ["xdp", P("XDP"), "BPF_XDP", undefined],
  ["xdp.frags", P("XDP"), "BPF_XDP", undefined],
  ["xdp/devmap", P("XDP"), "BPF_XDP_DEVMAP", undefined],
  ["xdp/cpumap", P("XDP"), "BPF_XDP_CPUMAP", undefined],
  ["xdp.frags/devmap", P("XDP"), "BPF_XDP_DEVMAP", undefined],
  ["xdp.frags/cpumap", P("XDP"), "BPF_XDP_CPUMAP", undefined],
  ["perf_event", P("PERF_EVENT"), undefined, undefined],
  ["lwt_in", P("LWT_IN"), undefined, undefined],
  ["lwt_out", P("LWT_OUT"), undefined, undefined],
  ["lwt_xmit", P("LWT_XMIT"), undefined, undefined],
  ["lwt_seg6local", P("LWT_SEG6LOCAL"), undefined, undefined],
  ["sockops", P("SOCK_OPS"), "BPF_CGROUP_SOCK_OPS", undefined],
  ["sk_skb", P("SK_SKB"), undefined, undefined],
  ["sk_skb/stream_parser", P("SK_SKB"), "BPF_SK_SKB_STREAM_PARSER", undefined],
  ["sk_skb/stream_verdict", P("SK_SKB"), "BPF_SK_SKB_STREAM_VERDICT", undefined],
  ["sk_skb/verdict", P("SK_SKB"), "BPF_SK_SKB_VERDICT", undefined],
  ["sk_msg", P("SK_MSG"), "BPF_SK_MSG_VERDICT", undefined],
  ["lirc_mode2", P("LIRC_MODE2"), "BPF_LIRC_MODE2", undefined],
  ["flow_dissector", P("FLOW_DISSECTOR"), "BPF_FLOW_DISSECTOR", undefined],
  ["cgroup_skb/ingress", P("CGROUP_SKB"), "BPF_CGROUP_INET_INGRESS", undefined],
  ["cgroup_skb/egress", P("CGROUP_SKB"), "BPF_CGROUP_INET_EGRESS", undefined],
  ["cgroup/skb", P("CGROUP_SKB"), undefined, undefined],
  ["cgroup/sock", P("CGROUP_SOCK"), "BPF_CGROUP_INET_SOCK_CREATE", undefined],
  ["cgroup/sock_create", P("CGROUP_SOCK"), "BPF_CGROUP_INET_SOCK_CREATE", undefined],
  ["cgroup/sock_release", P("CGROUP_SOCK"), "BPF_CGROUP_INET_SOCK_RELEASE", undefined],
  ["cgroup/post_bind4", P("CGROUP_SOCK"), "BPF_CGROUP_INET4_POST_BIND", undefined],
  ["cgroup/post_bind6", P("CGROUP_SOCK"), "BPF_CGROUP_INET6_POST_BIND", undefined],
  ["cgroup/bind4", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_INET4_BIND", undefined],
  ["cgroup/bind6", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_INET6_BIND", undefined],
  ["cgroup/connect4", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_INET4_CONNECT", undefined],
  ["cgroup/connect6", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_INET6_CONNECT", undefined],
  ["cgroup/connect_unix", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_UNIX_CONNECT", undefined],
  ["cgroup/sendmsg4", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_UDP4_SENDMSG", undefined],
  ["cgroup/sendmsg6", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_UDP6_SENDMSG", undefined],
  ["cgroup/sendmsg_unix", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_UNIX_SENDMSG", undefined],
  ["cgroup/recvmsg4", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_UDP4_RECVMSG", undefined],
  ["cgroup/recvmsg6", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_UDP6_RECVMSG", undefined],
  ["cgroup/recvmsg_unix", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_UNIX_RECVMSG", undefined],
  ["cgroup/getpeername4", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_INET4_GETPEERNAME", undefined],
  ["cgroup/getpeername6", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_INET6_GETPEERNAME", undefined],
  ["cgroup/getpeername_unix", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_UNIX_GETPEERNAME", undefined],
  ["cgroup/getsockname4", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_INET4_GETSOCKNAME", undefined],
  ["cgroup/getsockname6", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_INET6_GETSOCKNAME", undefined],
  ["cgroup/getsockname_unix", P("CGROUP_SOCK_ADDR"), "BPF_CGROUP_UNIX_GETSOCKNAME", undefined],
  ["cgroup/sysctl", P("CGROUP_SYSCTL"), "BPF_CGROUP_SYSCTL", undefined],
  ["cgroup/getsockopt", P("CGROUP_SOCKOPT"), "BPF_CGROUP_GETSOCKOPT", undefined],
  ["cgroup/setsockopt", P("CGROUP_SOCKOPT"), "BPF_CGROUP_SETSOCKOPT", undefined],
  ["cgroup/dev", P("CGROUP_DEVICE"), "BPF_CGROUP_DEVICE", undefined],
  ["struct_ops/dctcp_init", P("STRUCT_OPS"), undefined, "dctcp_init"],
  ["struct_ops.s/x", P("STRUCT_OPS"), undefined, "x", true],
  ["sk_lookup", P("SK_LOOKUP"), "BPF_SK_LOOKUP", undefined],
  ["netfilter", P("NETFILTER"), "BPF_NETFILTER", undefined],
];

describe("matchSectionName", () => {
  it.each(CASES)("%s", (name, programType, attachType, attachTo, sleepable = false) => {
    const m = matchSectionName(name);
    expect(m).toBeDefined();
    expect([m?.programType, m?.expectedAttachType, m?.attachTo, m?.sleepable]).toEqual([
      programType,
      attachType,
      attachTo,
      sleepable,
    ]);
  });

  it.each([
    "xdp/foo", // exact-only entries do not take suffixes (libbpf 1.0 strict mode)
    "kprobeX", // "+" needs an exact match or a "/" separator
    "tracepointfoo",
    "socket/1",
    "cgroup/unknown_hook",
    "sk_skb/unknown",
    ".text",
    "",
  ])("rejects %j", (name) => {
    expect(matchSectionName(name)).toBeUndefined();
  });

  it("has every pattern once, all program types named like the kernel enum", () => {
    const patterns = SEC_TABLE.map((d) => d.pattern);
    expect(new Set(patterns).size).toBe(patterns.length);
    for (const d of SEC_TABLE) {
      expect(d.programType).toMatch(/^BPF_PROG_TYPE_[A-Z0-9_]+$/);
      if (d.expectedAttachType !== undefined) expect(d.expectedAttachType).toMatch(/^BPF_[A-Z0-9_]+$/);
      expect(Object.isFrozen(d)).toBe(true);
    }
    // Every table entry is exercised by a case above, so nothing in the table is untested.
    const hit = new Set(CASES.map(([n]) => matchSectionName(n)?.def.pattern));
    const untested = patterns.filter((p) => !hit.has(p));
    expect(untested).toEqual([]);
  });
});
