// @ebpf/elf: global data (.data, .rodata, .bss, custom .data.*/.rodata.* sections), .kconfig and .ksyms
// externs (some __weak), a weak global, a static variable.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig;
extern bool CONFIG_MISSING_THING __kconfig __weak;
extern const int bpf_prog_active __ksym;
extern const void bpf_link_fops __ksym __weak;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym;

volatile const __u32 ro_limit = 42;
volatile const char ro_name[16] = "elf";
__u64 data_counter = 7;
__u64 bss_total;
static __u32 static_counter;
__u32 custom_value SEC(".data.custom") = 5;
const volatile __u64 custom_ro SEC(".rodata.custom") = 9;
__weak int weak_knob = 3;

SEC("tp/syscalls/sys_enter_getpid")
int data_user(void *ctx) {
  if (LINUX_KERNEL_VERSION < ro_limit || CONFIG_HZ == 0 || CONFIG_MISSING_THING)
    return 0;
  data_counter++;
  bss_total += ro_name[0] + custom_ro + weak_knob;
  static_counter++;
  custom_value += static_counter;
  if (&bpf_link_fops)
    bss_total += bpf_prog_active;
  return 0;
}

// kfunc calls: extern kernel functions (one weak), called with src_reg = BPF_PSEUDO_KFUNC_CALL.
SEC("tp_btf/task_newtask")
int kfunc_user(__u64 *ctx) {
  struct task_struct *task = (struct task_struct *)ctx[0];
  struct task_struct *acquired = bpf_task_acquire(task);
  if (acquired)
    bpf_task_release(acquired);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
