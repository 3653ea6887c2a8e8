// The smallest useful object: one XDP program, one BTF-defined hash map, a license.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx) {
  __u32 key = 0;
  __u64 one = 1, *v = bpf_map_lookup_elem(&counts, &key);
  if (v)
    __sync_fetch_and_add(v, 1);
  else
    bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
