// Uprobe and uretprobe on a user-space function: `int compute(int a, int b)` of a program the example
// builds and starts. The entry probe sees the arguments, the return probe the result; both are summed
// into .bss counters that user space reads live.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 calls = 0;
__s64 sum_a = 0;
__s64 sum_b = 0;
__u64 returns = 0;
__s64 sum_ret = 0;
__u32 last_pid = 0;

SEC("uprobe")
int BPF_KPROBE(on_compute, int a, int b)
{
  __sync_fetch_and_add(&calls, 1);
  __sync_fetch_and_add(&sum_a, a);
  __sync_fetch_and_add(&sum_b, b);
  last_pid = bpf_get_current_pid_tgid() >> 32;
  return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(on_compute_return, int ret)
{
  __sync_fetch_and_add(&returns, 1);
  __sync_fetch_and_add(&sum_ret, ret);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
