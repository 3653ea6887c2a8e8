/**
 * libbpf's type compatibility rules: `bpf_core_fields_are_compat` (for members along a field access),
 * `bpf_core_types_are_compat` (type-based relocations) and `bpf_core_types_match` (TYPE_MATCHES).
 * Each returns 1 (compatible), 0 (not) or a negative number (malformed/too deep).
 */
import {
  BTF_INT_SIGNED,
  BtfKind,
  type CoreBtf,
  type CoreType,
  essentialNameLength,
  isAnyEnum,
  isComposite,
  kindCoreCompat,
  skipModsAndTypedefs,
  typeById,
} from "./types.js";

function essentialNamesEqual(a: string, b: string): boolean {
  const la = essentialNameLength(a);
  return la === essentialNameLength(b) && a.slice(0, la) === b.slice(0, la);
}

/** Are the types of a local member and its same-named target member compatible? */
export function fieldsAreCompat(local: CoreBtf, localId: number, targ: CoreBtf, targId: number): number {
  for (let depth = 0; depth < 64; depth++) {
    const l = skipModsAndTypedefs(local, localId);
    const t = skipModsAndTypedefs(targ, targId);
    if (!l || !t) return -1;
    if (isComposite(l.t) && isComposite(t.t)) return 1;
    if (!kindCoreCompat(l.t, t.t)) return 0;
    switch (l.t.kind) {
      case BtfKind.Ptr:
      case BtfKind.Float:
        return 1;
      case BtfKind.Fwd:
      case BtfKind.Enum:
      case BtfKind.Enum64: {
        const ll = essentialNameLength(l.t.name);
        const tl = essentialNameLength(t.t.name);
        return ll === 0 || tl === 0 || essentialNamesEqual(l.t.name, t.t.name) ? 1 : 0;
      }
      case BtfKind.Int:
        return (l.t.intOffset ?? 0) === 0 && (t.t.intOffset ?? 0) === 0 ? 1 : 0;
      case BtfKind.Array:
        localId = l.t.array?.type ?? 0;
        targId = t.t.array?.type ?? 0;
        continue;
      default:
        return 0;
    }
  }
  return -1;
}

/** libbpf's `__bpf_core_types_are_compat`, used by type-based relocations other than TYPE_MATCHES. */
export function typesAreCompat(
  local: CoreBtf,
  localId: number,
  targ: CoreBtf,
  targId: number,
  level = 32,
): number {
  const lr = typeById(local, localId);
  const tr = typeById(targ, targId);
  if (!lr || !tr) return -1;
  if (!kindCoreCompat(lr, tr)) return 0;
  for (let depth = 32; depth > 0; depth--) {
    const l = skipModsAndTypedefs(local, localId);
    const t = skipModsAndTypedefs(targ, targId);
    if (!l || !t) return -1;
    if (!kindCoreCompat(l.t, t.t)) return 0;
    switch (l.t.kind) {
      case BtfKind.Void:
      case BtfKind.Struct:
      case BtfKind.Union:
      case BtfKind.Enum:
      case BtfKind.Fwd:
      case BtfKind.Enum64:
        return 1;
      case BtfKind.Int:
        return (l.t.intOffset ?? 0) === 0 && (t.t.intOffset ?? 0) === 0 ? 1 : 0;
      case BtfKind.Ptr:
        localId = l.t.type;
        targId = t.t.type;
        continue;
      case BtfKind.Array:
        localId = l.t.array?.type ?? 0;
        targId = t.t.array?.type ?? 0;
        continue;
      case BtfKind.FuncProto: {
        const lp = l.t.params ?? [];
        const tp = t.t.params ?? [];
        if (lp.length !== tp.length) return 0;
        for (let i = 0; i < lp.length; i++) {
          if (level <= 0) return -1;
          const a = skipModsAndTypedefs(local, lp[i].type);
          const b = skipModsAndTypedefs(targ, tp[i].type);
          if (!a || !b) return -1;
          const r = typesAreCompat(local, a.id, targ, b.id, level - 1);
          if (r <= 0) return r;
        }
        localId = skipModsAndTypedefs(local, l.t.type)?.id ?? -1;
        targId = skipModsAndTypedefs(targ, t.t.type)?.id ?? -1;
        continue;
      }
      default:
        return 0;
    }
  }
  return -1;
}

function namesMatch(a: string, b: string): boolean {
  if (!a || !b) return true;
  return essentialNamesEqual(a, b);
}

function enumsMatch(l: CoreType, t: CoreType): number {
  const lv = l.values ?? [];
  const tv = t.values ?? [];
  if (l.size !== t.size) return 0;
  if (lv.length > tv.length) return 0;
  for (const v of lv) if (!tv.some((w) => namesMatch(v.name, w.name))) return 0;
  return 1;
}

function compositesMatch(
  local: CoreBtf,
  l: CoreType,
  targ: CoreBtf,
  t: CoreType,
  behindPtr: boolean,
  level: number,
): number {
  const lm = l.members ?? [];
  const tm = t.members ?? [];
  if (lm.length > tm.length) return 0;
  for (const m of lm) {
    let matched = false;
    for (const n of tm) {
      if (!namesMatch(m.name, n.name)) continue;
      const r = typesMatchAt(local, m.type, targ, n.type, behindPtr, level - 1);
      if (r < 0) return r;
      if (r > 0) {
        matched = true;
        break;
      }
    }
    if (!matched) return 0;
  }
  return 1;
}

function typesMatchAt(
  local: CoreBtf,
  localId: number,
  targ: CoreBtf,
  targId: number,
  behindPtr: boolean,
  level: number,
): number {
  if (level <= 0) return -1;
  for (let depth = 32; depth > 0; depth--) {
    const lr = skipModsAndTypedefs(local, localId);
    const tr = skipModsAndTypedefs(targ, targId);
    if (!lr || !tr) return -1;
    const l = lr.t;
    const t = tr.t;
    if (!namesMatch(l.name, t.name)) return 0;
    const lk = l.kind;
    const tk = t.kind;
    switch (lk) {
      case BtfKind.Void:
        return lk === tk ? 1 : 0;
      case BtfKind.Fwd:
        if (behindPtr) {
          if (lk === tk) return l.kindFlag === t.kindFlag ? 1 : 0;
          return (tk === BtfKind.Struct && !l.kindFlag) || (tk === BtfKind.Union && l.kindFlag) ? 1 : 0;
        }
        return lk === tk && l.kindFlag === t.kindFlag ? 1 : 0;
      case BtfKind.Enum:
      case BtfKind.Enum64:
        return isAnyEnum(t) ? enumsMatch(l, t) : 0;
      case BtfKind.Struct:
      case BtfKind.Union:
        if (behindPtr) {
          if (lk === tk) return 1;
          if (tk !== BtfKind.Fwd) return 0;
          return (lk === BtfKind.Union) === t.kindFlag ? 1 : 0;
        }
        if (lk !== tk) return 0;
        return compositesMatch(local, l, targ, t, behindPtr, level);
      case BtfKind.Int:
        if (lk !== tk) return 0;
        return l.size === t.size &&
          ((l.intEncoding ?? 0) & BTF_INT_SIGNED) === ((t.intEncoding ?? 0) & BTF_INT_SIGNED)
          ? 1
          : 0;
      case BtfKind.Ptr:
        if (lk !== tk) return 0;
        behindPtr = true;
        localId = l.type;
        targId = t.type;
        continue;
      case BtfKind.Array:
        if (lk !== tk || !l.array || !t.array) return 0;
        if (l.array.nelems !== t.array.nelems) return 0;
        localId = l.array.type;
        targId = t.array.type;
        continue;
      case BtfKind.FuncProto: {
        if (lk !== tk) return 0;
        const lp = l.params ?? [];
        const tp = t.params ?? [];
        if (lp.length !== tp.length) return 0;
        for (let i = 0; i < lp.length; i++) {
          const r = typesMatchAt(local, lp[i].type, targ, tp[i].type, behindPtr, level - 1);
          if (r <= 0) return r;
        }
        localId = l.type;
        targId = t.type;
        continue;
      }
      default:
        return 0;
    }
  }
  return -1;
}

/** libbpf's `bpf_core_types_match` (TYPE_MATCHES relocations). */
export function typesMatch(local: CoreBtf, localId: number, targ: CoreBtf, targId: number): number {
  return typesMatchAt(local, localId, targ, targId, false, 32);
}
