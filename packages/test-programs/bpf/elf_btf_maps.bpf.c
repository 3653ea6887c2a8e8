// @ebpf/elf: BTF-defined maps in `.maps`: key/value as types or sizes, flags, numa_node, pinning,
// map_extra, map-in-map with an inner template and initial values, a prog array with initial values.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct value_t {
  __u64 packets;
  __u64 bytes;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, struct value_t);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} typed_hash SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 8);
  __uint(key_size, 4);
  __uint(value_size, 24);
  __uint(map_flags, BPF_F_NUMA_NODE);
  __uint(numa_node, 1);
} sized_array SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
  __uint(max_entries, 100);
  __type(value, __u32);
  __uint(map_extra, 3);
} bloom SEC(".maps");

struct inner_map {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, int);
  __type(value, int);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 4);
  __type(key, int);
  __array(values, struct inner_map);
} outer SEC(".maps") = {
    .values = {[0] = &inner_a, [3] = &inner_b},
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
  __uint(max_entries, 2);
  __type(key, int);
  __array(values, struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u16);
    __type(value, __u64);
  });
} outer_hash SEC(".maps");

int tail_one(struct __sk_buff *skb);
int tail_two(struct __sk_buff *skb);

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 3);
  __uint(key_size, sizeof(__u32));
  __array(values, int(struct __sk_buff *));
} jumps SEC(".maps") = {
    .values = {[0] = (void *)&tail_one, [2] = (void *)&tail_two},
};

SEC("tc")
int tail_one(struct __sk_buff *skb) {
  return 1;
}

SEC("tc")
int tail_two(struct __sk_buff *skb) {
  return 2;
}

SEC("tc")
int entry(struct __sk_buff *skb) {
  __u32 k = 0;
  struct value_t *v = bpf_map_lookup_elem(&typed_hash, &k);
  if (v)
    v->packets++;
  void *inner = bpf_map_lookup_elem(&outer, &k);
  if (inner)
    bpf_map_lookup_elem(inner, &k);
  bpf_ringbuf_output(&events, &k, sizeof(k), 0);
  bpf_map_push_elem(&bloom, &k, 0);
  bpf_map_lookup_elem(&sized_array, &k);
  bpf_tail_call(skb, &jumps, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
