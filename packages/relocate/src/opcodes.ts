/**
 * BPF instruction-set constants: the kernel's uapi `linux/bpf.h` / `linux/bpf_common.h` and
 * `Documentation/bpf/standardization/instruction-set.rst`, in one place.
 *
 * An opcode byte is `class | (size|mode)` for loads and stores and `class | op | source` for ALU and
 * jumps.
 */

/** Instruction classes (low 3 bits of the opcode). */
export const Class = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
} as const;

/** Access sizes of load/store instructions (bits 3-4). */
export const Size = {
  W: 0x00,
  H: 0x08,
  B: 0x10,
  DW: 0x18,
} as const;

/** Addressing modes of load/store instructions (bits 5-7). */
export const Mode = {
  IMM: 0x00,
  ABS: 0x20,
  IND: 0x40,
  MEM: 0x60,
  /** Sign-extending load (`ldsx`), v4. */
  MEMSX: 0x80,
  ATOMIC: 0xc0,
} as const;

/** Operand source of ALU and jump instructions (bit 3). */
export const Source = {
  /** 32-bit immediate. */
  K: 0x00,
  /** Source register. */
  X: 0x08,
} as const;

/** ALU operations (bits 4-7). */
export const AluOp = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  MOV: 0xb0,
  ARSH: 0xc0,
  END: 0xd0,
} as const;

/** Byte-swap direction of `END` in the 32-bit ALU class (the source bit). */
export const Endian = {
  TO_LE: 0x00,
  TO_BE: 0x08,
} as const;

/** Jump operations (bits 4-7). */
export const JmpOp = {
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  CALL: 0x80,
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
  /** Conditional pseudo jump (`may_goto`). */
  JCOND: 0xe0,
} as const;

/** Atomic operations: the `imm` field of `STX | ATOMIC`. */
export const AtomicOp = {
  ADD: 0x00,
  OR: 0x40,
  AND: 0x50,
  XOR: 0xa0,
  /** Flag: return the old value in the source register. */
  FETCH: 0x01,
  /** `XCHG` always fetches. */
  XCHG: 0xe0 | 0x01,
  /** `CMPXCHG` always fetches, compares with r0. */
  CMPXCHG: 0xf0 | 0x01,
  LOAD_ACQ: 0x100,
  STORE_REL: 0x110,
} as const;

/** `src_reg` values of a 16-byte `ld_imm64` that the loader resolves. */
export const PseudoLd = {
  /** imm = map fd. */
  MAP_FD: 1,
  /** imm = map fd, next imm = offset into the map value. */
  MAP_VALUE: 2,
  /** imm = BTF id of a kernel variable (`__ksym`). */
  BTF_ID: 3,
  /** imm = instruction offset of a subprogram (callback reference). */
  FUNC: 4,
  /** imm = index into fd_array. */
  MAP_IDX: 5,
  /** imm = index into fd_array, next imm = offset into the map value. */
  MAP_IDX_VALUE: 6,
} as const;

/** `src_reg` values of `call`. */
export const PseudoCall = {
  /** imm = helper id. */
  HELPER: 0,
  /** bpf-to-bpf call: imm = relative instruction offset. */
  CALL: 1,
  /** kfunc call: imm = BTF id, off = fd_array index of the module BTF (0 = vmlinux). */
  KFUNC_CALL: 2,
} as const;

/** `src_reg` of `JCOND`. */
export const JcondOp = {
  MAY_GOTO: 0,
} as const;

/** The registers r0-r10. */
export const Register = {
  R0: 0,
  R1: 1,
  R2: 2,
  R3: 3,
  R4: 4,
  R5: 5,
  R6: 6,
  R7: 7,
  R8: 8,
  R9: 9,
  /** Read-only frame pointer. */
  R10: 10,
} as const;

/** Bytes per (half of an ld_imm64) instruction. */
export const INSN_SIZE = 8;

/** Full opcode of the 16-byte load of a 64-bit immediate (`LD | IMM | DW`). */
export const LD_IMM64 = Class.LD | Mode.IMM | Size.DW;
/** Full opcode of `call`. */
export const CALL = Class.JMP | JmpOp.CALL;
/** Full opcode of `exit`. */
export const EXIT = Class.JMP | JmpOp.EXIT;

/** Extract the class from an opcode. */
export const opClass = (op: number): number => op & 0x07;
/** Extract size bits from a load/store opcode. */
export const opSize = (op: number): number => op & 0x18;
/** Extract mode bits from a load/store opcode. */
export const opMode = (op: number): number => op & 0xe0;
/** Extract the ALU/jump operation from an opcode. */
export const opCode = (op: number): number => op & 0xf0;
/** Extract the source bit from an ALU/jump opcode. */
export const opSource = (op: number): number => op & 0x08;

/** True for the ALU and ALU64 classes. */
export const isAluClass = (cls: number): boolean => cls === Class.ALU || cls === Class.ALU64;
/** True for the JMP and JMP32 classes. */
export const isJmpClass = (cls: number): boolean => cls === Class.JMP || cls === Class.JMP32;

/** Byte width of a load/store size. */
export function sizeBytes(size: number): 1 | 2 | 4 | 8 {
  switch (size) {
    case Size.B:
      return 1;
    case Size.H:
      return 2;
    case Size.W:
      return 4;
    default:
      return 8;
  }
}

/** Load/store size for a byte width; undefined for widths the ISA lacks. */
export function sizeForBytes(bytes: number): number | undefined {
  switch (bytes) {
    case 1:
      return Size.B;
    case 2:
      return Size.H;
    case 4:
      return Size.W;
    case 8:
      return Size.DW;
    default:
      return undefined;
  }
}

/** The imm libbpf writes into a `call` that stands for a failed CO-RE relocation. */
export const POISON_CALL_IMM = 0xbad2310;
/** libbpf's base for a poisoned ld_imm64 of a map that was not created: `call` imm = base + map index. */
export const POISON_LDIMM64_MAP_BASE = 2001000000;
/** libbpf's base for a poisoned call of a weak kfunc that resolved to nothing: imm = base + extern index. */
export const POISON_CALL_KFUNC_BASE = 2002000000;

/** Kernel helper names by id (the uapi `__BPF_FUNC_MAPPER` order), for the disassembler. */
export const HELPER_NAMES: readonly string[] = [
  "unspec",
  "map_lookup_elem",
  "map_update_elem",
  "map_delete_elem",
  "probe_read",
  "ktime_get_ns",
  "trace_printk",
  "get_prandom_u32",
  "get_smp_processor_id",
  "skb_store_bytes",
  "l3_csum_replace",
  "l4_csum_replace",
  "tail_call",
  "clone_redirect",
  "get_current_pid_tgid",
  "get_current_uid_gid",
  "get_current_comm",
  "get_cgroup_classid",
  "skb_vlan_push",
  "skb_vlan_pop",
  "skb_get_tunnel_key",
  "skb_set_tunnel_key",
  "perf_event_read",
  "redirect",
  "get_route_realm",
  "perf_event_output",
  "skb_load_bytes",
  "get_stackid",
  "csum_diff",
  "skb_get_tunnel_opt",
  "skb_set_tunnel_opt",
  "skb_change_proto",
  "skb_change_type",
  "skb_under_cgroup",
  "get_hash_recalc",
  "get_current_task",
  "probe_write_user",
  "current_task_under_cgroup",
  "skb_change_tail",
  "skb_pull_data",
  "csum_update",
  "set_hash_invalid",
  "get_numa_node_id",
  "skb_change_head",
  "xdp_adjust_head",
  "probe_read_str",
  "get_socket_cookie",
  "get_socket_uid",
  "set_hash",
  "setsockopt",
  "skb_adjust_room",
  "redirect_map",
  "sk_redirect_map",
  "sock_map_update",
  "xdp_adjust_meta",
  "perf_event_read_value",
  "perf_prog_read_value",
  "getsockopt",
  "override_return",
  "sock_ops_cb_flags_set",
  "msg_redirect_map",
  "msg_apply_bytes",
  "msg_cork_bytes",
  "msg_pull_data",
  "bind",
  "xdp_adjust_tail",
  "skb_get_xfrm_state",
  "get_stack",
  "skb_load_bytes_relative",
  "fib_lookup",
  "sock_hash_update",
  "msg_redirect_hash",
  "sk_redirect_hash",
  "lwt_push_encap",
  "lwt_seg6_store_bytes",
  "lwt_seg6_adjust_srh",
  "lwt_seg6_action",
  "rc_repeat",
  "rc_keydown",
  "skb_cgroup_id",
  "get_current_cgroup_id",
  "get_local_storage",
  "sk_select_reuseport",
  "skb_ancestor_cgroup_id",
  "sk_lookup_tcp",
  "sk_lookup_udp",
  "sk_release",
  "map_push_elem",
  "map_pop_elem",
  "map_peek_elem",
  "msg_push_data",
  "msg_pop_data",
  "rc_pointer_rel",
  "spin_lock",
  "spin_unlock",
  "sk_fullsock",
  "tcp_sock",
  "skb_ecn_set_ce",
  "get_listener_sock",
  "skc_lookup_tcp",
  "tcp_check_syncookie",
  "sysctl_get_name",
  "sysctl_get_current_value",
  "sysctl_get_new_value",
  "sysctl_set_new_value",
  "strtol",
  "strtoul",
  "sk_storage_get",
  "sk_storage_delete",
  "send_signal",
  "tcp_gen_syncookie",
  "skb_output",
  "probe_read_user",
  "probe_read_kernel",
  "probe_read_user_str",
  "probe_read_kernel_str",
  "tcp_send_ack",
  "send_signal_thread",
  "jiffies64",
  "read_branch_records",
  "get_ns_current_pid_tgid",
  "xdp_output",
  "get_netns_cookie",
  "get_current_ancestor_cgroup_id",
  "sk_assign",
  "ktime_get_boot_ns",
  "seq_printf",
  "seq_write",
  "sk_cgroup_id",
  "sk_ancestor_cgroup_id",
  "ringbuf_output",
  "ringbuf_reserve",
  "ringbuf_submit",
  "ringbuf_discard",
  "ringbuf_query",
  "csum_level",
  "skc_to_tcp6_sock",
  "skc_to_tcp_sock",
  "skc_to_tcp_timewait_sock",
  "skc_to_tcp_request_sock",
  "skc_to_udp6_sock",
  "get_task_stack",
  "load_hdr_opt",
  "store_hdr_opt",
  "reserve_hdr_opt",
  "inode_storage_get",
  "inode_storage_delete",
  "d_path",
  "copy_from_user",
  "snprintf_btf",
  "seq_printf_btf",
  "skb_cgroup_classid",
  "redirect_neigh",
  "per_cpu_ptr",
  "this_cpu_ptr",
  "redirect_peer",
  "task_storage_get",
  "task_storage_delete",
  "get_current_task_btf",
  "bprm_opts_set",
  "ktime_get_coarse_ns",
  "ima_inode_hash",
  "sock_from_file",
  "check_mtu",
  "for_each_map_elem",
  "snprintf",
  "sys_bpf",
  "btf_find_by_name_kind",
  "sys_close",
  "timer_init",
  "timer_set_callback",
  "timer_start",
  "timer_cancel",
  "get_func_ip",
  "get_attach_cookie",
  "task_pt_regs",
  "get_branch_snapshot",
  "trace_vprintk",
  "skc_to_unix_sock",
  "kallsyms_lookup_name",
  "find_vma",
  "loop",
  "strncmp",
  "get_func_arg",
  "get_func_ret",
  "get_func_arg_cnt",
  "get_retval",
  "set_retval",
  "xdp_get_buff_len",
  "xdp_load_bytes",
  "xdp_store_bytes",
  "copy_from_user_task",
  "skb_set_tstamp",
  "ima_file_hash",
  "kptr_xchg",
  "map_lookup_percpu_elem",
  "skc_to_mptcp_sock",
  "dynptr_from_mem",
  "ringbuf_reserve_dynptr",
  "ringbuf_submit_dynptr",
  "ringbuf_discard_dynptr",
  "dynptr_read",
  "dynptr_write",
  "dynptr_data",
  "tcp_raw_gen_syncookie_ipv4",
  "tcp_raw_gen_syncookie_ipv6",
  "tcp_raw_check_syncookie_ipv4",
  "tcp_raw_check_syncookie_ipv6",
  "ktime_get_tai_ns",
  "user_ringbuf_drain",
  "cgrp_storage_get",
  "cgrp_storage_delete",
];
