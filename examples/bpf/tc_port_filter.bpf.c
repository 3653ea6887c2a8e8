// TC egress filter: drops IPv4 UDP packets to one destination port on their way out of an interface.
// The port is a .rodata constant set from user space before load; verdicts are counted in an array map.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define TC_ACT_SHOT 2
/* With tcx, TC_ACT_UNSPEC (-1) is TCX_NEXT: leave the packet to the next program, or let it pass. */
#define TC_ACT_UNSPEC -1

enum verdict_slot { PASSED = 0, DROPPED = 1 };

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} verdicts SEC(".maps");

/* UDP destination port to drop (host byte order); 0 drops nothing. */
const volatile __u16 blocked_port = 0;

static void count(__u32 slot)
{
  __u64 *v = bpf_map_lookup_elem(&verdicts, &slot);
  if (v)
    __sync_fetch_and_add(v, 1);
}

SEC("tc")
int drop_udp_port(struct __sk_buff *skb)
{
  struct iphdr iph;
  struct udphdr udp;
  __u32 l3 = sizeof(struct ethhdr);

  if (blocked_port == 0 || skb->protocol != bpf_htons(ETH_P_IP))
    goto pass;
  if (bpf_skb_load_bytes(skb, l3, &iph, sizeof(iph)) || iph.protocol != IPPROTO_UDP)
    goto pass;
  /* Only the first fragment carries the UDP header. */
  if (iph.frag_off & bpf_htons(0x1fff))
    goto pass;
  if (bpf_skb_load_bytes(skb, l3 + iph.ihl * 4, &udp, sizeof(udp)))
    goto pass;
  if (bpf_ntohs(udp.dest) == blocked_port) {
    count(DROPPED);
    return TC_ACT_SHOT;
  }
pass:
  count(PASSED);
  return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
