// kprobe.multi and kretprobe.multi (5.18+, CONFIG_FPROBE): count the hits of one process per attach cookie
// (bpf_get_attach_cookie: 0 when attached by pattern). The section patterns are what attachMulti() uses
// when called without functions. Loads on 5.15+ (bpf_get_attach_cookie); attaches on 5.18+.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} target_tgid SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, __u64);
  __type(value, __u64);
} hits SEC(".maps");

static __always_inline int count(void *ctx) {
  __u32 zero = 0;
  __u32 *tgid = bpf_map_lookup_elem(&target_tgid, &zero);
  if (!tgid || *tgid != (__u32)(bpf_get_current_pid_tgid() >> 32))
    return 0;
  __u64 cookie = bpf_get_attach_cookie(ctx);
  __u64 one = 1;
  __u64 *n = bpf_map_lookup_elem(&hits, &cookie);
  if (n)
    __sync_fetch_and_add(n, 1);
  else
    bpf_map_update_elem(&hits, &cookie, &one, BPF_NOEXIST);
  return 0;
}

SEC("kprobe.multi/__*_sys_getppid")
int kmulti_entry(struct pt_regs *ctx) {
  return count(ctx);
}

SEC("kretprobe.multi/__*_sys_getppid")
int kmulti_return(struct pt_regs *ctx) {
  return count(ctx);
}

char LICENSE[] SEC("license") = "GPL";
