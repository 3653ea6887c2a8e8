// @ebpf/elf: iproute2's `struct bpf_elf_map` layout in the `maps` section (tc programs of the tc-bpf era).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct bpf_elf_map {
  __u32 type;
  __u32 size_key;
  __u32 size_value;
  __u32 max_elem;
  __u32 flags;
  __u32 id;
  __u32 pinning;
  __u32 inner_id;
  __u32 inner_idx;
};

#define PIN_GLOBAL_NS 2

struct bpf_elf_map SEC("maps") tc_counts = {
    .type = BPF_MAP_TYPE_HASH,
    .size_key = sizeof(__u32),
    .size_value = sizeof(__u64),
    .max_elem = 128,
    .id = 7,
    .pinning = PIN_GLOBAL_NS,
};

struct bpf_elf_map SEC("maps") tc_array = {
    .type = BPF_MAP_TYPE_ARRAY,
    .size_key = sizeof(__u32),
    .size_value = sizeof(__u32),
    .max_elem = 2,
};

SEC("classifier")
int cls_main(struct __sk_buff *skb) {
  __u32 key = 0;
  return bpf_map_lookup_elem(&tc_counts, &key) && bpf_map_lookup_elem(&tc_array, &key);
}

char LICENSE[] SEC("license") = "GPL";
