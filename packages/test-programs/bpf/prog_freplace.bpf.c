// freplace tests for @ebpf/programs: xdp_entry calls the global function decide(), which the extension
// program replaces (its return value becomes the XDP action).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int decide(struct xdp_md *ctx) {
  if (!ctx)
    return XDP_ABORTED;
  return XDP_PASS;
}

SEC("xdp")
int xdp_entry(struct xdp_md *ctx) {
  return decide(ctx);
}

SEC("freplace/decide")
int decide_drop(struct xdp_md *ctx) {
  return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
