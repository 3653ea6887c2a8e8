// @ebpf/elf: legacy `maps` section with `struct bpf_map_def` (libbpf < 1.0 layout), several per section.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
  unsigned int type;
  unsigned int key_size;
  unsigned int value_size;
  unsigned int max_entries;
  unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_hash = {
    .type = BPF_MAP_TYPE_HASH,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u64),
    .max_entries = 64,
    .map_flags = BPF_F_NO_PREALLOC,
};

struct bpf_map_def SEC("maps") legacy_array = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(__u32),
    .value_size = 16,
    .max_entries = 4,
};

struct bpf_map_def SEC("maps") legacy_perf = {
    .type = BPF_MAP_TYPE_PERF_EVENT_ARRAY,
    .key_size = sizeof(int),
    .value_size = sizeof(__u32),
    .max_entries = 0,
};

SEC("socket")
int legacy_user(struct __sk_buff *skb) {
  __u32 key = 0;
  __u64 *v = bpf_map_lookup_elem(&legacy_hash, &key);
  if (v)
    return *v;
  return bpf_map_lookup_elem(&legacy_array, &key) ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
