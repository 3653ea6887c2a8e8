/**
 * The instruction model: one object per BPF instruction (a 16-byte `ld_imm64` is one object), carrying
 * the metadata the passes need (symbol, source line, func info, relocation, CO-RE record). Programs are
 * lists of these; bytes are produced last by {@link encodeInstructions}.
 */
import { ParseError } from "@ebpf/errors";
import {
  AluOp,
  CALL,
  Class,
  EXIT,
  INSN_SIZE,
  JmpOp,
  LD_IMM64,
  Mode,
  PseudoCall,
  PseudoLd,
  Source,
} from "./opcodes.js";

/** Byte order of an object file / of the encoded instructions. */
export type ByteOrder = "little" | "big";

/** One line of BTF.ext line info attached to the instruction it starts at. */
export interface SourceLine {
  /** Source file name. */
  fileName: string;
  /** The text of the source line. */
  line: string;
  /** 1-based line number. */
  lineNumber: number;
  /** 1-based column, 0 when unknown. */
  column: number;
  /** The raw BTF.ext record fields (string offsets into the object's BTF), for the kernel's line_info. */
  raw?: { fileNameOff: number; lineOff: number; lineCol: number };
}

/** BTF.ext func info of the function starting at an instruction: the BTF id of its `FUNC` type. */
export interface FuncInfoMeta {
  /** Type id of the `BTF_KIND_FUNC` in the object's BTF. */
  typeId: number;
}

/** What a `call`/`ld_imm64` refers to symbolically before relocation fills in numbers. */
export interface Reference {
  /** Kind of thing referenced. */
  kind: "map" | "data" | "func" | "kconfig" | "ksym" | "kfunc" | "unknown";
  /** Symbol name (map name, function name, extern name, data section name). */
  name: string;
  /** Byte offset into the referenced data (global data / kconfig), or of a callee in its section. */
  offset?: number;
  /** Section holding the referenced data or function. */
  section?: string;
}

/** A BTF.ext CO-RE relocation record attached to the instruction it patches. */
export interface CoreRelocationRecord {
  /** Local BTF type id of the root type. */
  typeId: number;
  /** Access spec string, e.g. `"0:1:2"`. */
  accessString: string;
  /** Relocation kind, `bpf_core_relo_kind` number. */
  kind: number;
  /** Index of this record within its section (for error messages). */
  index?: number;
}

/** A decoded BPF instruction with optional metadata. */
export interface Instruction {
  /** The opcode byte. */
  opcode: number;
  /** Destination register, 0-10. */
  dst: number;
  /** Source register (or pseudo source for `ld_imm64`/`call`), 0-15. */
  src: number;
  /** Signed 16-bit offset. */
  offset: number;
  /** Signed 32-bit immediate (low half for `ld_imm64`). */
  imm: number;
  /** `ld_imm64` only: the signed 32-bit immediate of the second slot (high half). */
  imm2?: number;

  /** The function symbol that starts at this instruction. */
  symbol?: string;
  /** What this instruction references (map, data, function, extern). */
  reference?: Reference;
  /** Source line starting at this instruction. */
  line?: SourceLine;
  /** Func info of the function starting here. */
  func?: FuncInfoMeta;
  /** CO-RE relocation patching this instruction. */
  core?: CoreRelocationRecord;
}

/** True for the 16-byte `ld_imm64`. */
export const isLdImm64 = (i: Pick<Instruction, "opcode">): boolean => i.opcode === LD_IMM64;

/** Number of 8-byte slots the instruction occupies (2 for `ld_imm64`). */
export const slots = (i: Pick<Instruction, "opcode">): 1 | 2 => (i.opcode === LD_IMM64 ? 2 : 1);

/** True for a bpf-to-bpf call. */
export const isPseudoCall = (i: Instruction): boolean => i.opcode === CALL && i.src === PseudoCall.CALL;
/** True for a kfunc call. */
export const isKfuncCall = (i: Instruction): boolean => i.opcode === CALL && i.src === PseudoCall.KFUNC_CALL;
/** True for a helper call. */
export const isHelperCall = (i: Instruction): boolean => i.opcode === CALL && i.src === PseudoCall.HELPER;
/** True for an `ld_imm64` loading the address of a subprogram (callback). */
export const isPseudoFunc = (i: Instruction): boolean => i.opcode === LD_IMM64 && i.src === PseudoLd.FUNC;
/** True for `exit`. */
export const isExit = (i: Instruction): boolean => i.opcode === EXIT;

/** The 64-bit constant of an `ld_imm64` as an unsigned bigint. */
export function constant(i: Instruction): bigint {
  return (BigInt((i.imm2 ?? 0) >>> 0) << 32n) | BigInt(i.imm >>> 0);
}

/** Set the 64-bit constant of an `ld_imm64` (two's complement for negatives). */
export function setConstant(i: Instruction, value: bigint): void {
  const v = BigInt.asUintN(64, value);
  i.imm = Number(BigInt.asIntN(32, v & 0xffffffffn));
  i.imm2 = Number(BigInt.asIntN(32, v >> 32n));
}

/** Total number of 8-byte slots of a list. */
export function slotCount(insns: readonly Instruction[]): number {
  let n = 0;
  for (const i of insns) n += i.opcode === LD_IMM64 ? 2 : 1;
  return n;
}

/** Slot offset of every instruction of a list, plus the total at the end. */
export function slotOffsets(insns: readonly Instruction[]): number[] {
  const out = new Array<number>(insns.length + 1);
  let n = 0;
  for (let k = 0; k < insns.length; k++) {
    out[k] = n;
    n += insns[k].opcode === LD_IMM64 ? 2 : 1;
  }
  out[insns.length] = n;
  return out;
}

/**
 * Decode raw instruction bytes.
 *
 * @param bytes - a whole number of 8-byte slots.
 * @param order - the object's byte order; big-endian objects keep `dst` in the high nibble.
 * @throws ParseError when the length is not a multiple of 8 or an `ld_imm64` is cut off or malformed.
 *
 * @example
 * ```ts
 * const insns = decodeInstructions(section.data, "little");
 * ```
 */
export function decodeInstructions(bytes: Uint8Array, order: ByteOrder = "little"): Instruction[] {
  if (bytes.length % INSN_SIZE !== 0) {
    throw new ParseError(
      { format: "BPF instructions", offset: bytes.length, expected: "a multiple of 8 bytes" },
      `got ${bytes.length} bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = order === "little";
  const out: Instruction[] = [];
  for (let off = 0; off < bytes.length; off += INSN_SIZE) {
    const opcode = bytes[off];
    const regs = bytes[off + 1];
    const insn: Instruction = {
      opcode,
      dst: le ? regs & 0xf : regs >> 4,
      src: le ? regs >> 4 : regs & 0xf,
      offset: view.getInt16(off + 2, le),
      imm: view.getInt32(off + 4, le),
    };
    if (opcode === LD_IMM64) {
      if (off + 2 * INSN_SIZE > bytes.length) {
        throw new ParseError(
          { format: "BPF instructions", offset: off, expected: "the second half of ld_imm64" },
          "end of input",
        );
      }
      const next = off + INSN_SIZE;
      if (bytes[next] !== 0 || bytes[next + 1] !== 0 || view.getInt16(next + 2, le) !== 0) {
        throw new ParseError(
          {
            format: "BPF instructions",
            offset: next,
            expected: "ld_imm64 second slot with zero code/regs/off",
          },
          `code 0x${bytes[next].toString(16)}`,
        );
      }
      insn.imm2 = view.getInt32(next + 4, le);
      off = next;
    }
    out.push(insn);
  }
  return out;
}

/**
 * Encode instructions to bytes (metadata is dropped).
 *
 * @example
 * ```ts
 * const bytes = encodeInstructions([{ opcode: 0xb7, dst: 0, src: 0, offset: 0, imm: 0 }, exit()]);
 * ```
 */
export function encodeInstructions(insns: readonly Instruction[], order: ByteOrder = "little"): Uint8Array {
  const out = new Uint8Array(slotCount(insns) * INSN_SIZE);
  const view = new DataView(out.buffer);
  const le = order === "little";
  let off = 0;
  for (const i of insns) {
    out[off] = i.opcode;
    out[off + 1] = le ? (i.dst & 0xf) | ((i.src & 0xf) << 4) : ((i.dst & 0xf) << 4) | (i.src & 0xf);
    view.setInt16(off + 2, i.offset, le);
    view.setInt32(off + 4, i.imm | 0, le);
    off += INSN_SIZE;
    if (i.opcode === LD_IMM64) {
      view.setInt32(off + 4, (i.imm2 ?? 0) | 0, le);
      off += INSN_SIZE;
    }
  }
  return out;
}

/** Shallow copy of an instruction (metadata objects are shared, they are treated as immutable). */
export function cloneInstruction(i: Instruction): Instruction {
  return { ...i };
}

// ---- Small builders, mostly for tests and generated code --------------------------------------------

const mk = (opcode: number, dst = 0, src = 0, offset = 0, imm = 0): Instruction => ({
  opcode,
  dst,
  src,
  offset,
  imm,
});

/** `exit` */
export const exit = (): Instruction => mk(EXIT);
/** `rDst = imm` (64-bit). */
export const mov64Imm = (dst: number, imm: number): Instruction =>
  mk(Class.ALU64 | AluOp.MOV | Source.K, dst, 0, 0, imm);
/** `rDst = rSrc` (64-bit). */
export const mov64Reg = (dst: number, src: number): Instruction =>
  mk(Class.ALU64 | AluOp.MOV | Source.X, dst, src);
/** `rDst op= imm` for an ALU op, 64-bit. */
export const alu64Imm = (op: number, dst: number, imm: number): Instruction =>
  mk(Class.ALU64 | op | Source.K, dst, 0, 0, imm);
/** `call helper#id` */
export const callHelper = (id: number): Instruction => mk(CALL, 0, PseudoCall.HELPER, 0, id);
/** `goto pc+off` */
export const ja = (off: number): Instruction => mk(Class.JMP | JmpOp.JA, 0, 0, off);
/** `rDst = *(size *)(rSrc + off)` */
export const ldx = (size: number, dst: number, src: number, off: number): Instruction =>
  mk(Class.LDX | Mode.MEM | size, dst, src, off);
/** `*(size *)(rDst + off) = rSrc` */
export const stx = (size: number, dst: number, src: number, off: number): Instruction =>
  mk(Class.STX | Mode.MEM | size, dst, src, off);
/** `ld_imm64 rDst = value` with optional pseudo source. */
export function ldImm64(dst: number, value: bigint, src = 0): Instruction {
  const i = mk(LD_IMM64, dst, src);
  setConstant(i, value);
  return i;
}
/** `lock *(u64 *)(rDst + off) op= rSrc` (or a fetch/xchg/cmpxchg variant via `op`). */
export const atomic = (size: number, op: number, dst: number, src: number, off: number): Instruction =>
  mk(Class.STX | Mode.ATOMIC | size, dst, src, off, op);
