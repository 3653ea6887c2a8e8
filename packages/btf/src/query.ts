// Queries built on the Btf primitives: member layout (with both bitfield encodings), enum values, and C-like
// pretty names. Exposed as Btf methods.
import type { Btf } from "./btf.js";
import { BtfError, btfParseError } from "./errors.js";
import { BtfKind } from "./kinds.js";
import type { BtfStruct, BtfUnion } from "./types.js";

/** Where a member lives inside its (outermost) aggregate. */
export interface MemberLayout {
  /** The member's name (the last path component). */
  readonly name: string;
  /** The member's type id. */
  readonly type: number;
  /** Offset from the start of the outermost aggregate, in bits. */
  readonly bitOffset: number;
  /**
   * Bitfield width in bits, 0 for a plain member. Normalised across both encodings: the `kind_flag` one and
   * the legacy one where the member's INT type carries `bits` (and `offset`).
   */
  readonly bitfieldSize: number;
  /** `Math.floor(bitOffset / 8)`. */
  readonly byteOffset: number;
}

const MAX_DEPTH = 64;
/** Steps a single query may take: bounds the work on hostile input where types fan out as a DAG. */
const MAX_STEPS = 100_000;

interface Budget {
  steps: number;
}

function spend(budget: Budget, id: number): void {
  if (++budget.steps > MAX_STEPS)
    throw new BtfError(
      "ERR_EBPF_BTF_INVALID",
      `type [${id}] is too complex to walk (over ${MAX_STEPS} steps)`,
    );
}

function composite(btf: Btf, id: number): BtfStruct | BtfUnion {
  const t = btf.resolve(id);
  if (t.kind !== BtfKind.Struct && t.kind !== BtfKind.Union)
    throw new BtfError("ERR_EBPF_BTF_WRONG_KIND", `type [${id}] is not a struct or union`);
  return t;
}

function normalise(btf: Btf, agg: BtfStruct | BtfUnion, index: number, base: number): MemberLayout {
  const m = agg.members[index];
  let bitOffset = base + m.bitOffset;
  let bitfieldSize = m.bitfieldSize;
  if (!agg.kindFlag) {
    // Legacy encoding: a bitfield is an INT member type narrower than its storage, or with a bit offset.
    const r = btf.resolve(m.type);
    if (r.kind === BtfKind.Int && (r.offset !== 0 || r.bits !== r.size * 8)) {
      bitOffset += r.offset;
      bitfieldSize = r.bits;
    }
  }
  return { name: m.name, type: m.type, bitOffset, bitfieldSize, byteOffset: Math.floor(bitOffset / 8) };
}

/** The direct members of a struct or union (through typedefs), with normalised bitfield information. */
export function membersOf(btf: Btf, id: number): MemberLayout[] {
  const agg = composite(btf, id);
  return agg.members.map((_, i) => normalise(btf, agg, i, 0));
}

/**
 * Finds a member by dotted path (`"a.b.c"`); members of anonymous structs/unions are found as if they were
 * direct members, as in C. Returns `undefined` when there is no such member.
 */
export function findMember(btf: Btf, id: number, path: string): MemberLayout | undefined {
  let cur = id;
  let base = 0;
  let found: MemberLayout | undefined;
  const budget = { steps: 0 };
  for (const part of path.split(".")) {
    found = lookup(btf, cur, part, base, 0, budget);
    if (!found) return undefined;
    cur = found.type;
    base = found.bitOffset;
  }
  return found;
}

function lookup(
  btf: Btf,
  id: number,
  name: string,
  base: number,
  depth: number,
  budget: Budget,
): MemberLayout | undefined {
  spend(budget, id);
  if (depth > MAX_DEPTH)
    throw btfParseError(0, "a finite nesting of anonymous members", `type [${id}] nests too deep`);
  const agg = composite(btf, id);
  for (let i = 0; i < agg.members.length; i++) {
    const m = agg.members[i];
    if (m.name === name) return normalise(btf, agg, i, base);
    if (m.name === "") {
      const r = btf.resolve(m.type);
      if (r.kind === BtfKind.Struct || r.kind === BtfKind.Union) {
        const hit = lookup(btf, m.type, name, base + m.bitOffset, depth + 1, budget);
        if (hit) return hit;
      }
    }
  }
  return undefined;
}

/** The value of enumerator `name` in enum `id` (number for ENUM, bigint for ENUM64), or `undefined`. */
export function enumValueOf(btf: Btf, id: number, name: string): number | bigint | undefined {
  const t = btf.resolve(id);
  if (t.kind !== BtfKind.Enum && t.kind !== BtfKind.Enum64)
    throw new BtfError("ERR_EBPF_BTF_WRONG_KIND", `type [${id}] is not an enum`);
  for (const v of t.values) if (v.name === name) return v.value;
  return undefined;
}

function join(base: string, inner: string): string {
  if (inner === "") return base;
  if (inner.startsWith("[")) return base + inner;
  return `${base} ${inner}`;
}

/**
 * A C-like spelling of a type: `"struct task_struct *"`, `"const char *"`, `"int[4]"`,
 * `"int (*)(void *, int)"`. With `declName`, the declarator is spelled around it (`"int (*cb)(int)"`).
 */
export function typeNameOf(btf: Btf, id: number, declName = ""): string {
  return decl(btf, id, declName, 0, { steps: 0 });
}

function decl(btf: Btf, id: number, inner: string, depth: number, budget: Budget): string {
  spend(budget, id);
  if (depth > MAX_DEPTH) throw btfParseError(0, "a finite type chain", `type [${id}] nests too deep`);
  const t = btf.typeById(id);
  const anon = (s: string) => s || "(anon)";
  switch (t.kind) {
    case BtfKind.Void:
      return join("void", inner);
    case BtfKind.Int:
    case BtfKind.Float:
    case BtfKind.Typedef:
    case BtfKind.Datasec:
      return join(anon(t.name), inner);
    case BtfKind.Struct:
      return join(`struct ${anon(t.name)}`, inner);
    case BtfKind.Union:
      return join(`union ${anon(t.name)}`, inner);
    case BtfKind.Enum:
    case BtfKind.Enum64:
      return join(`enum ${anon(t.name)}`, inner);
    case BtfKind.Fwd:
      return join(`${t.union ? "union" : "struct"} ${t.name}`, inner);
    case BtfKind.Ptr: {
      const k = btf.kind(t.type);
      const wrap = k === BtfKind.Array || k === BtfKind.FuncProto;
      return decl(btf, t.type, wrap ? `(*${inner})` : `*${inner}`, depth + 1, budget);
    }
    case BtfKind.Const:
    case BtfKind.Volatile:
    case BtfKind.Restrict: {
      const q = t.kind === BtfKind.Const ? "const" : t.kind === BtfKind.Volatile ? "volatile" : "restrict";
      if (btf.kind(t.type) === BtfKind.Ptr)
        return decl(btf, t.type, inner ? `${q} ${inner}` : q, depth + 1, budget);
      return `${q} ${decl(btf, t.type, inner, depth + 1, budget)}`;
    }
    case BtfKind.TypeTag: {
      const attr = `__attribute__((btf_type_tag("${t.name}")))`;
      return decl(btf, t.type, inner ? `${attr} ${inner}` : attr, depth + 1, budget);
    }
    case BtfKind.Array:
      return decl(btf, t.elemType, `${inner}[${t.nelems}]`, depth + 1, budget);
    case BtfKind.FuncProto: {
      const params = t.params.map((p, i) =>
        p.type === 0 && i === t.params.length - 1 ? "..." : decl(btf, p.type, p.name, depth + 1, budget),
      );
      return decl(
        btf,
        t.returnType,
        `${inner}(${params.length ? params.join(", ") : "void"})`,
        depth + 1,
        budget,
      );
    }
    case BtfKind.Func:
      return decl(btf, t.type, inner || t.name, depth + 1, budget);
    case BtfKind.Var:
      return decl(btf, t.type, inner || t.name, depth + 1, budget);
    case BtfKind.DeclTag:
      return `__attribute__((btf_decl_tag("${t.name}"))) ${decl(btf, t.type, inner, depth + 1, budget)}`;
  }
}
