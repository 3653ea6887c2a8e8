// Global variables, the three kinds, driven from user space:
//  - .rodata (const volatile): configuration fixed before load; the verifier sees it as a constant;
//  - .bss (zero-initialised): counters the program writes and user space reads live (mmapped);
//  - .data (initialised): settings user space changes while the program runs.
// The program runs on every getppid() of the configured process.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define NOTE_LEN 16

/* .rodata: the process to watch (0: every process). */
const volatile __u32 target_tgid = 0;

/* .data: what each call adds to `total`, and a note the program copies on each call. */
__u64 step = 1;
char note[NOTE_LEN] = "initial";

/* .bss: what the program saw. */
__u64 calls = 0;
__u64 total = 0;
__u32 last_tgid = 0;
char last_note[NOTE_LEN] = {};

SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;

  if (target_tgid && tgid != target_tgid)
    return 0;
  __sync_fetch_and_add(&calls, 1);
  __sync_fetch_and_add(&total, step);
  last_tgid = tgid;
  __builtin_memcpy(last_note, note, NOTE_LEN);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
