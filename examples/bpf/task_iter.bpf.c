// Task iterator: one line per process (thread-group leader) on the machine, written as text into the
// iterator's seq_file; user space reads it like a file, once per pass.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* .rodata: also list every thread, not just processes. */
const volatile bool include_threads = false;

SEC("iter/task")
int list_tasks(struct bpf_iter__task *ctx)
{
  struct seq_file *seq = ctx->meta->seq;
  struct task_struct *task = ctx->task;

  if (!task) /* end of the pass: the last call has no task */
    return 0;
  if (ctx->meta->seq_num == 0)
    BPF_SEQ_PRINTF(seq, "%8s %8s %8s %7s %s\n", "TGID", "TID", "PPID", "THREADS", "COMM");
  if (!include_threads && task->pid != task->tgid)
    return 0;
  /* Pointers from the iterator context are BTF pointers: plain loads, checked by the verifier. */
  BPF_SEQ_PRINTF(seq, "%8d %8d %8d %7d %s\n", task->tgid, task->pid, task->real_parent->tgid,
                 task->signal->nr_threads, task->comm);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
