/**
 * Computing a CO-RE relocation's value (libbpf's `bpf_core_calc_relo_insn` and helpers) and patching
 * the instruction (`bpf_core_patch_insn`).
 */
import type { Instruction } from "../instruction.js";
import {
  CALL,
  Class,
  LD_IMM64,
  opClass,
  opMode,
  opSize,
  POISON_CALL_IMM,
  sizeBytes,
  sizeForBytes,
} from "../opcodes.js";
import { CoreError } from "./errors.js";
import { CoreReloKind, coreKindName, isEnumvalBased, isFieldBased, isTypeBased } from "./kinds.js";
import { type CoreSpec, formatSpec, matchSpec } from "./spec.js";
import {
  BTF_INT_SIGNED,
  BtfKind,
  type CoreBtf,
  isAnyEnum,
  resolveSize,
  skipModsAndTypedefs,
  typeById,
} from "./types.js";

/** What a relocation resolved to (libbpf's `bpf_core_relo_res`). */
export interface CoreResolution {
  /** Value the compiler put in the instruction (computed from the local BTF). */
  origVal: bigint;
  /** Value for the target. */
  newVal: bigint;
  /** The relocation cannot be satisfied: the instruction is poisoned. */
  poison: boolean;
  /** Check that the instruction holds `origVal` before patching. */
  validate: boolean;
  /** Load/store size would change in a way that corrupts the value: poison loads/stores. */
  failMemszAdjust: boolean;
  origSize: number;
  newSize: number;
  origTypeId: number;
  newTypeId: number;
  /** Target spec chosen, undefined when no candidate matched. */
  target?: CoreSpec;
}

type Target = { btf: CoreBtf; id: number };

/** Byte order the instructions run in, for LSHIFT_U64. */
export type CoreByteOrder = "little" | "big";

function fieldRelo(
  kind: number,
  spec: CoreSpec | undefined,
  order: CoreByteOrder,
): { val: bigint; size: number; typeId: number; validate: boolean } | "poison" {
  if (kind === CoreReloKind.FIELD_EXISTS) return { val: spec ? 1n : 0n, size: 0, typeId: 0, validate: true };
  if (!spec) return "poison";
  const btf = spec.btf;
  const acc = spec.spec[spec.spec.length - 1];
  const bad = (why: string) => new CoreError("ERR_EBPF_CORE_BTF", `${formatSpec(spec)}: ${why}`);
  if (acc.name === undefined) {
    const sz = resolveSize(btf, acc.typeId);
    if (sz < 0) throw bad(`cannot size type [${acc.typeId}]`);
    if (kind === CoreReloKind.FIELD_BYTE_OFFSET) {
      return { val: BigInt(Math.floor(spec.bitOffset / 8)), size: sz, typeId: acc.typeId, validate: true };
    }
    if (kind === CoreReloKind.FIELD_BYTE_SIZE) return { val: BigInt(sz), size: 0, typeId: 0, validate: true };
    throw new CoreError(
      "ERR_EBPF_CORE_SPEC",
      `${coreKindName(kind)} relocation cannot be applied to an array element access (${formatSpec(spec)})`,
    );
  }
  const t = typeById(btf, acc.typeId);
  const m = t?.members?.[acc.idx];
  if (!m) throw bad("accessor points outside its type");
  const mt = skipModsAndTypedefs(btf, m.type);
  if (!mt) throw bad(`member type ${m.type} out of range`);
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number;
  let byteOff: number;
  if (bitfield) {
    byteSz = mt.t.size;
    if (!(byteSz > 0)) throw bad("bitfield of unsized type");
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) {
        throw new CoreError(
          "ERR_EBPF_CORE_SPEC",
          `bitfield ${formatSpec(spec)} cannot be read with a 64-bit load`,
        );
      }
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    const sz = resolveSize(btf, mt.id);
    if (sz < 0) throw bad(`cannot size member type [${mt.id}]`);
    byteSz = sz;
    byteOff = Math.floor(bitOff / 8);
    bitSz = byteSz * 8;
  }
  let validate = !bitfield;
  let val: bigint;
  let size = 0;
  let typeId = 0;
  switch (kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
      val = BigInt(byteOff);
      if (!bitfield) {
        size = byteSz;
        typeId = mt.id;
      }
      break;
    case CoreReloKind.FIELD_BYTE_SIZE:
      val = BigInt(byteSz);
      break;
    case CoreReloKind.FIELD_SIGNED:
      val =
        (isAnyEnum(mt.t) && mt.t.kindFlag) ||
        (mt.t.kind === BtfKind.Int && ((mt.t.intEncoding ?? 0) & BTF_INT_SIGNED) !== 0)
          ? 1n
          : 0n;
      validate = true;
      break;
    case CoreReloKind.FIELD_LSHIFT_U64:
      val =
        order === "little"
          ? BigInt(64 - (bitOff + bitSz - byteOff * 8))
          : BigInt((8 - byteSz) * 8 + (bitOff - byteOff * 8));
      break;
    case CoreReloKind.FIELD_RSHIFT_U64:
      val = BigInt(64 - bitSz);
      validate = true;
      break;
    default:
      throw new CoreError("ERR_EBPF_CORE_SPEC", `unknown field relocation kind ${kind}`);
  }
  return { val, size, typeId, validate };
}

function typeRelo(kind: number, spec: CoreSpec | undefined): { val: bigint; validate: boolean } {
  if (!spec) return { val: 0n, validate: true };
  switch (kind) {
    case CoreReloKind.TYPE_ID_TARGET:
      return { val: BigInt(spec.rootTypeId), validate: false };
    case CoreReloKind.TYPE_EXISTS:
    case CoreReloKind.TYPE_MATCHES:
      return { val: 1n, validate: true };
    case CoreReloKind.TYPE_SIZE: {
      const sz = resolveSize(spec.btf, spec.rootTypeId);
      if (sz < 0) throw new CoreError("ERR_EBPF_CORE_BTF", `cannot size ${formatSpec(spec)}`);
      return { val: BigInt(sz), validate: true };
    }
    default:
      throw new CoreError("ERR_EBPF_CORE_SPEC", `unknown type relocation kind ${kind}`);
  }
}

function enumRelo(kind: number, spec: CoreSpec | undefined): bigint | "poison" {
  if (kind === CoreReloKind.ENUMVAL_EXISTS) return spec ? 1n : 0n;
  if (!spec) return "poison";
  const acc = spec.spec[0];
  const v = typeById(spec.btf, acc.typeId)?.values?.[acc.idx];
  if (!v) throw new CoreError("ERR_EBPF_CORE_BTF", `enum value #${acc.idx} missing in ${formatSpec(spec)}`);
  return BigInt.asUintN(64, v.value);
}

/** libbpf's `bpf_core_calc_relo`: local and target values of one relocation. */
export function calcRelo(
  kind: number,
  local: CoreSpec,
  target: CoreSpec | undefined,
  order: CoreByteOrder,
): CoreResolution {
  const res: CoreResolution = {
    origVal: 0n,
    newVal: 0n,
    poison: false,
    validate: true,
    failMemszAdjust: false,
    origSize: 0,
    newSize: 0,
    origTypeId: 0,
    newTypeId: 0,
    target,
  };
  if (isFieldBased(kind)) {
    const o = fieldRelo(kind, local, order);
    const n = fieldRelo(kind, target, order);
    if (o === "poison" || n === "poison") {
      res.poison = true;
      return res;
    }
    res.origVal = o.val;
    res.origSize = o.size;
    res.origTypeId = o.typeId;
    res.validate = o.validate;
    res.newVal = n.val;
    res.newSize = n.size;
    res.newTypeId = n.typeId;
    if (res.origSize !== res.newSize) {
      const ot = typeById(local.btf, res.origTypeId);
      const nt = target ? typeById(target.btf, res.newTypeId) : undefined;
      const unsignedInt = (t: typeof ot) =>
        t?.kind === BtfKind.Int && (t.intEncoding ?? 0) !== BTF_INT_SIGNED;
      const ok =
        (ot?.kind === BtfKind.Ptr && nt?.kind === BtfKind.Ptr) || (unsignedInt(ot) && unsignedInt(nt));
      res.failMemszAdjust = !ok;
    }
  } else if (isTypeBased(kind)) {
    const o = typeRelo(kind, local);
    res.origVal = o.val;
    res.validate = o.validate;
    res.newVal = typeRelo(kind, target).val;
  } else if (isEnumvalBased(kind)) {
    const o = enumRelo(kind, local);
    const n = enumRelo(kind, target);
    if (o === "poison" || n === "poison") {
      res.poison = true;
      return res;
    }
    res.origVal = o;
    res.newVal = n;
  } else {
    throw new CoreError("ERR_EBPF_CORE_SPEC", `unrecognized CO-RE relocation kind ${kind}`);
  }
  return res;
}

/**
 * Resolve one relocation against its candidates (libbpf's `bpf_core_calc_relo_insn`). `cands` is
 * trimmed in place to the candidates that matched, as libbpf does with its per-object cache.
 */
export function resolveAgainst(
  kind: number,
  local: CoreSpec,
  cands: Target[],
  order: CoreByteOrder,
): CoreResolution {
  if (kind === CoreReloKind.TYPE_ID_LOCAL) {
    const v = BigInt(local.rootTypeId);
    return {
      origVal: v,
      newVal: v,
      poison: false,
      validate: false,
      failMemszAdjust: false,
      origSize: 0,
      newSize: 0,
      origTypeId: 0,
      newTypeId: 0,
    };
  }
  let best: CoreResolution | undefined;
  let bestSpec: CoreSpec | undefined;
  const kept: Target[] = [];
  for (const c of cands) {
    const spec = matchSpec(local, c.btf, c.id);
    if (!spec) continue;
    const res = calcRelo(kind, local, spec, order);
    if (!best || !bestSpec) {
      best = res;
      bestSpec = spec;
    } else if (spec.bitOffset !== bestSpec.bitOffset) {
      throw new CoreError(
        "ERR_EBPF_CORE_AMBIGUOUS",
        `field offset ambiguity: ${formatSpec(bestSpec)} vs ${formatSpec(spec)}`,
      );
    } else if (res.poison !== best.poison || res.newVal !== best.newVal) {
      throw new CoreError(
        "ERR_EBPF_CORE_AMBIGUOUS",
        `relocation decision ambiguity: ${best.poison ? "poison" : best.newVal} (${formatSpec(bestSpec)}) != ${res.poison ? "poison" : res.newVal} (${formatSpec(spec)})`,
      );
    }
    kept.push(c);
  }
  if (kept.length > 0) {
    cands.length = 0;
    cands.push(...kept);
  }
  return best ?? calcRelo(kind, local, undefined, order);
}

/** libbpf's poison: `call 0xbad2310` ("bad relo"), which the verifier rejects if reachable. */
export function poisonInstruction(from: Instruction): Instruction {
  return { ...from, opcode: CALL, dst: 0, src: 0, offset: 0, imm: POISON_CALL_IMM, imm2: undefined };
}

/**
 * Apply a resolution to an instruction (libbpf's `bpf_core_patch_insn`). Returns the replacement: one
 * instruction, or two `call` poisons for a poisoned `ld_imm64` (the slot count does not change).
 *
 * @throws CoreError (`ERR_EBPF_CORE_INSN`) when the instruction does not hold the value the compiler
 *   computed, or cannot carry the new one.
 */
export function patchInstruction(insn: Instruction, res: CoreResolution): Instruction[] {
  const poison = (): Instruction[] => {
    const p = poisonInstruction(insn);
    if (insn.opcode === LD_IMM64) {
      const second: Instruction = { opcode: CALL, dst: 0, src: 0, offset: 0, imm: POISON_CALL_IMM };
      return [p, second];
    }
    return [p];
  };
  if (res.poison) return poison();
  const bad = (why: string) => new CoreError("ERR_EBPF_CORE_INSN", why);
  const cls = opClass(insn.opcode);
  const out = { ...insn };
  switch (cls) {
    case Class.ALU:
    case Class.ALU64: {
      if ((insn.opcode & 0x08) !== 0) throw bad("ALU instruction with a register source cannot be relocated");
      if (res.validate && BigInt.asUintN(64, BigInt(insn.imm)) !== res.origVal) {
        throw bad(
          `unexpected ALU immediate: got ${insn.imm >>> 0}, expected ${res.origVal} -> ${res.newVal}`,
        );
      }
      out.imm = Number(BigInt.asIntN(32, res.newVal));
      return [out];
    }
    case Class.LDX:
    case Class.ST:
    case Class.STX: {
      if (res.validate && BigInt.asUintN(64, BigInt(insn.offset)) !== res.origVal) {
        throw bad(
          `unexpected load/store offset: got ${insn.offset}, expected ${res.origVal} -> ${res.newVal}`,
        );
      }
      if (res.newVal > 0x7fffn) throw bad(`load/store offset too big: ${res.newVal}`);
      if (res.failMemszAdjust) return poison();
      out.offset = Number(res.newVal);
      if (res.newSize !== res.origSize) {
        const have = sizeBytes(opSize(insn.opcode));
        if (have !== res.origSize) {
          throw bad(`unexpected memory access size: got ${have}, expected ${res.origSize}`);
        }
        const size = sizeForBytes(res.newSize);
        if (size === undefined) throw bad(`invalid new memory access size ${res.newSize}`);
        out.opcode = opMode(insn.opcode) | size | cls;
      }
      return [out];
    }
    case Class.LD: {
      if (insn.opcode !== LD_IMM64 || insn.src !== 0 || insn.offset !== 0) {
        throw bad("ld_imm64 has an unexpected form");
      }
      const imm = (BigInt((insn.imm2 ?? 0) >>> 0) << 32n) | BigInt(insn.imm >>> 0);
      if (res.validate && imm !== res.origVal) {
        throw bad(`unexpected ld_imm64 value: got ${imm}, expected ${res.origVal} -> ${res.newVal}`);
      }
      out.imm = Number(BigInt.asIntN(32, res.newVal & 0xffffffffn));
      out.imm2 = Number(BigInt.asIntN(32, BigInt.asUintN(64, res.newVal) >> 32n));
      return [out];
    }
    default:
      throw bad(`cannot relocate instruction with opcode 0x${insn.opcode.toString(16)}`);
  }
}
