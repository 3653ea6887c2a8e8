// A cgroup_skb firewall: counts every packet entering the cgroup's sockets and drops UDP packets to one
// port, chosen from user space through .rodata before load.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800

enum verdict_slot { PASSED = 0, DROPPED = 1 };

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} packets SEC(".maps");

/* UDP destination port to drop (host byte order); 0 drops nothing. */
const volatile __u16 blocked_port = 0;

static void count(__u32 slot)
{
  __u64 *v = bpf_map_lookup_elem(&packets, &slot);
  if (v)
    __sync_fetch_and_add(v, 1);
}

SEC("cgroup_skb/ingress")
int ingress_filter(struct __sk_buff *skb)
{
  struct iphdr iph;
  struct udphdr udp;

  if (blocked_port == 0 || skb->protocol != bpf_htons(ETH_P_IP))
    goto pass;
  if (bpf_skb_load_bytes(skb, 0, &iph, sizeof(iph)) || iph.protocol != IPPROTO_UDP)
    goto pass;
  if (bpf_skb_load_bytes(skb, iph.ihl * 4, &udp, sizeof(udp)))
    goto pass;
  if (bpf_ntohs(udp.dest) == blocked_port) {
    count(DROPPED);
    return 0; /* drop */
  }
pass:
  count(PASSED);
  return 1; /* allow */
}

char LICENSE[] SEC("license") = "GPL";
