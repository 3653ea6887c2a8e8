/**
 * What {@link Program.load} takes: a program the kernel can load. The façade builds it from the ELF model
 * and the relocator's output; tests and tools can build it by hand from raw instructions.
 */

import type { FuncInfoRecord, Instruction, LineInfoRecord } from "@ebpf/relocate";
import type { Fd } from "@ebpf/sys";

/**
 * A loadable program: instructions plus everything `BPF_PROG_LOAD` needs.
 *
 * @example
 * ```ts
 * const spec: ProgramLoadSpec = {
 *   name: "xdp_pass",
 *   type: BpfProgType.XDP,
 *   instructions: [mov64Imm(0, XdpAction.PASS), exit()],
 *   license: "GPL",
 * };
 * ```
 */
export interface ProgramLoadSpec {
  /** The program's name (the kernel keeps the first 15 characters). */
  name: string;
  /** A `BpfProgType` value. */
  type: number;
  /** A `BpfAttachType` value, for the types that need one at load time. */
  expectedAttachType?: number;
  /**
   * The instructions: decoded (their `line` metadata then gives source lines to verifier errors) or
   * already-encoded bytes (8 per slot, host byte order).
   */
  instructions: readonly Instruction[] | Uint8Array;
  /** e.g. `"GPL"`, `"Dual MIT/GPL"`. GPL-only helpers need a GPL-compatible license. */
  license: string;
  /** LINUX_VERSION_CODE, only checked by kernels before 5.0 for kprobes. */
  kernVersion?: number;
  /** `BPF_F_*` load flags (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS...). */
  flags?: number;
  /** The object's BTF, loaded in the kernel (sanitized for it), with the program's func/line info. */
  btf?: ProgramBtf;
  /**
   * The kernel function, tracepoint or BPF function the program attaches to, for tp_btf, fentry, fexit,
   * fmod_ret, lsm, iter and freplace (e.g. `"do_unlinkat"`, `"sched_switch"`, `"task"`). Looked up in
   * vmlinux and module BTF unless `attachBtfId` is given.
   */
  attachTo?: string;
  /** A BTF type id of the attach target, if already known (skips the lookup). */
  attachBtfId?: number;
  /** The BTF object the id belongs to (a module's BTF); omit for vmlinux. */
  attachBtfObjFd?: Fd;
  /** The BPF program an extension (freplace) or fentry-on-BPF attaches to. */
  attachProgFd?: Fd;
  /** Offload/dev-bound XDP: the interface index. */
  ifindex?: number;
  /** Map/BTF fds referenced by `BPF_PSEUDO_MAP_IDX` or kfunc calls. */
  fdArray?: readonly number[];
}

/** The BTF of a program: the loaded BTF object and the program's func/line info records. */
export interface ProgramBtf {
  /** The BTF fd (from BPF_BTF_LOAD). */
  fd: Fd;
  /** func_info records, `insnOff` in instructions. */
  funcInfo?: readonly FuncInfoRecord[];
  /** line_info records, `insnOff` in instructions. */
  lineInfo?: readonly LineInfoRecord[];
}
