// A typed __ksym variable (BPF_PSEUDO_BTF_ID) and a weak one that resolves to nothing. Relocated in
// unit tests only: this kernel cannot resolve per-CPU symbol addresses at load time.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern const struct rq runqueues __ksym;
extern const int no_such_kernel_variable __ksym __weak;

__u64 out[2];

SEC("tp_btf/sched_switch")
int ksym_prog(void *ctx) {
  const struct rq *rq = bpf_this_cpu_ptr(&runqueues);
  out[0] = rq->cpu;
  out[1] = (__u64)&no_such_kernel_variable;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
