/**
 * The whole pipeline on a parsed object: decode functions with metadata, apply CO-RE per function
 * (before linking, as libbpf does), link each program with its subprograms, then resolve map, global
 * data and extern references into the numbers the kernel wants.
 */
import type { BpfObjectSpec, ExternSpec } from "@ebpf/elf";
import { CoreError, RelocationError } from "./core/errors.js";
import {
  type CorePoison,
  type CoreRelocationOutcome,
  CoreRelocator,
  type CoreTargets,
  describePoison,
} from "./core/relocator.js";
import type { CoreBtf } from "./core/types.js";
import { formatInstruction } from "./disasm.js";
import { type Instruction, setConstant, slots } from "./instruction.js";
import { type KconfigLayout, kconfigLayout } from "./kconfig.js";
import {
  type DecodedFunction,
  decodeFunction,
  type ExtInfo,
  type FuncInfoRecord,
  FunctionTable,
  funcInfoOf,
  type LineInfoRecord,
  lineInfoOf,
  linkProgram,
} from "./link.js";
import { CALL, LD_IMM64, POISON_CALL_IMM, POISON_CALL_KFUNC_BASE, PseudoCall, PseudoLd } from "./opcodes.js";

/** How a resolved kernel symbol (`__ksym` variable or kfunc) is referenced. */
export type KsymResolution =
  /** Typed ksym / kfunc: BTF id in vmlinux or a module; `fdArrayIndex` of the module BTF fd (0 = vmlinux). */
  | { btfId: number; btfObjFd?: number; fdArrayIndex?: number }
  /** Untyped (`extern const void x __ksym`): the address from kallsyms. */
  | { address: bigint };

/** Options of {@link relocateObject}. */
export interface RelocateOptions {
  /** The object's own BTF as CO-RE sees it; required when the object has CO-RE relocations. */
  localBtf?: CoreBtf;
  /** Parsed BTF.ext (func/line info, CO-RE records). */
  ext?: ExtInfo;
  /** Target BTF (kernel, modules); required when the object has CO-RE relocations. */
  target?: CoreTargets | CoreBtf;
  /**
   * How maps are referenced: `"fd"` (`BPF_PSEUDO_MAP_FD`/`MAP_VALUE`, imm = the number given by
   * `mapValue`), or `"index"` (`BPF_PSEUDO_MAP_IDX`/`MAP_IDX_VALUE`, imm = fd_array index). Default `"fd"`.
   */
  mapMode?: "fd" | "index";
  /**
   * The number to put in the instruction for a map or a data section's map (by name: map name or
   * data section name such as `.rodata`, `.kconfig`). Default: the map's index in the object
   * (maps, then data sections, then `.kconfig`), a placeholder the loader rewrites.
   */
  mapValue?: (name: string) => number | undefined;
  /** Byte offset of each `.kconfig` extern in the `.kconfig` map (default: libbpf's layout, {@link kconfigLayout}). */
  kconfigOffset?: (name: string) => number | undefined;
  /** Resolve a `__ksym` variable or kfunc; undefined = not found (an error unless weak). */
  ksym?: (extern: ExternSpec) => KsymResolution | undefined;
  /** Programs to relocate (default: all). */
  programs?: readonly string[];
  /** Throw on a poisoned CO-RE relocation instead of leaving the poison for the verifier. */
  strict?: boolean;
}

/** A program ready to load. */
export interface RelocatedProgram {
  name: string;
  section: string;
  instructions: Instruction[];
  funcInfo: FuncInfoRecord[];
  lineInfo: LineInfoRecord[];
  /** Names of the subprograms appended after the program's own code, in order. */
  subprograms: string[];
  /**
   * Maps the program references (map names, data section names, `.kconfig`), in order of first use:
   * the fd_array to pass in `mapMode: "index"` is these maps' fds, in the order `mapValue` numbered them.
   */
  maps: string[];
  /** CO-RE relocations that were poisoned in this program (instruction slot → why). */
  poisoned: { slot: number; poison: CorePoison }[];
}

/** The result of {@link relocateObject}. */
export interface RelocatedObject {
  programs: RelocatedProgram[];
  /** Every CO-RE relocation processed, in order. */
  core: CoreRelocationOutcome[];
  /** Map/data names in placeholder order (the default `mapValue` is the index here). */
  mapNames: string[];
}

function toTargets(t: CoreTargets | CoreBtf): CoreTargets {
  return "vmlinux" in t ? t : { vmlinux: t };
}

/** Default map placeholder order: maps, data sections, `.kconfig`. */
export function mapPlaceholderNames(spec: BpfObjectSpec): string[] {
  const names = spec.maps.map((m) => m.name);
  for (const d of spec.dataSections) names.push(d.name);
  if (spec.externs.some((e) => e.kind === "kconfig")) names.push(".kconfig");
  return names;
}

function applyCore(fn: DecodedFunction, relocator: CoreRelocator, strict: boolean, owner: string): void {
  if (!fn.insns.some((i) => i.core)) return;
  const out: Instruction[] = [];
  for (const insn of fn.insns) {
    if (!insn.core) {
      out.push(insn);
      continue;
    }
    let patched: Instruction[];
    try {
      patched = relocator.apply(insn, insn.core);
    } catch (e) {
      if (e instanceof CoreError) {
        throw new CoreError(
          e.code,
          `${owner}: CO-RE relocation #${insn.core.index ?? "?"}: ${e.message}${where(insn)}`,
          { cause: e },
        );
      }
      throw e;
    }
    const poison = (patched[0] as { poison?: CorePoison }).poison;
    if (poison && strict) {
      throw new CoreError("ERR_EBPF_CORE_POISONED", `${owner}: ${describePoison(poison)}${where(insn)}`);
    }
    out.push(...patched);
  }
  fn.insns = out;
}

function where(i: Instruction): string {
  return i.line ? ` at ${i.line.fileName}:${i.line.lineNumber}: ${i.line.line.trim()}` : "";
}

/**
 * Relocate every program of a parsed object.
 *
 * @throws CoreError on malformed CO-RE input; RelocationError on malformed relocations, missing
 *   functions or unresolved non-weak externs.
 *
 * @example
 * ```ts
 * const spec = parseBpfObject(bytes);
 * const out = relocateObject(spec, { localBtf, ext, target: kernelBtf });
 * for (const p of out.programs) console.log(disassemble(p.instructions));
 * ```
 */
export function relocateObject(spec: BpfObjectSpec, opts: RelocateOptions = {}): RelocatedObject {
  const order = spec.byteOrder;
  const wanted = opts.programs ? new Set(opts.programs) : undefined;
  const decoded = new Map<string, DecodedFunction>();
  const all: DecodedFunction[] = [];
  for (const f of [...spec.programs, ...spec.subprograms]) {
    const d = decodeFunction(f, order, opts.ext);
    all.push(d);
  }
  const table = new FunctionTable(all);
  for (const p of spec.programs)
    decoded.set(`${p.sectionName}\0${p.offset}`, table.at(p.sectionName, p.offset)!);

  // CO-RE, per function, before linking.
  const hasCore = all.some((f) => f.insns.some((i) => i.core));
  let relocator: CoreRelocator | undefined;
  if (hasCore) {
    if (!opts.localBtf)
      throw new CoreError("ERR_EBPF_CORE_BTF", "the object has CO-RE relocations but no BTF");
    if (!opts.target) throw new CoreError("ERR_EBPF_CORE_BTF", "CO-RE relocations need a target BTF");
    relocator = new CoreRelocator(opts.localBtf, toTargets(opts.target), order);
    // Errors name the program; a subprogram's name the programs that use it.
    const isProgram = new Set(spec.programs.map((p) => `${p.sectionName}\0${p.offset}`));
    const owner = (f: DecodedFunction): string => {
      if (isProgram.has(`${f.section}\0${f.offset}`)) return `program "${f.name}"`;
      const users = spec.programs.filter((p) => p.subprograms.includes(f.name)).map((p) => `"${p.name}"`);
      return `function "${f.name}"${users.length ? ` (subprogram of program ${users.join(", ")})` : ""}`;
    };
    for (const f of all) applyCore(f, relocator, opts.strict ?? false, owner(f));
  }

  const mapNames = mapPlaceholderNames(spec);
  const mapValue = (name: string): number => {
    const v = opts.mapValue?.(name);
    if (v !== undefined) return v;
    const idx = mapNames.indexOf(name);
    if (idx < 0) throw new RelocationError("ERR_EBPF_RELOCATION", `reference to unknown map "${name}"`);
    return idx;
  };
  const externs = new Map(spec.externs.map((e) => [e.name, e]));
  let layout: KconfigLayout | undefined;
  const kconfigOffset = (name: string): number | undefined => {
    const custom = opts.kconfigOffset?.(name) ?? externs.get(name)?.offset;
    if (custom !== undefined) return custom;
    if (!opts.localBtf) return undefined;
    layout ??= kconfigLayout(spec.externs, opts.localBtf);
    return layout.offsets.get(name);
  };
  const byIndex = opts.mapMode === "index";
  // libbpf's extern order (kconfig by alignment/size/name, then ksyms by name) numbers weak-kfunc poisons.
  let order_: ExternSpec[] | undefined;
  const externIndex = (e: ExternSpec): number => {
    if (!order_) {
      const kcfg = spec.externs.filter((x) => x.kind === "kconfig");
      const offs = opts.localBtf ? kconfigLayout(spec.externs, opts.localBtf).offsets : undefined;
      kcfg.sort((a, b) => (offs ? offs.get(a.name)! - offs.get(b.name)! : a.name < b.name ? -1 : 1));
      const ksyms = spec.externs
        .filter((x) => x.kind !== "kconfig")
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      order_ = [...kcfg, ...ksyms];
    }
    return order_.indexOf(e);
  };

  const programs: RelocatedProgram[] = [];
  for (const p of spec.programs) {
    if (wanted && !wanted.has(p.name)) continue;
    const main = decoded.get(`${p.sectionName}\0${p.offset}`)!;
    const linked = linkProgram(main, table);
    let slot = 0;
    const poisoned: RelocatedProgram["poisoned"] = [];
    const usedMaps: string[] = [];
    for (const insn of linked.insns) {
      const here = slot;
      slot += slots(insn);
      const poison = (insn as { poison?: CorePoison }).poison;
      if (poison) poisoned.push({ slot: here, poison });
      const ref = insn.reference;
      if (!ref) continue;
      const ctx = () =>
        `program "${p.name}": instruction ${here} \`${formatInstruction(insn)}\` (${ref.kind} "${ref.name}")`;
      switch (ref.kind) {
        case "map":
        case "data":
        case "kconfig": {
          if (insn.opcode !== LD_IMM64) {
            throw new RelocationError(
              "ERR_EBPF_RELOCATION",
              `${ctx()}: map/data relocation on a non-ld_imm64 instruction`,
            );
          }
          let offset = 0;
          let name = ref.name;
          if (ref.kind === "data") offset = ref.offset ?? 0;
          if (ref.kind === "kconfig") {
            name = ".kconfig";
            const o = kconfigOffset(ref.name);
            if (o === undefined)
              throw new RelocationError("ERR_EBPF_RELOCATION", `${ctx()}: unknown .kconfig offset`);
            offset = o;
          }
          const v = mapValue(name);
          if (!usedMaps.includes(name)) usedMaps.push(name);
          if (ref.kind === "map") {
            insn.src = byIndex ? PseudoLd.MAP_IDX : PseudoLd.MAP_FD;
            insn.imm = v;
            insn.imm2 = 0;
          } else {
            insn.src = byIndex ? PseudoLd.MAP_IDX_VALUE : PseudoLd.MAP_VALUE;
            insn.imm = v;
            insn.imm2 = offset;
          }
          break;
        }
        case "ksym":
        case "kfunc": {
          const ext = externs.get(ref.name);
          const res = ext ? opts.ksym?.(ext) : undefined;
          const isCall = insn.opcode === CALL;
          if (!res) {
            if (!ext?.weak) {
              throw new RelocationError(
                "ERR_EBPF_RELOCATION",
                `${ctx()}: kernel symbol "${ref.name}" not found${opts.ksym ? "" : " (no ksym resolver given)"}`,
              );
            }
            if (isCall) {
              // libbpf's poison for an unresolved weak kfunc: fails only if reached.
              insn.src = 0;
              insn.offset = 0;
              insn.imm = POISON_CALL_KFUNC_BASE + externIndex(ext);
            } else {
              insn.src = 0;
              setConstant(insn, 0n);
            }
            break;
          }
          if (isCall) {
            if (!("btfId" in res))
              throw new RelocationError("ERR_EBPF_RELOCATION", `${ctx()}: kfunc needs a BTF id`);
            insn.src = PseudoCall.KFUNC_CALL;
            insn.imm = res.btfId;
            insn.offset = res.fdArrayIndex ?? 0;
          } else if (insn.opcode === LD_IMM64) {
            if ("btfId" in res) {
              insn.src = PseudoLd.BTF_ID;
              insn.imm = res.btfId;
              insn.imm2 = res.btfObjFd ?? 0;
            } else {
              insn.src = 0;
              setConstant(insn, res.address);
            }
          } else {
            throw new RelocationError(
              "ERR_EBPF_RELOCATION",
              `${ctx()}: ksym relocation on an unexpected instruction`,
            );
          }
          break;
        }
        case "func":
          break;
        default:
          throw new RelocationError("ERR_EBPF_RELOCATION", `${ctx()}: unsupported relocation target`);
      }
    }
    programs.push({
      name: p.name,
      section: p.sectionName,
      instructions: linked.insns,
      funcInfo: funcInfoOf(linked.insns),
      lineInfo: lineInfoOf(linked.insns),
      subprograms: linked.subprograms,
      maps: usedMaps,
      poisoned,
    });
  }
  return { programs, core: relocator?.outcomes ?? [], mapNames };
}

/**
 * The error to report when the verifier rejects a program at `slot` and that instruction is a
 * poisoned CO-RE relocation: names the program, the relocation, the type path and the source line.
 * Returns undefined when `slot` is not a poisoned instruction.
 */
export function poisonErrorAt(program: RelocatedProgram, slot: number): CoreError | undefined {
  const hit = program.poisoned.find((p) => p.slot === slot);
  if (!hit) return undefined;
  // The source line is the last line info at or before the instruction; compilers hoist constants, so
  // the next line info after it is named too.
  let s = 0;
  let before: Instruction | undefined;
  let after: Instruction | undefined;
  for (const i of program.instructions) {
    if (i.line) {
      if (s <= slot) before = i;
      else if (!after) after = i;
    }
    s += slots(i);
  }
  const next = after?.line && after.line !== before?.line ? `; next line ${where(after).slice(4)}` : "";
  return new CoreError(
    "ERR_EBPF_CORE_POISONED",
    `program "${program.name}": instruction ${slot}: ${describePoison(hit.poison)}${before ? where(before) : ""}${next}`,
  );
}

/**
 * Given the verifier log of a program rejected by the kernel, the CO-RE explanation when the rejection
 * is at a poisoned instruction (`call unknown#195896080`), else undefined.
 *
 * @example
 * ```ts
 * catch (e) { throw poisonErrorFromLog(program, e.log) ?? e; }
 * ```
 */
export function poisonErrorFromLog(program: RelocatedProgram, log: string): CoreError | undefined {
  const re = new RegExp(`^(\\d+): \\(85\\) call [^\\n]*#${POISON_CALL_IMM}$`, "gm");
  let slot: number | undefined;
  for (const m of log.matchAll(re)) slot = Number(m[1]);
  return slot === undefined ? undefined : poisonErrorAt(program, slot);
}
