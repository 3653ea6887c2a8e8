/**
 * Access specs: parsing `"0:1:2"` against the local BTF and matching the result against a target
 * candidate, following libbpf's `bpf_core_parse_spec` / `bpf_core_spec_match` rules.
 */

import { fieldsAreCompat, typesAreCompat, typesMatch } from "./compat.js";
import { CoreError } from "./errors.js";
import { CoreReloKind, coreKindName, isEnumvalBased, isFieldBased, isTypeBased } from "./kinds.js";
import {
  BtfKind,
  type CoreBtf,
  type CoreType,
  essentialNameLength,
  isAnyEnum,
  isComposite,
  kindName,
  resolveSize,
  skipModsAndTypedefs,
  typeById,
} from "./types.js";

/** libbpf's maximum access-spec length. */
export const SPEC_MAX_LEN = 64;

/** One step of an access spec: a named member, or an array index (name undefined). */
export interface Accessor {
  /** Type id of the composite (for a member) or of the element (for an array index). */
  typeId: number;
  /** Member index or array index. */
  idx: number;
  /** Member name (enum value name for enumval relocations); undefined for array indexes. */
  name?: string;
}

/** A parsed (local) or matched (target) access spec. */
export interface CoreSpec {
  btf: CoreBtf;
  rootTypeId: number;
  kind: number;
  /** High-level accessors: named members and array indexes (anonymous members are skipped). */
  spec: Accessor[];
  /** Raw indexes, including anonymous members. */
  raw: number[];
  /** Bit offset of the accessed field from the start of the root. */
  bitOffset: number;
}

function isFlexArr(btf: CoreBtf, acc: Accessor | undefined, nelems: number): boolean {
  if (!acc?.name || nelems > 0) return false;
  const t = typeById(btf, acc.typeId);
  return !!t?.members && acc.idx === t.members.length - 1;
}

/**
 * Parse an access string against the local BTF.
 *
 * @throws CoreError (`ERR_EBPF_CORE_SPEC`) on a malformed string, an out-of-range index or id, or a
 *   path through a type that has no members.
 */
export function parseSpec(btf: CoreBtf, typeId: number, access: string, kind: number): CoreSpec {
  const fail = (why: string) =>
    new CoreError("ERR_EBPF_CORE_SPEC", `bad access spec "${access}" on type [${typeId}]: ${why}`);
  if (!/^\d+(:\d+)*$/.test(access)) throw fail("expected colon-separated non-negative integers");
  const raw = access.split(":").map(Number);
  if (raw.length > SPEC_MAX_LEN) throw fail(`longer than ${SPEC_MAX_LEN} steps`);
  if (raw.some((n) => n > 0xffffffff)) throw fail("index out of range");
  const root = typeById(btf, typeId);
  if (!root || typeId === 0) throw fail("type id out of range");
  const spec: CoreSpec = { btf, rootTypeId: typeId, kind, spec: [], raw, bitOffset: 0 };

  if (isTypeBased(kind)) {
    if (access !== "0") throw fail(`${coreKindName(kind)} relocations take the spec "0"`);
    return spec;
  }

  let cur = skipModsAndTypedefs(btf, typeId);
  if (!cur) throw fail("type id out of range");

  if (isEnumvalBased(kind)) {
    if (!isAnyEnum(cur.t) || raw.length > 1) throw fail(`${kindName(cur.t.kind)} is not an enum`);
    const values = cur.t.values ?? [];
    const idx = raw[0];
    if (idx >= values.length) throw fail(`enum value #${idx} of ${values.length}`);
    spec.spec.push({ typeId: cur.id, idx, name: values[idx].name });
    return spec;
  }

  if (!isFieldBased(kind)) throw fail(`unknown relocation kind ${kind}`);

  spec.spec.push({ typeId: cur.id, idx: raw[0] });
  const rootSize = resolveSize(btf, cur.id);
  if (rootSize < 0) throw fail(`cannot size type [${cur.id}]`);
  spec.bitOffset = raw[0] * rootSize * 8;

  let id = cur.id;
  for (let i = 1; i < raw.length; i++) {
    cur = skipModsAndTypedefs(btf, id);
    if (!cur) throw fail(`type id ${id} out of range`);
    id = cur.id;
    const t = cur.t;
    const accessIdx = raw[i];
    if (isComposite(t)) {
      const members = t.members ?? [];
      if (accessIdx >= members.length) {
        throw fail(
          `member #${accessIdx} of ${kindName(t.kind)} ${t.name || "(anon)"} with ${members.length}`,
        );
      }
      const m = members[accessIdx];
      spec.bitOffset += m.bitOffset;
      if (m.name) spec.spec.push({ typeId: id, idx: accessIdx, name: m.name });
      id = m.type;
    } else if (t.kind === BtfKind.Array && t.array) {
      const a = t.array;
      const elem = skipModsAndTypedefs(btf, a.type);
      if (!elem) throw fail(`array element type ${a.type} out of range`);
      const flex = isFlexArr(btf, spec.spec[spec.spec.length - 1], a.nelems);
      if (!flex && accessIdx >= a.nelems) throw fail(`index ${accessIdx} of array[${a.nelems}]`);
      id = elem.id;
      spec.spec.push({ typeId: id, idx: accessIdx });
      const sz = resolveSize(btf, id);
      if (sz < 0) throw fail(`cannot size type [${id}]`);
      spec.bitOffset += accessIdx * sz * 8;
    } else {
      throw fail(`step ${i} reaches ${kindName(t.kind)} [${id}], which has no members or elements`);
    }
  }
  return spec;
}

/**
 * Find the local member `localAcc` by name in the target composite, descending through anonymous
 * members (libbpf's `bpf_core_match_member`). Returns 1 and the next target id on a match.
 */
function matchMember(
  local: CoreBtf,
  localAcc: Accessor,
  targ: CoreBtf,
  targId: number,
  spec: CoreSpec,
): { found: number; next: number } {
  const tt = skipModsAndTypedefs(targ, targId);
  if (!tt) return { found: -1, next: 0 };
  if (!isComposite(tt.t)) return { found: 0, next: 0 };
  const localType = typeById(local, localAcc.typeId) as CoreType;
  const localMember = (localType.members ?? [])[localAcc.idx];
  const members = tt.t.members ?? [];
  for (let i = 0; i < members.length; i++) {
    const m = members[i];
    if (spec.raw.length === SPEC_MAX_LEN) return { found: -2, next: 0 };
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (!m.name) {
      const r = matchMember(local, localAcc, targ, m.type, spec);
      if (r.found) return r;
    } else if (m.name === localMember.name) {
      spec.spec.push({ typeId: tt.id, idx: i, name: m.name });
      const found = fieldsAreCompat(local, localMember.type, targ, m.type);
      if (!found) spec.spec.pop();
      return { found, next: m.type };
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return { found: 0, next: 0 };
}

/**
 * Match a local spec against one target candidate (libbpf's `bpf_core_spec_match`).
 * Returns the target spec, `undefined` when the candidate does not match, or throws on malformed BTF.
 */
export function matchSpec(local: CoreSpec, targ: CoreBtf, targId: number): CoreSpec | undefined {
  const out: CoreSpec = { btf: targ, rootTypeId: targId, kind: local.kind, spec: [], raw: [], bitOffset: 0 };
  const bad = (why: string) =>
    new CoreError("ERR_EBPF_CORE_BTF", `malformed target BTF near [${targId}] while matching: ${why}`);
  if (isTypeBased(local.kind)) {
    const r =
      local.kind === CoreReloKind.TYPE_MATCHES
        ? typesMatch(local.btf, local.rootTypeId, targ, targId)
        : typesAreCompat(local.btf, local.rootTypeId, targ, targId);
    if (r < 0) throw bad("type graph too deep or broken");
    return r > 0 ? out : undefined;
  }

  if (isEnumvalBased(local.kind)) {
    const tt = skipModsAndTypedefs(targ, targId);
    if (!tt || !isAnyEnum(tt.t)) return undefined;
    const localName = local.spec[0].name ?? "";
    const len = essentialNameLength(localName);
    const values = tt.t.values ?? [];
    for (let i = 0; i < values.length; i++) {
      const n = values[i].name;
      if (essentialNameLength(n) !== len) continue;
      if (n.slice(0, len) === localName.slice(0, len)) {
        out.spec.push({ typeId: tt.id, idx: i, name: n });
        out.raw.push(i);
        return out;
      }
    }
    return undefined;
  }

  if (!isFieldBased(local.kind)) throw bad(`unknown relocation kind ${local.kind}`);

  for (let i = 0; i < local.spec.length; i++) {
    const localAcc = local.spec[i];
    const tt = skipModsAndTypedefs(targ, targId);
    if (!tt) throw bad(`type id ${targId} out of range`);
    targId = tt.id;
    if (localAcc.name !== undefined) {
      const r = matchMember(local.btf, localAcc, targ, targId, out);
      if (r.found === -2) throw bad(`access path longer than ${SPEC_MAX_LEN}`);
      if (r.found < 0) throw bad("broken member type");
      if (r.found === 0) return undefined;
      targId = r.next;
    } else {
      if (i > 0) {
        const t = tt.t;
        if (t.kind !== BtfKind.Array || !t.array) return undefined;
        const flex = isFlexArr(targ, out.spec[out.spec.length - 1], t.array.nelems);
        if (!flex && localAcc.idx >= t.array.nelems) return undefined;
        const elem = skipModsAndTypedefs(targ, t.array.type);
        if (!elem) throw bad(`array element type ${t.array.type} out of range`);
        targId = elem.id;
      }
      if (out.raw.length === SPEC_MAX_LEN) throw bad(`access path longer than ${SPEC_MAX_LEN}`);
      out.spec.push({ typeId: targId, idx: localAcc.idx });
      out.raw.push(localAcc.idx);
      const sz = resolveSize(targ, targId);
      if (sz < 0) throw bad(`cannot size type [${targId}]`);
      out.bitOffset += localAcc.idx * sz * 8;
    }
  }
  return out;
}

/**
 * A spec as a readable type path, like libbpf's `bpf_core_format_spec`:
 * `[12] struct task_struct.real_parent (0:57 @ offset 2440)`.
 */
export function formatSpec(spec: CoreSpec): string {
  const btf = spec.btf;
  const root = typeById(btf, spec.rootTypeId);
  let s = `[${spec.rootTypeId}] ${root ? kindName(root.kind) : "?"} ${root?.name || "(anon)"}`;
  if (isTypeBased(spec.kind)) return s;
  if (isEnumvalBased(spec.kind)) {
    const acc = spec.spec[0];
    const t = acc ? typeById(btf, acc.typeId) : undefined;
    const v = t?.values?.[acc?.idx ?? 0];
    return `${s}::${acc?.name ?? "?"} = ${v?.value ?? "?"}`;
  }
  for (let i = 0; i < spec.spec.length; i++) {
    const a = spec.spec[i];
    if (a.name !== undefined) s += `.${a.name}`;
    else if (i > 0) s += `[${a.idx}]`;
  }
  s += ` (${spec.raw.join(":")} @ offset ${Math.floor(spec.bitOffset / 8)}`;
  if (spec.bitOffset % 8) s += `.${spec.bitOffset % 8}`;
  return `${s})`;
}
