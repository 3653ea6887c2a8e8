// @ebpf/elf: program discovery. Several programs per section, static and global subprograms in .text and
// in other sections, `?` (no autoload), sleepable variants, and SEC names with attach targets.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// A static subprogram in .text.
static __noinline int add_one(int x) {
  return x + 1;
}

// A global subprogram in .text (verified separately by the kernel).
__noinline int global_double(int x) {
  return x * 2;
}

// A static subprogram placed in a non-.text section.
static __noinline __attribute__((section("xdp"))) int in_xdp_helper(int x) {
  return x - 3;
}

// Two programs in the same section.
SEC("xdp")
int xdp_first(struct xdp_md *ctx) {
  return add_one(ctx->ingress_ifindex) > 0 ? XDP_PASS : in_xdp_helper(ctx->rx_queue_index);
}

SEC("xdp")
int xdp_second(struct xdp_md *ctx) {
  return global_double(ctx->rx_queue_index) ? XDP_DROP : XDP_PASS;
}

SEC("?tc")
int tc_not_autoloaded(struct __sk_buff *skb) {
  return add_one(skb->len) ? 0 : 1;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_openat(void *ctx) {
  return 0;
}

SEC("kretprobe/do_unlinkat")
int kret_unlinkat(void *ctx) {
  return 0;
}

SEC("fentry.s/do_sys_openat2")
int sleepable_fentry(void *ctx) {
  return 0;
}

SEC("uprobe//usr/bin/bash:readline")
int up_readline(void *ctx) {
  return 0;
}

SEC("cgroup/connect_unix")
int connect_unix(struct bpf_sock_addr *ctx) {
  return 1;
}

SEC("sk_reuseport/migrate")
int reuseport_migrate(struct sk_reuseport_md *ctx) {
  return 1;
}

SEC("iter.s/task")
int iter_task(void *ctx) {
  return 0;
}

SEC("lsm_cgroup/socket_bind")
int lsm_bind(void *ctx) {
  return 0;
}

SEC("xdp.frags/devmap")
int xdp_devmap(struct xdp_md *ctx) {
  return XDP_PASS;
}

SEC("syscall")
int a_syscall(void *ctx) {
  return 0;
}

SEC("my_unknown_section")
int unknown_prog(void *ctx) {
  return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
__u32 _version SEC("version") = 0x050a00;
