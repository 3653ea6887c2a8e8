/**
 * The BPF object model: what {@link parseBpfObject} returns. Plain data, deterministic, no kernel numbers
 * that depend on the running machine. Program and attach types are kernel enum *names* (strings such as
 * `"BPF_PROG_TYPE_XDP"`); `@ebpf/sys` turns them into numbers.
 *
 * Offsets are byte offsets. Relocations are described symbolically so that `@ebpf/relocate` can
 * resolve them without re-reading the ELF.
 */
import type { Btf } from "@ebpf/btf";

/** Byte order of an object file. Same spelling as `@ebpf/relocate`'s `ByteOrder`. */
export type ByteOrder = "little" | "big";

/** Binding of an ELF symbol (`STB_*`). */
export type SymbolBinding = "local" | "global" | "weak" | "other";

/** Type of an ELF symbol (`STT_*`). */
export type SymbolType = "notype" | "object" | "func" | "section" | "file" | "other";

/** Flags of a SEC-name table entry (libbpf's `SEC_*` flags plus a few descriptive ones). */
export type SecFlag =
  /** The program can be attached with `BPF_PROG_ATTACH` / links and needs `expected_attach_type`. */
  | "attachable"
  /** `expected_attach_type` may be dropped on kernels that reject it (libbpf `SEC_EXP_ATTACH_OPT`). */
  | "attach_type_optional"
  /** The attach target is a BTF id found from the section suffix (fentry, lsm, tp_btf, iter, ...). */
  | "attach_btf"
  /** Loaded with `BPF_F_SLEEPABLE`. */
  | "sleepable"
  /** Loaded with `BPF_F_XDP_HAS_FRAGS`. */
  | "xdp_frags"
  /** A USDT probe (needs the USDT spec machinery). */
  | "usdt"
  /** Attaches to several targets at once (kprobe.multi, uprobe.multi). */
  | "multi"
  /** A return probe (kretprobe, uretprobe, kretsyscall, fexit-like return semantics for probes). */
  | "return"
  /** kprobe.session: entry and return in one program. */
  | "session"
  /** ksyscall/kretsyscall: the target is a syscall name, resolved to the arch-specific symbol. */
  | "syscall";

/** One entry of the SEC-name table (see `sec-table.ts`). */
export interface SecDef {
  /**
   * The libbpf pattern: `"xdp"` matches exactly; `"kprobe+"` matches `"kprobe"` or `"kprobe/<target>"`;
   * a pattern ending in `/` matches any name with that prefix.
   */
  pattern: string;
  /** Kernel `enum bpf_prog_type` name, e.g. `"BPF_PROG_TYPE_XDP"`. */
  programType: string;
  /** Kernel `enum bpf_attach_type` name, e.g. `"BPF_XDP"`, or `undefined` when none is set. */
  expectedAttachType: string | undefined;
  /** Behaviour flags. */
  flags: readonly SecFlag[];
}

/** The result of matching a section name against the SEC table. */
export interface SecMatch {
  /** The table entry that matched. */
  def: SecDef;
  /** Kernel program type name. */
  programType: string;
  /** Kernel attach type name, if any. */
  expectedAttachType: string | undefined;
  /** The part after `prefix/` for `+` patterns (`"kprobe/do_unlinkat"` → `"do_unlinkat"`). */
  attachTo: string | undefined;
  /** `.s` variants and `syscall`. */
  sleepable: boolean;
}

/** A raw ELF section header, decoded. */
export interface ElfSection {
  /** Section index in the header table. */
  index: number;
  /** Name from `.shstrtab`. */
  name: string;
  /** `sh_type` (`SHT_PROGBITS` = 1, `SHT_SYMTAB` = 2, `SHT_NOBITS` = 8, `SHT_REL` = 9, ...). */
  type: number;
  /** `sh_flags` (`SHF_WRITE` = 1, `SHF_ALLOC` = 2, `SHF_EXECINSTR` = 4). */
  flags: number;
  /** `sh_offset`: file offset of the contents. */
  offset: number;
  /** `sh_size` in bytes (for `SHT_NOBITS`, the size in memory). */
  size: number;
  /** `sh_link`. */
  link: number;
  /** `sh_info` (for relocation sections: the index of the section they patch). */
  info: number;
  /** `sh_addralign`. */
  addralign: number;
  /** `sh_entsize`. */
  entsize: number;
}

/** A decoded ELF64 symbol. */
export interface ElfSymbol {
  /** Index in `.symtab`. */
  index: number;
  /** Name from the symbol string table (for `STT_SECTION` symbols: the section name). */
  name: string;
  /** `STT_*`. */
  type: SymbolType;
  /** `STB_*`. */
  binding: SymbolBinding;
  /** `STV_*` visibility (0 default, 1 internal, 2 hidden, 3 protected). */
  visibility: number;
  /** `st_shndx`: section index, 0 for undefined (externs), 0xfff1 for absolute. */
  sectionIndex: number;
  /** `st_value`: byte offset within the section. */
  value: number;
  /** `st_size`. */
  size: number;
}

/** A decoded ELF64 relocation (`Elf64_Rel`, or `Elf64_Rela` with `addend`). */
export interface ElfRelocation {
  /** `r_offset`: byte offset within the patched section. */
  offset: number;
  /** Symbol index into `.symtab`. */
  symbolIndex: number;
  /** `R_BPF_*` type: 1 `64_64` (ld_imm64), 2 `64_ABS64`, 3 `64_ABS32`, 4 `64_NODYLD32`, 10 `64_32` (call). */
  type: number;
  /** `r_addend` for `SHT_RELA`; BPF objects use `SHT_REL` and keep the addend in the instruction. */
  addend: bigint | undefined;
}

/**
 * What a relocation points at, symbolically. Kind names match `@ebpf/relocate`'s `Reference["kind"]`.
 *
 * - `map`: `ld_imm64` of a map (from `maps` or `.maps`); `name` is the map name.
 * - `data`: `ld_imm64` of an address in a data section (`.data`, `.rodata*`, `.bss`, `.data.*`);
 *   `name` is the section name, `offset` the byte offset within it (symbol value + instruction addend).
 * - `func`: a bpf-to-bpf call (`call` with `src_reg = 1`) or the address of a function (`ld_imm64` with
 *   `src_reg = 4` after relocation, a callback); `name` is the target function's symbol name, `section`
 *   and `offset` its location (the byte offset of the first instruction of the callee within `section`).
 * - `kconfig`: an extern in `.kconfig` (`LINUX_KERNEL_VERSION`, `CONFIG_*`); `name` the extern name.
 * - `ksym`: an extern variable in `.ksyms` (`__ksym`), address of a kernel symbol.
 * - `kfunc`: a call to an extern kernel function (`__ksym` function).
 * - `unknown`: anything else (kept, so that the relocator can report it with context).
 */
export interface RelocationTarget {
  /** What is referenced. */
  kind: "map" | "data" | "func" | "kconfig" | "ksym" | "kfunc" | "unknown";
  /** Map name, data section name, function name or extern name. */
  name: string;
  /** For `data`: byte offset within the section. For `func`: byte offset of the callee in `section`. */
  offset?: number;
  /** For `data` and `func`: the section holding the target. */
  section?: string;
}

/**
 * One relocation inside a function's instructions, with the raw ELF facts and the resolved target.
 *
 * @example
 * ```ts
 * for (const r of program.relocations) if (r.target.kind === "map") console.log(r.insnIndex, r.target.name);
 * ```
 */
export interface RelocationSpec {
  /** Byte offset of the patched instruction, relative to the start of the function (not the section). */
  offset: number;
  /** `offset / 8`: index of the 8-byte instruction slot within the function. */
  insnIndex: number;
  /** `R_BPF_*` type (1 `64_64` for `ld_imm64`, 10 `64_32` for calls, ...). */
  type: number;
  /** Name of the ELF symbol the relocation refers to (section name for `STT_SECTION` symbols). */
  symbol: string;
  /** `STT_*` of that symbol. */
  symbolType: SymbolType;
  /** `STB_*` of that symbol. */
  symbolBinding: SymbolBinding;
  /** Section of that symbol, `undefined` for an undefined (extern) symbol. */
  symbolSection: string | undefined;
  /** `st_value` of that symbol. */
  symbolValue: number;
  /** The resolved target. */
  target: RelocationTarget;
}

/** One BPF function: an entry-point program or a subprogram. */
export interface FunctionSpec {
  /** Symbol name. */
  name: string;
  /** ELF section index. */
  sectionIndex: number;
  /** ELF section name, e.g. `"xdp"`, `"?tc"`, `".text"`. */
  sectionName: string;
  /** Byte offset of the first instruction within the section. */
  offset: number;
  /** Size in bytes (a multiple of 8). */
  size: number;
  /** The raw instruction bytes in the object's byte order (a copy). */
  instructions: Uint8Array;
  /** Relocations inside this function, ordered by offset; offsets relative to the function start. */
  relocations: RelocationSpec[];
  /** `static` (`local`), `global` or `weak`. */
  linkage: SymbolBinding;
  /**
   * Names of the functions this one calls or takes the address of, directly (relocated calls and
   * pc-relative calls within the same section), in first-use order. See `ProgramSpec.subprograms` for the
   * transitive closure.
   */
  calls: string[];
}

/** An entry-point program: a `FUNC` symbol in an executable section other than `.text`. */
export interface ProgramSpec extends FunctionSpec {
  /** The section name without a leading `?` (what the SEC table matched), e.g. `"kprobe/do_unlinkat"`. */
  section: string;
  /** Kernel program type name, `"BPF_PROG_TYPE_UNSPEC"` when the section name is unknown. */
  type: string;
  /** Kernel attach type name, if the SEC entry sets one. */
  expectedAttachType: string | undefined;
  /** Attach target from the section suffix (`"syscalls/sys_enter_openat"`, `"do_unlinkat"`, ...). */
  attachTo: string | undefined;
  /** Load with `BPF_F_SLEEPABLE`. */
  sleepable: boolean;
  /** False for `SEC("?...")` programs: not loaded unless asked for. */
  autoload: boolean;
  /** The SEC-table entry that matched, `undefined` for an unknown section name. */
  secDef: SecDef | undefined;
  /** Names of all subprograms reachable from this program (transitive closure of `calls`), sorted. */
  subprograms: string[];
}

/** Where a map definition came from. */
export type MapSource = "legacy" | "btf";

/** A slot of a prog array or map-in-map initialised in `.maps` (`.values = { [2] = &prog }`). */
export interface MapInitialValue {
  /** Array index. */
  index: number;
  /** Name of the program (prog arrays) or inner map (map-in-map) stored there. */
  name: string;
}

/**
 * A map definition.
 *
 * @example
 * ```ts
 * const counts = spec.maps.find((m) => m.name === "counts");
 * ```
 */
export interface MapSpec {
  /** Symbol name. */
  name: string;
  /** Section it was defined in: `"maps"`, `".maps"`, `"maps/foo"`... */
  sectionName: string;
  /** `legacy` (`struct bpf_map_def`) or `btf` (`.maps`). */
  source: MapSource;
  /** Byte offset of the definition within its section. */
  offset: number;
  /** `enum bpf_map_type` number, as written in the object. */
  type: number;
  /** Key size in bytes (0 when the map type has no key, e.g. ring buffers). */
  keySize: number;
  /** Value size in bytes. */
  valueSize: number;
  /** `max_entries`. */
  maxEntries: number;
  /** `map_flags`. */
  flags: number;
  /** NUMA node when `BPF_F_NUMA_NODE` is set, else `undefined`. */
  numaNode: number | undefined;
  /** `LIBBPF_PIN_NONE` (0) or `LIBBPF_PIN_BY_NAME` (1). */
  pinning: number;
  /** `map_extra` (bloom filter hashes, arena address...). */
  mapExtra: bigint;
  /** BTF type id of the key in the object's BTF (BTF maps with `__type(key, ...)`). */
  keyTypeId: number | undefined;
  /** BTF type id of the value. */
  valueTypeId: number | undefined;
  /** BTF type id of the map's definition struct (`.maps` only). */
  definitionTypeId: number | undefined;
  /** Inner map template for map-in-map (`__array(values, struct {...})`). */
  innerMap: MapSpec | undefined;
  /** Initial slots from `.values = {...}` (prog arrays, map-in-map). */
  initialValues: MapInitialValue[];
  /** Legacy iproute2 `struct bpf_elf_map` fields (`id`, `inner_id`, `inner_idx`), when that layout was used. */
  iproute2?: { id: number; innerId: number; innerIndex: number };
}

/** A function-pointer member of a struct_ops map, set to a program. */
export interface StructOpsFunction {
  /** Member name in the struct (`"ssthresh"`). */
  member: string;
  /** Byte offset of the member in the struct. */
  offset: number;
  /** Name of the program stored there. */
  program: string;
}

/**
 * A `BPF_MAP_TYPE_STRUCT_OPS` map from `.struct_ops` / `.struct_ops.link` (e.g. a TCP congestion control).
 * Kept apart from {@link MapSpec} because loading one needs the kernel's `bpf_struct_ops_<name>` value type.
 *
 * @example
 * ```ts
 * for (const f of spec.structOps[0].functions) console.log(f.member, "→", f.program);
 * ```
 */
export interface StructOpsMapSpec {
  /** Variable name (the map name). */
  name: string;
  /** `.struct_ops` or `.struct_ops.link` (or another `.struct_ops.*`). */
  sectionName: string;
  /** Byte offset within the section. */
  offset: number;
  /** Size of the variable in bytes (the object's view of the struct). */
  size: number;
  /** Struct name, e.g. `"tcp_congestion_ops"`. */
  typeName: string;
  /** BTF id of the struct in the object's BTF. */
  typeId: number;
  /** Map flags: `BPF_F_LINK` (8192) for `.struct_ops.link`. */
  flags: number;
  /** The initial struct contents (a copy, object byte order; function pointers are zero). */
  data: Uint8Array;
  /** Function-pointer members set to programs, by offset. */
  functions: StructOpsFunction[];
}

/** A variable inside a data section. */
export interface VariableSpec {
  /** Symbol name. */
  name: string;
  /** Byte offset within the section. */
  offset: number;
  /** Size in bytes. */
  size: number;
  /** `static` (`local`), `global` or `weak`. */
  linkage: SymbolBinding;
  /** BTF type id (the `VAR`'s type) when BTF describes it. */
  typeId: number | undefined;
}

/** A global-data section: `.data`, `.rodata`, `.bss`, `.data.*`, `.rodata.*`. */
export interface DataSectionSpec {
  /** Section name. */
  name: string;
  /** ELF section index. */
  sectionIndex: number;
  /** `data`, `rodata` (read-only, frozen at load) or `bss` (zero-filled). */
  kind: "data" | "rodata" | "bss";
  /** Size in bytes. */
  size: number;
  /** Initial contents (a copy; zeros for `.bss`). */
  contents: Uint8Array;
  /** Variables, sorted by offset. */
  variables: VariableSpec[];
  /** BTF type id of the `DATASEC` describing this section, if any. */
  btfTypeId: number | undefined;
}

/** An extern the loader must supply: a `.kconfig` value or a `.ksyms` kernel symbol. */
export interface ExternSpec {
  /** Symbol name (`LINUX_KERNEL_VERSION`, `CONFIG_HZ`, `bpf_prog_active`, `bpf_task_acquire`...). */
  name: string;
  /** `kconfig` (`.kconfig` datasec), `ksym` (kernel variable), `kfunc` (kernel function). */
  kind: "kconfig" | "ksym" | "kfunc";
  /** Declared `__weak`: may be missing at load time. */
  weak: boolean;
  /** BTF type id of the extern's `VAR` or `FUNC`, when BTF has it. */
  typeId: number | undefined;
  /** Size in bytes of the value (kconfig / typed ksym), when known from BTF. */
  size: number | undefined;
  /** Byte offset within the `.kconfig` / `.ksyms` datasec, when BTF gives one. */
  offset: number | undefined;
}

/** Options of {@link parseBpfObject}. */
export interface ParseOptions {
  /**
   * Parse `.BTF` with `@ebpf/btf` (default `true`). Without BTF, `.maps` cannot be read and externs are
   * classified by name.
   */
  parseBtf?: boolean;
}

/**
 * Everything in a BPF ELF object, as plain data.
 *
 * @example
 * ```ts
 * const spec = parseBpfObject(readFileSync("prog.bpf.o"));
 * for (const p of spec.programs) console.log(p.name, p.type, p.attachTo);
 * ```
 */
export interface BpfObjectSpec {
  /** Byte order of the object. */
  byteOrder: ByteOrder;
  /** Entry-point programs, in section order then offset order. */
  programs: ProgramSpec[];
  /** Subprograms: functions in `.text`, and non-entry functions elsewhere (static or global). */
  subprograms: FunctionSpec[];
  /** Map definitions (legacy and BTF). */
  maps: MapSpec[];
  /** struct_ops maps (need BTF; empty when `parseBtf` is false). */
  structOps: StructOpsMapSpec[];
  /** Global data sections. */
  dataSections: DataSectionSpec[];
  /** `.kconfig` and `.ksyms` externs. */
  externs: ExternSpec[];
  /** Contents of the `license` section, `undefined` if absent. */
  license: string | undefined;
  /** Contents of the `version` section (u32), `undefined` if absent. */
  kernelVersion: number | undefined;
  /** Raw `.BTF` bytes. */
  btfBytes: Uint8Array | undefined;
  /** Raw `.BTF.ext` bytes (func/line info, CO-RE relocations) for `@ebpf/relocate`. */
  btfExtBytes: Uint8Array | undefined;
  /** Parsed `.BTF`, when present and `parseBtf` is not false. */
  btf: Btf | undefined;
  /** All section headers, for tools. */
  sections: ElfSection[];
  /** All symbols, for tools. */
  symbols: ElfSymbol[];
}
