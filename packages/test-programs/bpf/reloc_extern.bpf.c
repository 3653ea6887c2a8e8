// Extern relocations: .kconfig values (present, absent-weak, bool, tristate, string), kfunc calls, and
// a weak kfunc that resolves to nothing. The task kfuncs are weak too, guarded by their address (what
// bpf_ksym_exists does): they landed in 6.2, and older kernels must still load this object (libbpf
// poisons the unresolved calls, and the verifier drops them as dead code). (Typed __ksym variables are in reloc_ksym.bpf.c: this kernel
// cannot resolve per-CPU symbol addresses, so that one is only relocated, never loaded.)
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig __weak;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig __weak;
extern char CONFIG_DEFAULT_HOSTNAME[16] __kconfig __weak;
extern int CONFIG_NOT_A_REAL_OPTION_XYZ __kconfig __weak;

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;
extern void bpf_kfunc_that_does_not_exist(void) __ksym __weak;

__u64 out[8];

SEC("tp_btf/sched_switch")
int BPF_PROG(extern_prog, bool preempt, struct task_struct *prev, struct task_struct *next) {
  struct task_struct *t;

  out[0] = LINUX_KERNEL_VERSION;
  out[1] = CONFIG_HZ;
  out[2] = CONFIG_BPF_SYSCALL;
  out[3] = CONFIG_BPF_JIT;
  out[4] = CONFIG_DEFAULT_HOSTNAME[0];
  out[5] = CONFIG_NOT_A_REAL_OPTION_XYZ;
  if (bpf_task_acquire && bpf_task_release) {
    t = bpf_task_acquire(next);
    if (t) {
      out[7] = t->pid;
      bpf_task_release(t);
    }
  }
  if (bpf_kfunc_that_does_not_exist)
    bpf_kfunc_that_does_not_exist();
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
