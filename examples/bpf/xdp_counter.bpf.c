// XDP per-protocol packet counter: counts every frame arriving on an interface by IP protocol number
// (IPv4 protocol or IPv6 next header), plus one slot for frames that are not IP (ARP...), in a per-CPU
// array, so CPUs never contend on a counter. It lets every packet through.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define NOT_IP_SLOT 256

struct counter {
  __u64 packets;
  __u64 bytes;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, NOT_IP_SLOT + 1);
  __type(key, __u32);
  __type(value, struct counter);
} protocols SEC(".maps");

SEC("xdp")
int count_protocols(struct xdp_md *ctx)
{
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  __u32 slot = NOT_IP_SLOT;
  struct counter *c;

  if ((void *)(eth + 1) > data_end)
    return XDP_PASS;
  if (eth->h_proto == bpf_htons(ETH_P_IP)) {
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) <= data_end)
      slot = ip->protocol;
  } else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr *ip6 = (void *)(eth + 1);
    if ((void *)(ip6 + 1) <= data_end)
      slot = ip6->nexthdr;
  }
  c = bpf_map_lookup_elem(&protocols, &slot);
  if (c) {
    /* Per-CPU value: no other CPU writes it, a plain add is enough. */
    c->packets++;
    c->bytes += data_end - data;
  }
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
