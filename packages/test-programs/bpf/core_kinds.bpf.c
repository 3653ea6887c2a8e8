// CO-RE relocations of every kind clang 14 emits, with local types that differ from the kernel's:
// flavors (___suffix), fields reordered and missing, nested anonymous members flattened, bitfields,
// arrays, enums. Each value is stored into out[] so that a test run can read what the kernel saw.
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

/* A subset of task_struct, in another order, with a field that does not exist. */
struct task_struct___mine {
  char comm[16];
  int tgid;
  int pid;
  unsigned int sched_contributes_to_load : 1;
  unsigned int sched_reset_on_fork : 1;
  int no_such_field_here;
} __attribute__((preserve_access_index));

/* sk_buff with its nested anonymous unions/structs flattened, and a bitfield. */
struct sk_buff___flat {
  struct sk_buff___flat *next;
  unsigned int len;
  __u8 pkt_type : 3;
  __u8 cloned : 1;
} __attribute__((preserve_access_index));

/* A type the kernel does not have. */
struct no_such_kernel_type___x {
  int a;
} __attribute__((preserve_access_index));

/* An enum with a value the kernel has (flavored) and one it lacks. */
enum bpf_map_type___mine {
  BPF_MAP_TYPE_RINGBUF___mine = 1000,
  BPF_MAP_TYPE_NOT_IN_KERNEL___mine = 1001,
};

__u64 out[32];

SEC("xdp")
int core_kinds(struct xdp_md *ctx) {
  struct task_struct___mine *t = 0;
  struct sk_buff___flat *s = 0;

  out[0] = bpf_core_field_offset(struct task_struct___mine, pid);
  out[1] = bpf_core_field_offset(struct task_struct___mine, tgid);
  out[2] = bpf_core_field_size(struct task_struct___mine, comm);
  out[3] = bpf_core_field_offset(struct task_struct___mine, comm[5]);
  out[4] = bpf_core_field_exists(struct task_struct___mine, pid);
  out[5] = bpf_core_field_exists(struct task_struct___mine, no_such_field_here);
  out[6] = __builtin_preserve_field_info(t->pid, BPF_FIELD_SIGNED);
  out[7] = __builtin_preserve_field_info(t->sched_reset_on_fork, BPF_FIELD_LSHIFT_U64);
  out[8] = __builtin_preserve_field_info(t->sched_reset_on_fork, BPF_FIELD_RSHIFT_U64);
  out[9] = __builtin_preserve_field_info(t->sched_contributes_to_load, BPF_FIELD_BYTE_OFFSET);
  out[10] = __builtin_preserve_field_info(t->sched_contributes_to_load, BPF_FIELD_BYTE_SIZE);
  out[11] = bpf_core_field_offset(struct sk_buff___flat, next);
  out[12] = bpf_core_field_offset(struct sk_buff___flat, len);
  out[13] = __builtin_preserve_field_info(s->pkt_type, BPF_FIELD_LSHIFT_U64);
  out[14] = __builtin_preserve_field_info(s->pkt_type, BPF_FIELD_RSHIFT_U64);
  out[15] = __builtin_preserve_field_info(s->cloned, BPF_FIELD_SIGNED);
  out[16] = bpf_core_type_exists(struct task_struct___mine);
  out[17] = bpf_core_type_exists(struct no_such_kernel_type___x);
  out[18] = bpf_core_type_size(struct task_struct___mine);
  out[19] = bpf_core_type_size(struct sk_buff___flat);
  out[20] = bpf_core_type_id_local(struct task_struct___mine);
  out[21] = bpf_core_type_id_kernel(struct task_struct___mine);
  out[22] = bpf_core_enum_value_exists(enum bpf_map_type___mine, BPF_MAP_TYPE_RINGBUF___mine);
  out[23] = bpf_core_enum_value_exists(enum bpf_map_type___mine, BPF_MAP_TYPE_NOT_IN_KERNEL___mine);
  out[24] = bpf_core_enum_value(enum bpf_map_type___mine, BPF_MAP_TYPE_RINGBUF___mine);
  /* Unsatisfiable, but guarded: the poison sits in dead code and the verifier accepts the program. */
  if (bpf_core_field_exists(t->no_such_field_here))
    out[25] = bpf_core_field_offset(struct task_struct___mine, no_such_field_here);
  else
    out[25] = 7;
  out[26] = 0xc0de;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
