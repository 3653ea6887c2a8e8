// bpf-to-bpf calls across sections: a program calls a subprogram placed in another executable section,
// which calls one in .text (sections_main, every kernel), and a program that passes a callback from that
// other section to bpf_loop (sections_loop, kernel 5.17+). (libbpf 1.1 refuses calls outside .text; the
// kernel accepts them once a loader links them.)
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__u64 result[2];

static __noinline __u64 twice(__u64 x) {
  return 2 * x;
}

__attribute__((section(".text.extra"))) __noinline __u64 plus_twice(__u64 a, __u64 b) {
  return a + twice(b);
}

__attribute__((section(".text.extra"))) static int sum_cb(__u32 i, void *ctx) {
  *(__u64 *)ctx += i;
  return 0;
}

SEC("xdp")
int sections_main(struct xdp_md *ctx) {
  result[1] = plus_twice(1, 20); /* 41 */
  return XDP_PASS;
}

SEC("xdp")
int sections_loop(struct xdp_md *ctx) {
  __u64 acc = 0;
  bpf_loop(4, sum_cb, &acc, 0); /* 0+1+2+3 = 6 */
  result[0] = acc;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
