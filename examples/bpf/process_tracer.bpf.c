// Process tracer: one event per exec and per process exit, through a ring buffer.
// Shows tracepoints, a ring buffer, a hash map, CO-RE reads of task_struct, a .rodata setting and a
// .bss counter read live from user space.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16
#define FILENAME_LEN 64

enum event_kind { EVENT_EXEC = 0, EVENT_EXIT = 1 };

struct event {
  __u32 kind;
  __u32 pid;
  __u32 ppid;
  __s32 exit_code;
  __u64 duration_ns;
  char comm[TASK_COMM_LEN];
  char filename[FILENAME_LEN];
};

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8192);
  __type(key, __u32);
  __type(value, __u64);
} exec_start SEC(".maps");

/* Set from user space before load: exits of processes younger than this are not reported. */
const volatile __u64 min_duration_ns = 0;

/* Counters read live from user space through the mmapped .bss. */
__u64 exec_count = 0;
__u64 exit_count = 0;

/* Keep the event type in BTF so user space can decode records by name. */
struct event _event_type = {};

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  __u64 now = bpf_ktime_get_ns();
  struct event *e;
  unsigned int filename_off;

  bpf_map_update_elem(&exec_start, &pid, &now, BPF_ANY);
  __sync_fetch_and_add(&exec_count, 1);

  e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e)
    return 0;
  e->kind = EVENT_EXEC;
  e->pid = pid;
  e->ppid = BPF_CORE_READ(task, real_parent, tgid);
  e->exit_code = 0;
  e->duration_ns = 0;
  bpf_get_current_comm(&e->comm, sizeof(e->comm));
  filename_off = ctx->__data_loc_filename & 0xFFFF;
  bpf_probe_read_kernel_str(&e->filename, sizeof(e->filename), (void *)ctx + filename_off);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("tp/sched/sched_process_exit")
int handle_exit(void *ctx)
{
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  __u64 id = bpf_get_current_pid_tgid();
  __u32 pid = id >> 32;
  __u32 tid = (__u32)id;
  __u64 *start, duration = 0;
  struct event *e;

  if (pid != tid) /* a thread, not the process */
    return 0;
  start = bpf_map_lookup_elem(&exec_start, &pid);
  if (start)
    duration = bpf_ktime_get_ns() - *start;
  else if (min_duration_ns)
    return 0;
  bpf_map_delete_elem(&exec_start, &pid);
  if (min_duration_ns && duration < min_duration_ns)
    return 0;
  __sync_fetch_and_add(&exit_count, 1);

  e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e)
    return 0;
  e->kind = EVENT_EXIT;
  e->pid = pid;
  e->ppid = BPF_CORE_READ(task, real_parent, tgid);
  e->exit_code = (BPF_CORE_READ(task, exit_code) >> 8) & 0xff;
  e->duration_ns = duration;
  bpf_get_current_comm(&e->comm, sizeof(e->comm));
  e->filename[0] = 0;
  bpf_ringbuf_submit(e, 0);
  return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
