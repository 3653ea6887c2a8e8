// @ebpf/elf: a static callback passed by address (ld_imm64 of a function, bpf_loop) and string literals
// from bpf_printk (.rodata.str1.1), plus a weak global subprogram.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct loop_ctx {
  int sum;
};

static int add_index(__u32 index, void *data) {
  struct loop_ctx *c = data;
  c->sum += index;
  return 0;
}

__weak __noinline int weak_scale(int x) {
  return x * 3;
}

SEC("tp/syscalls/sys_enter_getpid")
int loop_user(void *ctx) {
  struct loop_ctx c = {0};
  bpf_loop(10, add_index, &c, 0);
  bpf_printk("sum %d", weak_scale(c.sum));
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
