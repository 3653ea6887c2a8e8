/**
 * A disassembler whose text reads like the kernel verifier's / `bpftool prog dump xlated` output
 * (`   4: (18) r1 = map[id:5]`), used in error messages and by the CLI.
 */
import { constant, type Instruction, slots } from "./instruction.js";
import {
  AluOp,
  AtomicOp,
  Class,
  Endian,
  HELPER_NAMES,
  JcondOp,
  JmpOp,
  Mode,
  opClass,
  opCode,
  opMode,
  opSize,
  opSource,
  PseudoCall,
  PseudoLd,
  Size,
  Source,
} from "./opcodes.js";

const ALU_STRING: Record<number, string> = {
  [AluOp.ADD]: "+=",
  [AluOp.SUB]: "-=",
  [AluOp.MUL]: "*=",
  [AluOp.DIV]: "/=",
  [AluOp.OR]: "|=",
  [AluOp.AND]: "&=",
  [AluOp.LSH]: "<<=",
  [AluOp.RSH]: ">>=",
  [AluOp.NEG]: "neg",
  [AluOp.MOD]: "%=",
  [AluOp.XOR]: "^=",
  [AluOp.MOV]: "=",
  [AluOp.ARSH]: "s>>=",
  [AluOp.END]: "endian",
};
const ALU_SIGN_STRING: Record<number, string> = { [AluOp.DIV]: "s/=", [AluOp.MOD]: "s%=" };
const MOVSX_STRING: Record<number, string> = { 8: "(s8)", 16: "(s16)", 32: "(s32)" };
const ATOMIC_ALU_STRING: Record<number, string> = {
  [AluOp.ADD]: "add",
  [AluOp.AND]: "and",
  [AluOp.OR]: "or",
  [AluOp.XOR]: "xor",
};
const LDST_STRING: Record<number, string> = {
  [Size.W]: "u32",
  [Size.H]: "u16",
  [Size.B]: "u8",
  [Size.DW]: "u64",
};
const LDSX_STRING: Record<number, string> = { [Size.W]: "s32", [Size.H]: "s16", [Size.B]: "s8" };
const JMP_STRING: Record<number, string> = {
  [JmpOp.JA]: "jmp",
  [JmpOp.JEQ]: "==",
  [JmpOp.JGT]: ">",
  [JmpOp.JLT]: "<",
  [JmpOp.JGE]: ">=",
  [JmpOp.JLE]: "<=",
  [JmpOp.JSET]: "&",
  [JmpOp.JNE]: "!=",
  [JmpOp.JSGT]: "s>",
  [JmpOp.JSLT]: "s<",
  [JmpOp.JSGE]: "s>=",
  [JmpOp.JSLE]: "s<=",
  [JmpOp.CALL]: "call",
  [JmpOp.EXIT]: "exit",
};
const CLASS_STRING = ["ld", "ldx", "st", "stx", "alu", "jmp", "jmp32", "alu64"];

const hex2 = (n: number) => n.toString(16).padStart(2, "0");
const signed = (n: number) => (n < 0 ? `${n}` : `+${n}`);
const u32 = (n: number) => n >>> 0;

/** Options of {@link formatInstruction} and {@link disassemble}. */
export interface DisasmOptions {
  /** Name a helper call; default: `bpf_<helper>` from the uapi helper list. */
  helperName?: (id: number) => string | undefined;
  /** Append the symbolic reference (`; map counts`) of instructions that carry one. */
  references?: boolean;
}

function helperName(id: number, opts?: DisasmOptions): string {
  const custom = opts?.helperName?.(id);
  if (custom) return custom;
  const n = id >= 0 ? HELPER_NAMES[id] : undefined;
  return n && id > 0 ? `bpf_${n}` : "unknown";
}

function ldImm64Text(i: Instruction): string {
  switch (i.src) {
    case PseudoLd.MAP_FD:
      return `map[id:${u32(i.imm)}]`;
    case PseudoLd.MAP_VALUE:
      return `map[id:${u32(i.imm)}][0]+${u32(i.imm2 ?? 0)}`;
    case PseudoLd.MAP_IDX:
      return `map[idx:${u32(i.imm)}]`;
    case PseudoLd.MAP_IDX_VALUE:
      return `map[idx:${u32(i.imm)}]+${u32(i.imm2 ?? 0)}`;
    case PseudoLd.FUNC:
      return `subprog[${signed(i.imm)}]`;
    default:
      return `0x${constant(i).toString(16)}`;
  }
}

/**
 * One instruction as the kernel prints it, without the index: `(b7) r1 = 0`.
 *
 * @example
 * ```ts
 * formatInstruction({ opcode: 0x95, dst: 0, src: 0, offset: 0, imm: 0 }); // "(95) exit"
 * ```
 */
export function formatInstruction(i: Instruction, opts?: DisasmOptions): string {
  const text = formatCore(i, opts);
  if (opts?.references && i.reference) {
    const r = i.reference;
    return `${text}  ; ${r.kind} ${r.name}${r.offset ? `+${r.offset}` : ""}`;
  }
  return text;
}

function formatCore(i: Instruction, opts?: DisasmOptions): string {
  const code = `(${hex2(i.opcode)})`;
  const cls = opClass(i.opcode);
  switch (cls) {
    case Class.ALU:
    case Class.ALU64: {
      const r = cls === Class.ALU ? "w" : "r";
      const op = opCode(i.opcode);
      if (op === AluOp.END) {
        if (cls === Class.ALU64) return `${code} r${i.dst} = bswap${i.imm} r${i.dst}`;
        return `${code} r${i.dst} = ${opSource(i.opcode) === Endian.TO_BE ? "be" : "le"}${i.imm} r${i.dst}`;
      }
      if (op === AluOp.NEG) return `${code} ${r}${i.dst} = -${r}${i.dst}`;
      if (cls === Class.ALU64 && op === AluOp.MOV && i.offset === 1 && opSource(i.opcode) === Source.X) {
        return `${code} r${i.dst} = addr_space_cast(r${i.src}, ${u32(i.imm) >>> 16}, ${i.imm & 0xffff})`;
      }
      const sdiv = (op === AluOp.DIV || op === AluOp.MOD) && i.offset === 1;
      const opText = (sdiv ? ALU_SIGN_STRING[op] : ALU_STRING[op]) ?? `alu_op_${hex2(op)}`;
      if (opSource(i.opcode) === Source.X) {
        const sx = op === AluOp.MOV ? (MOVSX_STRING[i.offset] ?? "") : "";
        return `${code} ${r}${i.dst} ${opText} ${sx}${r}${i.src}`;
      }
      return `${code} ${r}${i.dst} ${opText} ${i.imm}`;
    }
    case Class.STX: {
      const size = LDST_STRING[opSize(i.opcode)];
      const mode = opMode(i.opcode);
      const addr = `(r${i.dst} ${signed(i.offset)})`;
      if (mode === Mode.MEM) return `${code} *(${size} *)${addr} = r${i.src}`;
      if (mode === Mode.ATOMIC) {
        const wide = opSize(i.opcode) === Size.DW ? "64" : "";
        const aop = i.imm & ~AtomicOp.FETCH;
        if (i.imm === AluOp.ADD || i.imm === AluOp.AND || i.imm === AluOp.OR || i.imm === AluOp.XOR) {
          return `${code} lock *(${size} *)${addr} ${ALU_STRING[i.imm]} r${i.src}`;
        }
        if ((i.imm & AtomicOp.FETCH) !== 0 && ATOMIC_ALU_STRING[aop] !== undefined) {
          return `${code} r${i.src} = atomic${wide}_fetch_${ATOMIC_ALU_STRING[aop]}((${size} *)${addr}, r${i.src})`;
        }
        if (i.imm === AtomicOp.CMPXCHG) {
          return `${code} r0 = atomic${wide}_cmpxchg((${size} *)${addr}, r0, r${i.src})`;
        }
        if (i.imm === AtomicOp.XCHG) {
          return `${code} r${i.src} = atomic${wide}_xchg((${size} *)${addr}, r${i.src})`;
        }
        if (i.imm === AtomicOp.LOAD_ACQ) {
          return `${code} r${i.dst} = load_acquire((${size} *)(r${i.src} ${signed(i.offset)}))`;
        }
        if (i.imm === AtomicOp.STORE_REL) return `${code} store_release((${size} *)${addr}, r${i.src})`;
      }
      return `BUG_${hex2(i.opcode)}`;
    }
    case Class.ST: {
      if (opMode(i.opcode) === Mode.MEM) {
        return `${code} *(${LDST_STRING[opSize(i.opcode)]} *)(r${i.dst} ${signed(i.offset)}) = ${i.imm}`;
      }
      if (opMode(i.opcode) === 0xc0) return `${code} nospec`;
      return `BUG_st_${hex2(i.opcode)}`;
    }
    case Class.LDX: {
      const mode = opMode(i.opcode);
      if (mode !== Mode.MEM && mode !== Mode.MEMSX) return `BUG_ldx_${hex2(i.opcode)}`;
      const size = (mode === Mode.MEM ? LDST_STRING : LDSX_STRING)[opSize(i.opcode)] ?? "?";
      return `${code} r${i.dst} = *(${size} *)(r${i.src} ${signed(i.offset)})`;
    }
    case Class.LD: {
      const mode = opMode(i.opcode);
      const size = LDST_STRING[opSize(i.opcode)];
      if (mode === Mode.ABS) return `${code} r0 = *(${size} *)skb[${i.imm}]`;
      if (mode === Mode.IND) return `${code} r0 = *(${size} *)skb[r${i.src} + ${i.imm}]`;
      if (mode === Mode.IMM && opSize(i.opcode) === Size.DW) return `${code} r${i.dst} = ${ldImm64Text(i)}`;
      return `BUG_ld_${hex2(i.opcode)}`;
    }
    default: {
      // JMP and JMP32
      const op = opCode(i.opcode);
      const r = cls === Class.JMP32 ? "w" : "r";
      if (op === JmpOp.CALL) {
        if (i.src === PseudoCall.CALL) return `${code} call pc${signed(i.imm)}`;
        if (i.src === PseudoCall.KFUNC_CALL) {
          const name = i.reference?.name ?? "kernel-function";
          return `${code} call ${name}#${i.imm}`;
        }
        return `${code} call ${helperName(i.imm, opts)}#${i.imm}`;
      }
      if (cls === Class.JMP && op === JmpOp.JA) return `${code} goto pc${signed(i.offset)}`;
      if (cls === Class.JMP && op === JmpOp.JCOND && i.src === JcondOp.MAY_GOTO) {
        return `${code} may_goto pc${signed(i.offset)}`;
      }
      if (cls === Class.JMP32 && op === JmpOp.JA) return `${code} gotol pc${signed(i.imm)}`;
      if (cls === Class.JMP && op === JmpOp.EXIT) return `${code} exit`;
      const jop = JMP_STRING[op];
      if (jop === undefined || op === JmpOp.JA || op === JmpOp.EXIT || op === JmpOp.CALL) {
        return `${code} ${CLASS_STRING[cls]}`;
      }
      if (opSource(i.opcode) === Source.X) {
        return `${code} if ${r}${i.dst} ${jop} ${r}${i.src} goto pc${signed(i.offset)}`;
      }
      return `${code} if ${r}${i.dst} ${jop} 0x${u32(i.imm).toString(16)} goto pc${signed(i.offset)}`;
    }
  }
}

/**
 * Disassemble a program: one line per instruction, prefixed by its slot index as bpftool does
 * (`  12: (85) call bpf_map_lookup_elem#1`), with `; <source line>` lines from line info and a
 * `<symbol>:` header where a function starts.
 *
 * @example
 * ```ts
 * console.log(disassemble(program.instructions));
 * ```
 */
export function disassemble(
  insns: readonly Instruction[],
  opts?: DisasmOptions & { lines?: boolean },
): string {
  const out: string[] = [];
  let slot = 0;
  for (const i of insns) {
    if (i.symbol) out.push(`${i.symbol}:`);
    if (opts?.lines !== false && i.line) out.push(`; ${i.line.line}`);
    out.push(`${String(slot).padStart(4)}: ${formatInstruction(i, opts)}`);
    slot += slots(i);
  }
  return out.join("\n");
}
