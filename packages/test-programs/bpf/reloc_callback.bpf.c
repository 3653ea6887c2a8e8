// Callbacks: a bpf_loop callback (ld_imm64 BPF_PSEUDO_FUNC) that calls a subprogram the program also
// calls. The kernel takes callbacks from 5.17 (bpf_loop; BPF_PSEUDO_FUNC from 5.13): older verifiers do
// not count the callback as a subprogram, so libbpf and we both get "number of funcs in func_info
// doesn't match number of subprogs" there.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__u64 out[2];

static __noinline __u64 square(__u64 x) {
  return x * x;
}

static int loop_cb(__u32 index, void *ctx) {
  *(__u64 *)ctx += square(index);
  return 0;
}

SEC("xdp")
int callback_main(struct xdp_md *ctx) {
  __u64 acc = 0;
  bpf_loop(5, loop_cb, &acc, 0); /* 0+1+4+9+16 = 30 */
  out[0] = acc;
  out[1] = square(7); /* 49 */
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
