// Linking and data relocations: static and global subprograms in .text called from two programs,
// a nested call chain, maps, .data/.rodata/.bss with offsets. Loads on every kernel (5.10+): callbacks
// (BPF_PSEUDO_FUNC, bpf_loop, 5.17) are in reloc_callback.bpf.c.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} results SEC(".maps");

__u64 counter = 5;               /* .data */
const volatile __u64 factor = 3; /* .rodata */
__u64 scratch[4];                /* .bss */

static __noinline __u64 square(__u64 x) {
  return x * x;
}

static __noinline __u64 add_square(__u64 a, __u64 b) {
  return a + square(b);
}

__noinline int global_helper(int x) {
  return x + 1;
}

static __always_inline void put(__u32 k, __u64 v) {
  bpf_map_update_elem(&results, &k, &v, BPF_ANY);
}

SEC("xdp")
int link_main(struct xdp_md *ctx) {
  put(0, add_square(1, factor));       /* 1 + 9 = 10 */
  put(1, add_square(counter, factor)); /* 5 + 9 = 14 */
  put(2, global_helper(41));           /* 42 */
  scratch[2] = square(7);              /* 49 */
  put(3, scratch[2]);
  return XDP_PASS;
}

SEC("xdp")
int link_other(struct xdp_md *ctx) {
  scratch[1] = square(counter) + global_helper(0); /* 26 */
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
