// An iterator for @ebpf/programs' Iter tests: writes each task's tgid and pid (two u32) to the seq file.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("iter/task")
int dump_tasks(struct bpf_iter__task *ctx) {
  struct seq_file *seq = ctx->meta->seq;
  struct task_struct *task = ctx->task;
  if (!task)
    return 0;
  __u32 ids[2] = {task->tgid, task->pid};
  bpf_seq_write(seq, ids, sizeof(ids));
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
