// An unsatisfiable CO-RE relocation on a reachable instruction: the loader must reject the program at
// the poisoned instruction, and the error must name the relocation and the source line.
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

struct task_struct___poison {
  int pid;
  int field_the_kernel_lacks;
} __attribute__((preserve_access_index));

__u64 out[2];

SEC("xdp")
int core_poisoned(struct xdp_md *ctx) {
  out[0] = bpf_core_field_offset(struct task_struct___poison, field_the_kernel_lacks);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
