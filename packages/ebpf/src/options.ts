import type { Btf } from "@ebpf/btf";

/** A value for a global variable: numbers, bigints, strings for char arrays, plain objects for structs. */
export type GlobalValue = unknown;

/**
 * Options of {@link Ebpf.load} and {@link Ebpf.loadFile}.
 *
 * @example
 * ```ts
 * const bpf = Ebpf.loadFile("tracer.bpf.o", {
 *   globals: { min_duration_ns: 1_000_000n },
 *   mapPinPath: "/sys/fs/bpf/tracer",
 *   maxEntries: { events: 1 << 20 },
 * });
 * ```
 */
export interface EbpfLoadOptions {
  /**
   * Target BTF for CO-RE and attach targets: a parsed {@link Btf} or a path to a raw BTF file (e.g. from
   * BTFHub). Default: the running kernel's `/sys/kernel/btf/vmlinux`, parsed once per process.
   */
  btf?: Btf | string;
  /**
   * Initial values of global variables in `.rodata`, `.data`, `.bss` (and custom `.data.*`/`.rodata.*`
   * sections), by variable name. Encoded through the variable's BTF type and size-checked. `.rodata` is
   * frozen after load: those values are constants the verifier can use for dead-code elimination.
   */
  globals?: Readonly<Record<string, GlobalValue>>;
  /**
   * Directory (on bpffs) for maps declared with `__uint(pinning, LIBBPF_PIN_BY_NAME)`: a compatible map
   * already pinned there is reused, otherwise the new map is pinned there. Default `/sys/fs/bpf`.
   */
  mapPinPath?: string;
  /** Override `max_entries` of maps by name (e.g. size a ring buffer at run time). */
  maxEntries?: Readonly<Record<string, number>>;
  /** Programs not to load even if their section says so. `SEC("?...")` programs are skipped anyway. */
  skipPrograms?: readonly string[];
  /** Verifier log level for program loads that fail (1 = default, 2 = verbose). */
  logLevel?: number;
  /** Values for `.kconfig` externs, before the running kernel's config is consulted. */
  kconfig?: Readonly<Record<string, string>>;
}
