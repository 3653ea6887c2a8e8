// Run-queue latency: how long tasks wait on a CPU's run queue between becoming runnable (woken up, or
// preempted while still runnable) and actually running. BTF tracepoints on sched_wakeup,
// sched_wakeup_new and sched_switch; the waits go into a log2 histogram of microseconds.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_SLOTS 32
#define TASK_RUNNING 0

/* Histogram: slot i counts waits of [2^i, 2^(i+1)) microseconds (slot 0 also holds 0 us). */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, MAX_SLOTS);
  __type(key, __u32);
  __type(value, __u64);
} hist SEC(".maps");

/* When each runnable task (by tid) was queued. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, __u64);
} queued_at SEC(".maps");

/* .rodata: only measure this process's threads (0: every task). */
const volatile __u32 target_tgid = 0;

static __always_inline void enqueue(struct task_struct *p)
{
  __u32 tid = p->pid;
  __u64 now;

  if (!tid || (target_tgid && p->tgid != target_tgid))
    return;
  now = bpf_ktime_get_ns();
  bpf_map_update_elem(&queued_at, &tid, &now, BPF_ANY);
}

/* floor(log2(v)) for v > 0, without loops. */
static __always_inline __u32 log2_u64(__u64 v)
{
  __u32 r = 0, shift;

  shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
  shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
  shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
  shift = (v > 0xF) << 2; v >>= shift; r |= shift;
  shift = (v > 0x3) << 1; v >>= shift; r |= shift;
  r |= (v >> 1);
  return r;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *p)
{
  enqueue(p);
  return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(on_wakeup_new, struct task_struct *p)
{
  enqueue(p);
  return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
  __u32 tid = next->pid;
  __u64 *start, delta_us;
  __u32 slot;
  __u64 *count;

  /* Preempted while runnable: it waits on the run queue from now. */
  if (prev->__state == TASK_RUNNING)
    enqueue(prev);

  start = bpf_map_lookup_elem(&queued_at, &tid);
  if (!start)
    return 0;
  delta_us = (bpf_ktime_get_ns() - *start) / 1000;
  bpf_map_delete_elem(&queued_at, &tid);
  slot = delta_us ? log2_u64(delta_us) : 0;
  if (slot >= MAX_SLOTS)
    slot = MAX_SLOTS - 1;
  count = bpf_map_lookup_elem(&hist, &slot);
  if (count)
    __sync_fetch_and_add(count, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
