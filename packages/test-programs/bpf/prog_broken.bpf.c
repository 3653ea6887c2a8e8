// Deliberately broken programs for @ebpf/programs' VerifierError tests: each one is rejected by the
// verifier at a known source line (marked with "FAILS HERE").
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int ctx_out_of_bounds(struct xdp_md *ctx) {
  __u32 ok = ctx->ingress_ifindex;
  __u32 bad = *(volatile __u32 *)((char *)ctx + 400); /* FAILS HERE: ctx_out_of_bounds */
  return ok + bad > 0 ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int packet_unchecked(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  __u8 first = *(volatile __u8 *)data; /* FAILS HERE: packet_unchecked */
  return first == 0x45 ? XDP_DROP : XDP_PASS;
}

SEC("socket")
int scalar_deref(struct __sk_buff *skb) {
  __u64 addr = skb->len;
  return *(volatile __u32 *)addr; /* FAILS HERE: scalar_deref */
}

char LICENSE[] SEC("license") = "GPL";
