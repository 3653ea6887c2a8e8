/**
 * Functions (programs and subprograms) in executable sections, their relocations resolved to symbolic
 * targets, and the call graph between them.
 */
import { ParseError } from "@ebpf/errors";
import { type ElfFile, SHF, SHT, sectionData } from "./elf-reader.js";
import { matchSectionName } from "./sec-names.js";
import type {
  ElfSection,
  ElfSymbol,
  FunctionSpec,
  ProgramSpec,
  RelocationSpec,
  RelocationTarget,
} from "./types.js";

const INSN = 8;
const OP_CALL = 0x85;
const OP_LD_IMM64 = 0x18;
const PSEUDO_CALL = 1;
const PSEUDO_FUNC = 4;

/** How relocation targets outside functions are classified, supplied by the object parser. */
export interface TargetContext {
  /** Section index → kind, for data and map sections. */
  sectionKinds: Map<number, "map" | "data">;
  /** `(sectionIndex, offset)` → map name. */
  mapAt(sectionIndex: number, offset: number): string | undefined;
  /** Extern name → kind. */
  externKind(name: string, isCall: boolean): "kconfig" | "ksym" | "kfunc";
}

/** True for a section holding BPF instructions. */
export function isExecutableSection(s: ElfSection): boolean {
  return s.type === SHT.PROGBITS && (s.flags & SHF.EXECINSTR) !== 0 && s.size > 0;
}

interface RawFunction {
  symbol: ElfSymbol;
  section: ElfSection;
  offset: number;
  size: number;
}

/** FUNC symbols of every executable section, sorted by (section, offset), with sizes filled in. */
function collectFunctions(elf: ElfFile): Map<number, RawFunction[]> {
  const bySection = new Map<number, RawFunction[]>();
  for (const sym of elf.symbols) {
    if (sym.type !== "func" || sym.sectionIndex === 0 || sym.sectionIndex >= elf.sections.length) continue;
    const section = elf.sections[sym.sectionIndex];
    if (!isExecutableSection(section)) continue;
    let list = bySection.get(section.index);
    if (!list) {
      list = [];
      bySection.set(section.index, list);
    }
    list.push({ symbol: sym, section, offset: sym.value, size: sym.size });
  }
  const symtabOffset = elf.symtabIndex >= 0 ? elf.sections[elf.symtabIndex].offset : 0;
  for (const list of bySection.values()) {
    list.sort((a, b) => a.offset - b.offset);
    for (let k = 0; k < list.length; k++) {
      const f = list[k];
      const end = k + 1 < list.length ? list[k + 1].offset : f.section.size;
      if (f.size === 0) f.size = end - f.offset; // hand-written assembly without .size
      const at = symtabOffset + f.symbol.index * 24;
      if (f.offset % INSN !== 0 || f.size % INSN !== 0) {
        throw new ParseError(
          {
            format: "ELF",
            offset: at,
            expected: `function "${f.symbol.name}" aligned to 8-byte instructions`,
          },
          `offset ${f.offset}, size ${f.size}`,
        );
      }
      if (f.offset + f.size > f.section.size || f.offset + f.size > end) {
        throw new ParseError(
          {
            format: "ELF",
            offset: at,
            expected: `function "${f.symbol.name}" within section "${f.section.name}" and before the next function`,
          },
          `[${f.offset}, ${f.offset + f.size}) overlaps ${end === f.section.size ? "the section end" : "the next function"} at ${end}`,
        );
      }
    }
  }
  return bySection;
}

/** The function of `list` containing byte `offset`, by binary search. */
function functionAt(list: readonly RawFunction[], offset: number): RawFunction | undefined {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const f = list[mid];
    if (offset < f.offset) hi = mid - 1;
    else if (offset >= f.offset + f.size) lo = mid + 1;
    else return f;
  }
  return undefined;
}

/** Result of {@link readFunctions}. */
export interface Functions {
  programs: ProgramSpec[];
  subprograms: FunctionSpec[];
}

/**
 * Builds every function of every executable section: global and weak FUNC symbols outside `.text` are
 * programs; `.text` functions and static functions elsewhere are subprograms.
 */
export function readFunctions(elf: ElfFile, ctx: TargetContext): Functions {
  const r = elf.reader;
  const le = r.littleEndian;
  const bySection = collectFunctions(elf);
  const all: FunctionSpec[] = [];
  const key = (sectionIndex: number, offset: number) => `${sectionIndex}:${offset}`;
  const byLocation = new Map<string, FunctionSpec>();
  const isProgram = new Set<FunctionSpec>();

  for (const [sectionIndex, list] of [...bySection].sort((a, b) => a[0] - b[0])) {
    const section = elf.sections[sectionIndex];
    const data = sectionData(r, section);
    for (const f of list) {
      const fn: FunctionSpec = {
        name: f.symbol.name,
        sectionIndex,
        sectionName: section.name,
        offset: f.offset,
        size: f.size,
        instructions: data.slice(f.offset, f.offset + f.size),
        relocations: [],
        linkage: f.symbol.binding,
        calls: [],
      };
      all.push(fn);
      byLocation.set(key(sectionIndex, f.offset), fn);
      if (section.name !== ".text" && f.symbol.binding !== "local") isProgram.add(fn);
    }
  }

  const fnOf = (sectionIndex: number, offset: number): FunctionSpec | undefined => {
    const list = bySection.get(sectionIndex);
    const raw = list && functionAt(list, offset);
    return raw && byLocation.get(key(sectionIndex, raw.offset));
  };

  // Relocations of executable sections.
  for (const [sectionIndex, list] of bySection) {
    const section = elf.sections[sectionIndex];
    const relocs = elf.relocations(sectionIndex);
    for (const rel of relocs) {
      const fileOffset = section.offset + rel.offset;
      const raw = functionAt(list, rel.offset);
      if (!raw) {
        throw new ParseError(
          {
            format: "ELF",
            offset: fileOffset,
            expected: `a relocation inside a function of section "${section.name}"`,
          },
          `offset ${rel.offset} is outside every function`,
        );
      }
      const fn = byLocation.get(key(sectionIndex, raw.offset)) as FunctionSpec;
      if (rel.offset % INSN !== 0) {
        throw new ParseError(
          {
            format: "ELF",
            offset: fileOffset,
            expected: `a relocation on an instruction boundary in "${section.name}"`,
          },
          `offset ${rel.offset} is not a multiple of 8`,
        );
      }
      r.check(
        fileOffset,
        INSN,
        `the instruction patched by relocation at ${rel.offset} in "${section.name}"`,
      );
      const opcode = r.u8(fileOffset, "opcode");
      const imm = r.i32(fileOffset + 4, "imm");
      const sym = elf.symbols[rel.symbolIndex];
      const symSection =
        sym.sectionIndex > 0 && sym.sectionIndex < elf.sections.length
          ? elf.sections[sym.sectionIndex]
          : undefined;
      const target = resolveTarget(ctx, sym, symSection, opcode, imm, fnOf);
      const local = rel.offset - raw.offset;
      const spec: RelocationSpec = {
        offset: local,
        insnIndex: local / INSN,
        type: rel.type,
        symbol: sym.name,
        symbolType: sym.type,
        symbolBinding: sym.binding,
        symbolSection: symSection?.name,
        symbolValue: sym.value,
        target,
      };
      fn.relocations.push(spec);
    }
  }

  // Direct calls: relocated ones and pc-relative calls within the same section.
  for (const fn of all) {
    fn.relocations.sort((a, b) => a.offset - b.offset);
    const relocated = new Map(fn.relocations.map((x) => [x.offset, x]));
    const calls = new Set<string>();
    const bytes = fn.instructions;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let off = 0; off + INSN <= bytes.length; off += INSN) {
      const opcode = bytes[off];
      const rel = relocated.get(off);
      if (rel) {
        if (rel.target.kind === "func") calls.add(rel.target.name);
      } else if (opcode === OP_CALL || opcode === OP_LD_IMM64) {
        const src = le ? bytes[off + 1] >> 4 : bytes[off + 1] & 0xf;
        if ((opcode === OP_CALL && src === PSEUDO_CALL) || (opcode === OP_LD_IMM64 && src === PSEUDO_FUNC)) {
          const target = fn.offset + off + (view.getInt32(off + 4, le) + 1) * INSN;
          const callee = byLocation.get(key(fn.sectionIndex, target));
          if (!callee) {
            throw new ParseError(
              {
                format: "ELF",
                offset: elf.sections[fn.sectionIndex].offset + fn.offset + off,
                expected: `a call from "${fn.name}" to the start of a function in "${fn.sectionName}"`,
              },
              `target offset ${target}`,
            );
          }
          calls.add(callee.name);
        }
      }
      if (opcode === OP_LD_IMM64) off += INSN;
    }
    fn.calls = [...calls];
  }

  const byName = new Map<string, FunctionSpec>();
  for (const fn of all) if (!byName.has(fn.name)) byName.set(fn.name, fn);
  const programs: ProgramSpec[] = [];
  const subprograms: FunctionSpec[] = [];
  for (const fn of all) {
    if (!isProgram.has(fn)) {
      subprograms.push(fn);
      continue;
    }
    const autoload = !fn.sectionName.startsWith("?");
    const section = autoload ? fn.sectionName : fn.sectionName.slice(1);
    const match = matchSectionName(section);
    // Transitive closure of calls, excluding the program itself.
    const seen = new Set<string>();
    const queue = [...fn.calls];
    while (queue.length > 0) {
      const name = queue.pop() as string;
      if (name === fn.name || seen.has(name)) continue;
      seen.add(name);
      const callee = byName.get(name);
      if (callee) queue.push(...callee.calls);
    }
    programs.push({
      name: fn.name,
      sectionIndex: fn.sectionIndex,
      sectionName: fn.sectionName,
      offset: fn.offset,
      size: fn.size,
      instructions: fn.instructions,
      relocations: fn.relocations,
      linkage: fn.linkage,
      calls: fn.calls,
      section,
      type: match?.programType ?? "BPF_PROG_TYPE_UNSPEC",
      expectedAttachType: match?.expectedAttachType,
      attachTo: match?.attachTo,
      sleepable: match?.sleepable ?? false,
      autoload,
      secDef: match?.def,
      subprograms: [...seen].sort(),
    });
  }
  return { programs, subprograms };
}

function resolveTarget(
  ctx: TargetContext,
  sym: ElfSymbol,
  symSection: ElfSection | undefined,
  opcode: number,
  imm: number,
  fnOf: (sectionIndex: number, offset: number) => FunctionSpec | undefined,
): RelocationTarget {
  const isCall = opcode === OP_CALL;
  if (sym.sectionIndex === 0) {
    return { kind: ctx.externKind(sym.name, isCall), name: sym.name };
  }
  if (!symSection) return { kind: "unknown", name: sym.name };
  const sectionKind = ctx.sectionKinds.get(symSection.index);
  if (sectionKind === "map") {
    const offset = sym.type === "section" ? sym.value + imm : sym.value;
    const name = ctx.mapAt(symSection.index, offset);
    return name !== undefined ? { kind: "map", name } : { kind: "unknown", name: sym.name };
  }
  if (sectionKind === "data") {
    return { kind: "data", name: symSection.name, section: symSection.name, offset: sym.value + imm };
  }
  if (isExecutableSection(symSection)) {
    // Calls: libbpf's rule `sym_off / 8 + imm + 1` (global functions have imm = -1). Function addresses
    // (ld_imm64): `sym_off + imm` bytes.
    const offset = isCall ? sym.value + (imm + 1) * INSN : sym.value + imm;
    const callee = fnOf(symSection.index, offset);
    if (callee && callee.offset === offset) {
      return { kind: "func", name: callee.name, section: symSection.name, offset };
    }
    return { kind: "unknown", name: sym.name, section: symSection.name, offset };
  }
  return { kind: "unknown", name: sym.name, section: symSection.name };
}
