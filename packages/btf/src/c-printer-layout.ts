/**
 * Struct layout for the C printer: decides whether a struct must be printed `packed` and which unnamed
 * bitfields (`int : 32;`) pad it, by simulating how a C compiler (System V / Itanium rules, as clang uses
 * for BPF) lays out the members we print, and comparing with the offsets recorded in BTF.
 *
 * @packageDocumentation
 */
import type { Btf } from "./btf.js";
import { BtfKind } from "./kinds.js";
import type { BtfStruct, BtfUnion } from "./types.js";

/** What to print between and after members. */
export interface StructLayout {
  /** Print `__attribute__((packed))`. */
  packed: boolean;
  /** Padding to print before member `i` (index = member index), `undefined` when none. */
  before: (string[] | undefined)[];
  /** Padding to print after the last member. */
  after: string[];
  /** Extra attribute text (e.g. `aligned(16)`) needed to reach the recorded size of a union. */
  aligned: number;
  /** True when no C layout reproduces the BTF offsets (the printer adds a comment). */
  inexact: boolean;
}

/** Typedefs that are compiler builtins: printed by name, never defined. */
export const BUILTIN_TYPEDEFS: ReadonlySet<string> = new Set(["__builtin_va_list"]);

/** Longest run of `long: 64;` lines (8 KiB); vmlinux needs up to 512 for page-aligned members. */
const MAX_PAD_UNITS = 1024;

const PAD_TYPES: readonly [string, number][] = [
  ["long", 64],
  ["int", 32],
  ["short", 16],
  ["char", 8],
];

/**
 * Unnamed bitfields that move the layout cursor from bit `from` to bit `to`, each placed exactly where
 * the cursor is (none straddles its type's storage unit, so the compiler never moves them) and none
 * changing the struct's alignment (unnamed bitfields don't).
 */
export function padBits(from: number, to: number): string[] {
  const out: string[] = [];
  let cur = from;
  while (cur < to) {
    const left = to - cur;
    if (cur % 8 !== 0) {
      const n = Math.min(8 - (cur % 8), left);
      out.push(`char: ${n};`);
      cur += n;
      continue;
    }
    if (cur % 64 === 0 && left >= MAX_PAD_UNITS * 64) {
      // A gap beyond any real alignment (corrupt BTF, or huge explicit padding): one named byte array
      // instead of millions of lines. Byte arrays change neither alignment nor packing.
      const bytes = Math.floor(left / 64) * 8;
      out.push(`char __pad_${cur / 8}[${bytes}];`);
      cur += bytes * 8;
      continue;
    }
    let done = false;
    for (const [name, bits] of PAD_TYPES) {
      if (cur % bits === 0 && left >= bits) {
        // Collapse runs of whole units into one line per unit; keep lines readable.
        out.push(`${name}: ${bits};`);
        cur += bits;
        done = true;
        break;
      }
    }
    if (!done) {
      // Fewer than 8 bits left on a byte boundary.
      out.push(`char: ${left};`);
      cur += left;
    }
  }
  return out;
}

/** Computes C alignment of printed types, memoised: packed structs count as 1, enums as their size. */
export class CAlignment {
  readonly #btf: Btf;
  readonly #align = new Map<number, number>();
  readonly #layout = new Map<number, StructLayout>();

  constructor(btf: Btf) {
    this.#btf = btf;
  }

  /**
   * Size in bytes of type `id` as the printed C declares it: as in BTF, except that a compiler builtin
   * (`__builtin_va_list`, printed by name, not redefined) has the BPF target's size, a pointer.
   */
  sizeOf(id: number): number {
    const btf = this.#btf;
    let cur = id;
    for (let depth = 0; depth < 64; depth++) {
      const kind = btf.kind(cur);
      if (kind === BtfKind.Typedef && BUILTIN_TYPEDEFS.has(btf.name(cur))) return btf.pointerSize;
      if (
        kind !== BtfKind.Typedef &&
        kind !== BtfKind.Const &&
        kind !== BtfKind.Volatile &&
        kind !== BtfKind.TypeTag
      )
        break;
      cur = (btf.typeById(cur) as { type: number }).type;
    }
    try {
      return btf.sizeOf(cur);
    } catch {
      return 0;
    }
  }

  /** Alignment in bytes of type `id` as the printed C declares it. */
  alignOf(id: number, depth = 0): number {
    const btf = this.#btf;
    if (depth > 256) return 1;
    switch (btf.kind(id)) {
      case BtfKind.Int:
      case BtfKind.Float:
      case BtfKind.Enum:
      case BtfKind.Enum64: {
        // Integers and floats are aligned to their size on the BPF target (including __int128 at 16).
        const size = btf.sizeOf(id);
        return size > 0 ? size : 1;
      }
      case BtfKind.Ptr:
        return btf.pointerSize;
      case BtfKind.Typedef:
        if (BUILTIN_TYPEDEFS.has(btf.name(id))) return btf.pointerSize;
        return this.alignOf((btf.typeById(id) as { type: number }).type, depth + 1);
      case BtfKind.Array:
      case BtfKind.Const:
      case BtfKind.Volatile:
      case BtfKind.Restrict:
      case BtfKind.TypeTag: {
        const t = btf.typeById(id) as { type?: number; elemType?: number };
        return this.alignOf(t.elemType ?? t.type ?? 0, depth + 1);
      }
      case BtfKind.Struct:
      case BtfKind.Union: {
        const cached = this.#align.get(id);
        if (cached !== undefined) return cached;
        // Break reference cycles (impossible in valid C) with a provisional value.
        this.#align.set(id, 1);
        const layout = this.layout(id, depth + 1);
        const t = btf.typeById(id) as BtfStruct | BtfUnion;
        let align = 1;
        if (!layout.packed)
          for (const m of t.members) align = Math.max(align, this.alignOf(m.type, depth + 1));
        align = Math.max(align, layout.aligned);
        this.#align.set(id, align);
        return align;
      }
      default:
        return 1;
    }
  }

  /** The padding and attributes needed to print struct or union `id` with its recorded layout. */
  layout(id: number, depth = 0): StructLayout {
    const cached = this.#layout.get(id);
    if (cached) return cached;
    const t = this.#btf.typeById(id) as BtfStruct | BtfUnion;
    let layout: StructLayout;
    if (t.kind === BtfKind.Union) layout = this.#unionLayout(t, depth);
    else
      layout = this.#structLayout(t, false, depth) ?? this.#structLayout(t, true, depth) ?? this.#fallback(t);
    this.#layout.set(id, layout);
    return layout;
  }

  #bitfieldSize(t: BtfStruct | BtfUnion, i: number): number {
    const m = t.members[i];
    if (m.bitfieldSize) return m.bitfieldSize;
    if (t.kindFlag) return 0;
    // Legacy encoding: an INT member narrower than its storage is a bitfield.
    const r = this.#btf.resolve(m.type);
    if (r.kind === BtfKind.Int && r.bits !== r.size * 8) return r.bits;
    return 0;
  }

  #memberBitOffset(t: BtfStruct | BtfUnion, i: number): number {
    const m = t.members[i];
    if (t.kindFlag) return m.bitOffset;
    const r = this.#btf.resolve(m.type);
    return r.kind === BtfKind.Int && r.bits !== r.size * 8 ? m.bitOffset + r.offset : m.bitOffset;
  }

  /** Simulates printing `t` (packed or not); `undefined` when that cannot reproduce the offsets. */
  #structLayout(t: BtfStruct, packed: boolean, depth: number): StructLayout | undefined {
    const before: (string[] | undefined)[] = new Array(t.members.length);
    let cur = 0;
    let align = 1;
    for (let i = 0; i < t.members.length; i++) {
      const m = t.members[i];
      const off = this.#memberBitOffset(t, i);
      const bits = this.#bitfieldSize(t, i);
      const mAlign = packed ? 1 : this.alignOf(m.type, depth + 1);
      align = Math.max(align, mAlign);
      const size = this.sizeOf(m.type);
      const place = (at: number): number => {
        if (bits === 0) return roundUp(at, mAlign * 8);
        if (packed) return at;
        return (at % (mAlign * 8)) + bits > size * 8 ? roundUp(at, mAlign * 8) : at;
      };
      if (place(cur) > off) return undefined;
      if (place(cur) < off) {
        before[i] = padBits(cur, off);
        if (place(off) !== off) return undefined;
      }
      cur = off + (bits || size * 8);
    }
    const end = t.size * 8;
    if (!packed && end % (align * 8) !== 0) return undefined;
    if (cur > end) return undefined;
    const natural = roundUp(cur, align * 8);
    const after = natural === end ? [] : padBits(cur, end);
    return { packed, before, after, aligned: 0, inexact: false };
  }

  #unionLayout(t: BtfUnion, depth: number): StructLayout {
    let align = 1;
    let size = 0;
    let inexact = false;
    for (let i = 0; i < t.members.length; i++) {
      const m = t.members[i];
      if (this.#memberBitOffset(t, i) !== 0) inexact = true;
      align = Math.max(align, this.alignOf(m.type, depth + 1));
      const bits = this.#bitfieldSize(t, i);
      const bytes = bits ? Math.ceil(bits / 8) : this.sizeOf(m.type);
      size = Math.max(size, bytes);
    }
    const packed = t.size % align !== 0;
    const natural = packed ? size : roundUp(size, align);
    let aligned = 0;
    let after: string[] = [];
    if (natural < t.size && t.size <= 8 && t.size % (packed ? 1 : align) === 0) {
      // An unnamed bitfield counts towards a union's size (not its alignment).
      after = [`long: ${t.size * 8};`];
    } else if (natural < t.size) {
      // A union has no place for padding members; raise its alignment to a power of two that rounds the
      // size up to the recorded one, if there is one.
      for (let a = 2; a <= t.size && a <= 4096; a *= 2) {
        if (t.size % a === 0 && roundUp(size, a) === t.size) {
          aligned = a;
          break;
        }
      }
      if (!aligned) inexact = true;
    }
    return { packed, before: new Array(t.members.length), after, aligned, inexact };
  }

  #fallback(t: BtfStruct): StructLayout {
    return { packed: true, before: new Array(t.members.length), after: [], aligned: 0, inexact: true };
  }
}

function roundUp(n: number, to: number): number {
  return to <= 1 ? n : Math.ceil(n / to) * to;
}
