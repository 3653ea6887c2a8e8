/**
 * From the ELF model to instruction lists: decoding each function with its metadata (symbol,
 * relocations as references, BTF.ext func/line info and CO-RE records), then linking a program with
 * the subprograms it reaches (bpf-to-bpf calls and callback references), each appended once, in
 * libbpf's depth-first order, with call offsets fixed.
 */
import type { FunctionSpec, ProgramSpec, RelocationSpec } from "@ebpf/elf";
import { RelocationError } from "./core/errors.js";
import {
  type ByteOrder,
  type CoreRelocationRecord,
  decodeInstructions,
  type Instruction,
  type Reference,
  slotOffsets,
} from "./instruction.js";
import { CALL, LD_IMM64, PseudoCall, PseudoLd } from "./opcodes.js";

/** One BTF.ext func_info record, offsets in bytes within its section. */
export interface ExtFuncInfo {
  insnOff: number;
  typeId: number;
}

/** One BTF.ext line_info record, offsets in bytes within its section. */
export interface ExtLineInfo {
  insnOff: number;
  fileNameOff: number;
  lineOff: number;
  lineCol: number;
  /** Decoded strings, when the caller has them. */
  fileName?: string;
  line?: string;
}

/** One BTF.ext CO-RE relocation record, offset in bytes within its section. */
export interface ExtCoreRelo {
  insnOff: number;
  typeId: number;
  accessString: string;
  kind: number;
}

/** BTF.ext contents by section name. */
export interface ExtInfo {
  funcInfo: ReadonlyMap<string, readonly ExtFuncInfo[]>;
  lineInfo: ReadonlyMap<string, readonly ExtLineInfo[]>;
  coreRelos: ReadonlyMap<string, readonly ExtCoreRelo[]>;
}

/** A function decoded to instructions with its metadata. */
export interface DecodedFunction {
  name: string;
  section: string;
  /** Byte offset in its section. */
  offset: number;
  insns: Instruction[];
}

function referenceOf(r: RelocationSpec): Reference {
  const t = r.target;
  const ref: Reference = { kind: t.kind, name: t.name };
  if (t.offset !== undefined) ref.offset = t.offset;
  if (t.section !== undefined) ref.section = t.section;
  return ref;
}

/**
 * Decode one function and attach its metadata.
 *
 * @throws RelocationError when a relocation points outside the function or into the middle of an
 *   `ld_imm64`.
 */
export function decodeFunction(fn: FunctionSpec, order: ByteOrder, ext?: ExtInfo): DecodedFunction {
  const insns = decodeInstructions(fn.instructions, order);
  const offsets = slotOffsets(insns);
  const bySlot = new Map<number, number>();
  for (let k = 0; k < insns.length; k++) bySlot.set(offsets[k], k);
  const at = (slot: number, what: string): Instruction => {
    const k = bySlot.get(slot);
    if (k === undefined) {
      throw new RelocationError(
        "ERR_EBPF_RELOCATION",
        `function "${fn.name}": ${what} at instruction ${slot} is ${slot >= offsets[insns.length] ? `outside the function (${offsets[insns.length]} instructions)` : "inside an ld_imm64"}`,
      );
    }
    return insns[k];
  };
  if (insns.length > 0) insns[0].symbol = fn.name;
  for (const r of fn.relocations) {
    if (r.offset % 8 !== 0) {
      throw new RelocationError(
        "ERR_EBPF_RELOCATION",
        `function "${fn.name}": relocation against "${r.symbol}" at byte ${r.offset} is not instruction-aligned`,
      );
    }
    at(r.insnIndex, `relocation against "${r.symbol}"`).reference = referenceOf(r);
  }
  if (ext) {
    const lo = fn.offset;
    const hi = fn.offset + fn.size;
    const inRange = (off: number) => {
      if (off < lo || off >= hi) return false;
      if ((off - lo) % 8 !== 0) {
        throw new RelocationError(
          "ERR_EBPF_RELOCATION",
          `function "${fn.name}": BTF.ext record at byte ${off} of ${fn.sectionName} is not instruction-aligned`,
        );
      }
      return true;
    };
    for (const f of ext.funcInfo.get(fn.sectionName) ?? []) {
      if (inRange(f.insnOff)) at((f.insnOff - lo) / 8, "func info").func = { typeId: f.typeId };
    }
    for (const l of ext.lineInfo.get(fn.sectionName) ?? []) {
      if (!inRange(l.insnOff)) continue;
      at((l.insnOff - lo) / 8, "line info").line = {
        fileName: l.fileName ?? "",
        line: l.line ?? "",
        lineNumber: l.lineCol >>> 10,
        column: l.lineCol & 0x3ff,
        raw: { fileNameOff: l.fileNameOff, lineOff: l.lineOff, lineCol: l.lineCol },
      };
    }
    const relos = ext.coreRelos.get(fn.sectionName) ?? [];
    for (let i = 0; i < relos.length; i++) {
      const c = relos[i];
      if (!inRange(c.insnOff)) continue;
      const rec: CoreRelocationRecord = {
        typeId: c.typeId,
        accessString: c.accessString,
        kind: c.kind,
        index: i,
      };
      at((c.insnOff - lo) / 8, `CO-RE relocation #${i}`).core = rec;
    }
  }
  return { name: fn.name, section: fn.sectionName, offset: fn.offset, insns };
}

const isCall = (i: Instruction) => i.opcode === CALL && i.src === PseudoCall.CALL;
const isFuncRef = (i: Instruction) =>
  i.opcode === LD_IMM64 && (i.src === PseudoLd.FUNC || i.reference?.kind === "func");

/** Kernel func_info record of a linked program: `insnOff` in instructions. */
export interface FuncInfoRecord {
  insnOff: number;
  typeId: number;
}

/** Kernel line_info record of a linked program: `insnOff` in instructions. */
export interface LineInfoRecord {
  insnOff: number;
  fileNameOff: number;
  lineOff: number;
  lineCol: number;
}

/** A lookup of the decoded functions of an object, by section+offset and by name. */
export class FunctionTable {
  private readonly byLocation = new Map<string, DecodedFunction>();
  private readonly byName = new Map<string, DecodedFunction[]>();

  constructor(functions: Iterable<DecodedFunction>) {
    for (const f of functions) {
      this.byLocation.set(`${f.section}\0${f.offset}`, f);
      const list = this.byName.get(f.name);
      if (list) list.push(f);
      else this.byName.set(f.name, [f]);
    }
  }

  at(section: string, offset: number): DecodedFunction | undefined {
    return this.byLocation.get(`${section}\0${offset}`);
  }

  named(name: string): DecodedFunction | undefined {
    const list = this.byName.get(name);
    return list?.find((f) => f.section === ".text") ?? list?.[0];
  }

  /** The callee of a call/func-reference instruction at `slot` of `fn`. */
  callee(fn: DecodedFunction, insn: Instruction, slot: number, program: string): DecodedFunction {
    const ref = insn.reference;
    let found: DecodedFunction | undefined;
    let what: string;
    if (ref && ref.kind === "func") {
      found =
        ref.section !== undefined && ref.offset !== undefined ? this.at(ref.section, ref.offset) : undefined;
      found ??= this.named(ref.name);
      what = `"${ref.name}"${ref.section !== undefined ? ` (${ref.section}+${ref.offset})` : ""}`;
    } else if (ref) {
      throw new RelocationError(
        "ERR_EBPF_RELOCATION",
        `program "${program}": function "${fn.name}" instruction ${slot} is a call but its relocation refers to ${ref.kind} "${ref.name}"`,
      );
    } else if (insn.opcode === CALL) {
      // pc-relative call to a static function of the same section, no relocation emitted.
      const off = fn.offset + (slot + insn.imm + 1) * 8;
      found = this.at(fn.section, off);
      what = `${fn.section}+${off}`;
    } else {
      throw new RelocationError(
        "ERR_EBPF_RELOCATION",
        `program "${program}": function "${fn.name}" instruction ${slot} takes a function address without a relocation`,
      );
    }
    if (!found) {
      throw new RelocationError(
        "ERR_EBPF_RELOCATION",
        `program "${program}": function "${fn.name}" instruction ${slot} calls missing function ${what}`,
      );
    }
    return found;
  }
}

/** A program linked with its subprograms. */
export interface LinkedProgram {
  name: string;
  /** Instructions; each function's first one has `symbol`. Call offsets are final. */
  insns: Instruction[];
  /** Names of the appended subprograms, in layout order. */
  subprograms: string[];
}

/**
 * Link `main` with every subprogram it reaches. Subprograms are appended once each, depth-first in
 * order of first reference (libbpf's order); `call` and `ld_imm64` function references get their final
 * relative offsets. Instructions are copied, so a function can be linked into several programs.
 *
 * @throws RelocationError when a call targets a missing function.
 */
export function linkProgram(main: DecodedFunction, table: FunctionTable): LinkedProgram {
  const out: Instruction[] = [];
  const start = new Map<DecodedFunction, number>(); // slot where each function was placed
  const appended: string[] = [];
  let total = 0;
  const append = (fn: DecodedFunction) => {
    start.set(fn, total);
    const base = out.length;
    for (const i of fn.insns) out.push({ ...i });
    for (let k = base; k < out.length; k++) total += out[k].opcode === LD_IMM64 ? 2 : 1;
    return base;
  };
  const process = (fn: DecodedFunction, base: number) => {
    let slot = 0;
    const fnStart = start.get(fn)!;
    for (let k = 0; k < fn.insns.length; k++) {
      const src = fn.insns[k];
      const here = slot;
      slot += src.opcode === LD_IMM64 ? 2 : 1;
      if (!isCall(src) && !isFuncRef(src)) continue;
      if (src.opcode === CALL && src.reference && src.reference.kind !== "func") continue;
      const callee = table.callee(fn, src, here, main.name);
      if (!start.has(callee)) {
        appended.push(callee.name);
        const cb = append(callee);
        process(callee, cb);
      }
      const insn = out[base + k];
      insn.imm = start.get(callee)! - (fnStart + here) - 1;
      if (insn.opcode === LD_IMM64) {
        insn.src = PseudoLd.FUNC;
        insn.imm2 = 0;
      } else {
        insn.src = PseudoCall.CALL;
      }
      insn.reference ??= { kind: "func", name: callee.name, section: callee.section, offset: callee.offset };
    }
  };
  process(main, append(main));
  return { name: main.name, insns: out, subprograms: appended };
}

/** The kernel's func_info for a linked program. */
export function funcInfoOf(insns: readonly Instruction[]): FuncInfoRecord[] {
  const out: FuncInfoRecord[] = [];
  let slot = 0;
  for (const i of insns) {
    if (i.func) out.push({ insnOff: slot, typeId: i.func.typeId });
    slot += i.opcode === LD_IMM64 ? 2 : 1;
  }
  return out;
}

/** The kernel's line_info for a linked program. */
export function lineInfoOf(insns: readonly Instruction[]): LineInfoRecord[] {
  const out: LineInfoRecord[] = [];
  let slot = 0;
  for (const i of insns) {
    if (i.line?.raw) out.push({ insnOff: slot, ...i.line.raw });
    slot += i.opcode === LD_IMM64 ? 2 : 1;
  }
  return out;
}

/** Decode every function of an object (programs and subprograms). */
export function decodeFunctions(
  functions: readonly (FunctionSpec | ProgramSpec)[],
  order: ByteOrder,
  ext?: ExtInfo,
): DecodedFunction[] {
  return functions.map((f) => decodeFunction(f, order, ext));
}

/** func_info records as the kernel takes them (`bpf_func_info`, 8 bytes each). */
export function encodeFuncInfo(records: readonly FuncInfoRecord[], order: ByteOrder = "little"): Uint8Array {
  const out = new Uint8Array(records.length * 8);
  const dv = new DataView(out.buffer);
  const le = order === "little";
  records.forEach((r, k) => {
    dv.setUint32(k * 8, r.insnOff, le);
    dv.setUint32(k * 8 + 4, r.typeId, le);
  });
  return out;
}

/** line_info records as the kernel takes them (`bpf_line_info`, 16 bytes each). */
export function encodeLineInfo(records: readonly LineInfoRecord[], order: ByteOrder = "little"): Uint8Array {
  const out = new Uint8Array(records.length * 16);
  const dv = new DataView(out.buffer);
  const le = order === "little";
  records.forEach((r, k) => {
    dv.setUint32(k * 16, r.insnOff, le);
    dv.setUint32(k * 16 + 4, r.fileNameOff, le);
    dv.setUint32(k * 16 + 8, r.lineOff, le);
    dv.setUint32(k * 16 + 12, r.lineCol, le);
  });
  return out;
}
