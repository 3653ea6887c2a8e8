// @ebpf/elf: struct_ops maps in `.struct_ops` and `.struct_ops.link` (a TCP congestion control), whose
// function-pointer members are relocated against struct_ops programs.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("struct_ops/elf_init")
void elf_init(struct sock *sk) {
}

SEC("struct_ops/elf_ssthresh")
__u32 elf_ssthresh(struct sock *sk) {
  return 10;
}

SEC("struct_ops/elf_undo_cwnd")
__u32 elf_undo_cwnd(struct sock *sk) {
  return 2;
}

SEC("struct_ops.s/elf_cong_avoid")
void elf_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) {
}

SEC(".struct_ops")
struct tcp_congestion_ops elf_cc = {
    .init = (void *)elf_init,
    .ssthresh = (void *)elf_ssthresh,
    .undo_cwnd = (void *)elf_undo_cwnd,
    .cong_avoid = (void *)elf_cong_avoid,
    .name = "elf_cc",
};

SEC(".struct_ops.link")
struct tcp_congestion_ops elf_cc_link = {
    .ssthresh = (void *)elf_ssthresh,
    .undo_cwnd = (void *)elf_undo_cwnd,
    .cong_avoid = (void *)elf_cong_avoid,
    .flags = 1,
    .name = "elf_cc_link",
};

char LICENSE[] SEC("license") = "GPL";
