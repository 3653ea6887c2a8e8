/**
 * Applying CO-RE relocation records to instructions: candidate search by essential name over the
 * target BTF(s), a per-object candidate cache trimmed as libbpf trims it, value computation, and
 * patching or poisoning.
 */
import type { CoreRelocationRecord, Instruction } from "../instruction.js";
import { CALL, POISON_CALL_IMM } from "../opcodes.js";
import { type CoreByteOrder, type CoreResolution, patchInstruction, resolveAgainst } from "./calc.js";
import { CoreError } from "./errors.js";
import { CoreReloKind, coreKindName } from "./kinds.js";
import { type CoreSpec, formatSpec, parseSpec } from "./spec.js";
import { BtfKind, type CoreBtf, essentialName, kindCoreCompat, kindName, typeById } from "./types.js";

type Target = { btf: CoreBtf; id: number };

const indexes = new WeakMap<CoreBtf, Map<string, number[]>>();

// Kinds a CO-RE root type can have (named, non-function, non-variable). Only these are indexed, which
// skips the ~85k FUNC/FUNC_PROTO/VAR/PTR/... types of vmlinux.
const ROOT_KINDS = new Set<number>([
  BtfKind.Int,
  BtfKind.Struct,
  BtfKind.Union,
  BtfKind.Enum,
  BtfKind.Fwd,
  BtfKind.Typedef,
  BtfKind.Float,
  BtfKind.Enum64,
]);

/** Essential name → type ids of a BTF (types that can be CO-RE roots), built once per BTF and cached. */
export function essentialNameIndex(btf: CoreBtf): Map<string, number[]> {
  let idx = indexes.get(btf);
  if (idx) return idx;
  idx = new Map();
  for (let id = 1; id < btf.typeCount; id++) {
    let name: string | undefined;
    if (btf.typeKind && btf.typeName) {
      if (!ROOT_KINDS.has(btf.typeKind(id))) continue;
      name = btf.typeName(id);
    } else {
      const t = btf.type(id);
      if (!t || !ROOT_KINDS.has(t.kind)) continue;
      name = t.name;
    }
    if (!name) continue;
    const n = essentialName(name);
    const list = idx.get(n);
    if (list) list.push(id);
    else idx.set(n, [id]);
  }
  indexes.set(btf, idx);
  return idx;
}

/**
 * Ids of the possible CO-RE roots whose essential name is `want`: from the BTF's own name index when it
 * has one (the kernel's BTF does: building a second index over its 130k types cost more than the rest of
 * a load), else from {@link essentialNameIndex}.
 */
export function candidateIds(btf: CoreBtf, want: string): number[] {
  if (!btf.findIdsByEssentialName) return essentialNameIndex(btf).get(want) ?? [];
  const ids = btf.findIdsByEssentialName(want);
  return ids.filter((id) => ROOT_KINDS.has(btf.typeKind ? btf.typeKind(id) : (btf.type(id)?.kind ?? -1)));
}

/** Target BTF for CO-RE: the kernel's, then modules' (searched only when the kernel has no candidate). */
export interface CoreTargets {
  /** vmlinux BTF. */
  vmlinux: CoreBtf;
  /** Module BTFs (split BTF sharing vmlinux's ids below their own). */
  modules?: readonly { name: string; btf: CoreBtf; firstTypeId?: number }[];
}

/** What happened to one CO-RE record. */
export interface CoreRelocationOutcome {
  /** Index of the record in its BTF.ext section. */
  index: number;
  kind: number;
  /** Local spec as a type path. */
  local: string;
  /** Target spec as a type path, undefined when nothing matched. */
  target?: string;
  origVal: bigint;
  newVal: bigint;
  /** The instruction was poisoned. */
  poisoned: boolean;
}

/** A CO-RE relocation that was poisoned: attached to the poisoned instruction for error messages. */
export interface CorePoison {
  /** Relocation index in its section. */
  index: number;
  kind: number;
  /** The local access path, e.g. `[12] struct task_struct.pidx (0:3 @ offset 8)`. */
  local: string;
  /** Why: no candidate, field missing, size change. */
  reason: string;
}

/** Instruction carrying CO-RE poison metadata. */
export type PoisonedInstruction = Instruction & { poison?: CorePoison };

/**
 * Resolves CO-RE records of one object against target BTF. Keep one per object: its candidate cache
 * follows libbpf (candidates of a local type are narrowed by each relocation that matched some).
 */
export class CoreRelocator {
  private readonly cands = new Map<number, Target[]>();
  readonly outcomes: CoreRelocationOutcome[] = [];

  constructor(
    readonly local: CoreBtf,
    readonly targets: CoreTargets,
    readonly order: CoreByteOrder = "little",
  ) {}

  private candidates(localId: number): Target[] {
    const cached = this.cands.get(localId);
    if (cached) return cached;
    const lt = typeById(this.local, localId);
    if (!lt) throw new CoreError("ERR_EBPF_CORE_SPEC", `local type id ${localId} out of range`);
    if (!lt.name) {
      throw new CoreError(
        "ERR_EBPF_CORE_SPEC",
        `relocation on anonymous ${kindName(lt.kind)} [${localId}]: CO-RE needs a named root type`,
      );
    }
    const want = essentialName(lt.name);
    const collect = (btf: CoreBtf, from = 1): Target[] =>
      candidateIds(btf, want)
        .filter((id) => id >= from && kindCoreCompat(lt, btf.type(id)!))
        .map((id) => ({ btf, id }));
    const found = collect(this.targets.vmlinux);
    if (found.length === 0) {
      for (const m of this.targets.modules ?? []) found.push(...collect(m.btf, m.firstTypeId ?? 1));
    }
    this.cands.set(localId, found);
    return found;
  }

  /** Parse and resolve one record (no patching). */
  resolve(rec: CoreRelocationRecord): { local: CoreSpec; res: CoreResolution } {
    const local = parseSpec(this.local, rec.typeId, rec.accessString, rec.kind);
    if (rec.kind === CoreReloKind.TYPE_ID_LOCAL)
      return { local, res: resolveAgainst(rec.kind, local, [], this.order) };
    const cands = this.candidates(rec.typeId);
    return { local, res: resolveAgainst(rec.kind, local, cands, this.order) };
  }

  /**
   * Resolve `rec` and patch `insn`. Returns the replacement instructions (two for a poisoned
   * ld_imm64); poisoned ones carry a {@link CorePoison}.
   */
  apply(insn: Instruction, rec: CoreRelocationRecord): PoisonedInstruction[] {
    const { local, res } = this.resolve(rec);
    const index = rec.index ?? this.outcomes.length;
    const out: PoisonedInstruction[] = patchInstruction(insn, res);
    const isPoison =
      res.poison || (res.failMemszAdjust && out[0].opcode === CALL && out[0].imm === POISON_CALL_IMM);
    this.outcomes.push({
      index,
      kind: rec.kind,
      local: formatSpec(local),
      target: res.target ? formatSpec(res.target) : undefined,
      origVal: res.origVal,
      newVal: res.newVal,
      poisoned: isPoison,
    });
    if (isPoison) {
      const reason = res.poison
        ? res.target
          ? "the target cannot satisfy it"
          : "no match in the target BTF"
        : `field size changed from ${res.origSize} to ${res.newSize} bytes and the value would be wrong (not a pointer or unsigned int)`;
      for (const p of out) p.poison = { index, kind: rec.kind, local: formatSpec(local), reason };
    }
    return out;
  }
}

/** The relocation as libbpf names it in messages: `byte_off [12] struct task_struct.pid (0:3 @ offset 8)`. */
export function describePoison(p: CorePoison): string {
  return `CO-RE relocation #${p.index} (${coreKindName(p.kind)} ${p.local}): ${p.reason}`;
}
