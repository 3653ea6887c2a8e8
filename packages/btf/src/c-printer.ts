/**
 * Prints BTF as a C header, like `bpftool btf dump file ... format c`: every named struct, union, enum and
 * typedef (and anonymous top-level enums, whose constants programs use), in an order a C compiler
 * accepts, with forward declarations where types refer to each other through pointers, padding and
 * `packed` where the recorded layout needs them, and the `preserve_access_index` wrapper that makes
 * CO-RE programs relocatable.
 *
 * @packageDocumentation
 */
import { EbpfError } from "@ebpf/errors";
import type { Btf } from "./btf.js";
import { BUILTIN_TYPEDEFS, CAlignment, type StructLayout } from "./c-printer-layout.js";
import { BtfKind } from "./kinds.js";
import type { BtfEnum, BtfEnum64, BtfStruct, BtfType, BtfUnion } from "./types.js";

/**
 * BTF that cannot be printed as C: a type that contains itself by value, a cycle through anonymous types,
 * a type id that does not exist.
 *
 * @example
 * ```ts
 * try { formatC(btf); } catch (e) { if (e instanceof CPrinterError) console.error(e.typeId, e.message); }
 * ```
 */
export class CPrinterError extends EbpfError {
  /** The type that could not be printed. */
  readonly typeId: number;

  constructor(typeId: number, message: string, options?: { cause?: unknown }) {
    super("ERR_EBPF_BTF_C_PRINT", `type [${typeId}]: ${message}`, options);
    this.typeId = typeId;
  }
}

/** Options of {@link formatC}. */
export interface FormatCOptions {
  /**
   * Wrap the types in `#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to =
   * record)` (unless the program defines `BPF_NO_PRESERVE_ACCESS_INDEX`), so that every field access is
   * a CO-RE relocation. Default `true`.
   */
  preserveAccessIndex?: boolean;
  /** Include guard macro; `null` for none. Default `"__VMLINUX_H__"`. */
  guard?: string | null;
  /** Print `btf_type_tag` attributes (`__user`, `__rcu`, ...) as clang does. Default `true`. */
  typeTags?: boolean;
  /**
   * Print only these types (ids) and what they need, instead of every named type. Default: all.
   */
  roots?: readonly number[];
  /**
   * Also declare the kernel's kfuncs (FUNCs tagged `bpf_kfunc`) as `extern ... __weak __ksym;`, inside
   * `#ifndef BPF_NO_KFUNC_PROTOTYPES`, as newer bpftool does. Default `false`: programs that declare
   * the kfuncs they call themselves (as for bpftool 7.1's headers) need no change.
   */
  kfuncs?: boolean;
}

const enum State {
  None = 0,
  /** `struct x;` printed. */
  Declared = 1,
  /** Fully printed. */
  Done = 2,
  /** Being printed: meeting it again is a cycle. */
  Busy = 3,
}

/**
 * Prints `btf` as a C header that clang compiles, e.g. a `vmlinux.h` for CO-RE programs.
 *
 * @throws {@link CPrinterError} when a type cannot be expressed in C (a struct containing itself by value).
 * @example
 * ```ts
 * import { readKernelBtf } from "@ebpf/btf/node";
 * writeFileSync("vmlinux.h", formatC(readKernelBtf()));
 * ```
 */
export function formatC(btf: Btf, options: FormatCOptions = {}): string {
  try {
    return new CPrinter(btf, options).print();
  } catch (e) {
    if (e instanceof EbpfError) throw e;
    // Only a pathological nesting depth gets here (stack overflow): report it as this module's error.
    throw new CPrinterError(0, `cannot print: ${(e as Error).message}`, { cause: e });
  }
}

class CPrinter {
  readonly #btf: Btf;
  readonly #opts: Required<Omit<FormatCOptions, "roots" | "guard">> & { guard: string | null };
  readonly #kfuncLines: string[] = [];
  readonly #roots: readonly number[] | undefined;
  readonly #state: Uint8Array;
  readonly #forwarded: Uint8Array;
  readonly #names: (string | undefined)[];
  readonly #tagNames = new Map<string, number>();
  readonly #identNames = new Map<string, number>();
  readonly #align: CAlignment;
  readonly #out: string[] = [];
  /** Structs and unions printed, named or inline. */
  #records = 0;
  #referenced: Uint8Array | undefined;

  constructor(btf: Btf, options: FormatCOptions) {
    this.#btf = btf;
    this.#opts = {
      preserveAccessIndex: options.preserveAccessIndex ?? true,
      guard: options.guard === undefined ? "__VMLINUX_H__" : options.guard,
      typeTags: options.typeTags ?? true,
      kfuncs: options.kfuncs ?? false,
    };
    this.#roots = options.roots;
    this.#state = new Uint8Array(btf.count);
    this.#forwarded = new Uint8Array(btf.count);
    this.#names = new Array(btf.count);
    this.#align = new CAlignment(btf);
  }

  print(): string {
    const { guard } = this.#opts;
    const out = this.#out;
    if (this.#roots) {
      for (const id of this.#roots) {
        if (!this.#btf.has(id)) throw new CPrinterError(id, "no such type");
        this.#top(id, true);
      }
    } else {
      for (let id = 1; id < this.#btf.count; id++) this.#top(id, false);
    }
    if (this.#opts.kfuncs) this.#kfuncs();
    // clang rejects (-Wpragma-clang-attribute) a preserve_access_index region that holds no record.
    const pai = this.#opts.preserveAccessIndex && this.#records > 0;
    const head: string[] = [];
    if (guard) head.push(`#ifndef ${guard}\n#define ${guard}\n\n`);
    if (pai) {
      head.push(
        "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
          "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n" +
          "#endif\n\n",
      );
    }
    out.unshift(...head);
    if (pai) out.push("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n");
    if (this.#kfuncLines.length) out.push(KFUNC_PROLOGUE, ...this.#kfuncLines, "\n#endif\n\n");
    if (guard) out.push(`#endif /* ${guard} */\n`);
    return out.join("");
  }

  /** Collects `extern` declarations of the FUNCs tagged `bpf_kfunc` (after their types are printed). */
  #kfuncs(): void {
    const btf = this.#btf;
    const tags = new Map<number, Set<string>>();
    for (let id = 1; id < btf.count; id++) {
      if (btf.kind(id) !== BtfKind.DeclTag) continue;
      const t = btf.typeById(id) as { type: number; componentIdx: number; name: string };
      if (t.componentIdx !== -1 || btf.kind(t.type) !== BtfKind.Func) continue;
      let set = tags.get(t.type);
      if (!set) {
        set = new Set();
        tags.set(t.type, set);
      }
      set.add(t.name);
    }
    const seen = new Set<string>();
    for (const [id, set] of tags) {
      if (!set.has("bpf_kfunc")) continue;
      const fn = btf.typeById(id) as { name: string; type: number };
      if (seen.has(fn.name) || btf.kind(fn.type) !== BtfKind.FuncProto) continue;
      seen.add(fn.name);
      this.#need(fn.type, false);
      const fastcall = set.has("bpf_fastcall") ? " __bpf_fastcall" : "";
      this.#kfuncLines.push(`extern ${this.#decl(fn.type, fn.name, 0)}${fastcall} __weak __ksym;\n`);
    }
  }

  /** Prints type `id` as a top-level declaration if it is one. */
  #top(id: number, explicit: boolean): void {
    const btf = this.#btf;
    switch (btf.kind(id)) {
      case BtfKind.Struct:
      case BtfKind.Union:
        if (btf.name(id) !== "") this.#define(id);
        else if (explicit) this.#need(id, true);
        break;
      case BtfKind.Enum:
      case BtfKind.Enum64:
        if (btf.name(id) !== "") this.#enum(id);
        else if (explicit || !this.#isReferenced(id)) this.#anonEnum(id);
        break;
      case BtfKind.Typedef:
        this.#typedef(id);
        break;
      case BtfKind.Fwd:
        this.#declare(id);
        break;
      default:
        if (explicit) this.#need(id, true);
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Ordering: make sure what a reference needs is printed before it.

  /** Prints what a reference to `id` needs: a complete type when `strong` (by value), else a declaration. */
  #need(id: number, strong: boolean): void {
    const btf = this.#btf;
    for (let depth = 0; depth < 1024; depth++) {
      switch (btf.kind(id)) {
        case BtfKind.Ptr:
          id = (btf.typeById(id) as { type: number }).type;
          strong = false;
          continue;
        case BtfKind.Array:
          id = (btf.typeById(id) as { elemType: number }).elemType;
          strong = true;
          continue;
        case BtfKind.Const:
        case BtfKind.Volatile:
        case BtfKind.Restrict:
        case BtfKind.TypeTag:
          id = (btf.typeById(id) as { type: number }).type;
          continue;
        case BtfKind.Typedef:
          this.#typedef(id);
          if (!strong) return;
          id = (btf.typeById(id) as { type: number }).type;
          continue;
        case BtfKind.Struct:
        case BtfKind.Union:
          if (btf.name(id) === "") this.#anonComposite(id);
          else if (strong) this.#define(id);
          else this.#declare(id);
          return;
        case BtfKind.Enum:
        case BtfKind.Enum64:
          if (btf.name(id) !== "") this.#enum(id);
          return;
        case BtfKind.Fwd:
          this.#declare(id);
          return;
        case BtfKind.FuncProto: {
          const t = btf.typeById(id) as { returnType: number; params: readonly { type: number }[] };
          this.#need(t.returnType, false);
          for (const p of t.params) this.#need(p.type, false);
          return;
        }
        default:
          // void, int, float need nothing; func, var, datasec and decl tags are not C types.
          return;
      }
    }
    throw new CPrinterError(id, "reference chain too long (a loop?)");
  }

  /** An anonymous struct/union is printed inline: its members must be complete first. */
  #anonComposite(id: number): void {
    const s = this.#state[id];
    if (s === State.Done) return;
    if (s === State.Busy) throw new CPrinterError(id, "anonymous struct/union refers to itself");
    this.#state[id] = State.Busy;
    const t = this.#btf.typeById(id) as BtfStruct | BtfUnion;
    for (const m of t.members) this.#need(m.type, true);
    this.#state[id] = State.Done;
  }

  #define(id: number): void {
    const s = this.#state[id];
    if (s === State.Done) return;
    if (s === State.Busy) throw new CPrinterError(id, `${this.#tagRef(id)} contains itself by value`);
    this.#state[id] = State.Busy;
    const t = this.#btf.typeById(id) as BtfStruct | BtfUnion;
    for (const m of t.members) this.#need(m.type, true);
    this.#state[id] = State.Done;
    this.#out.push(`${this.#compositeBody(t, 0)};\n\n`);
  }

  #declare(id: number): void {
    // A struct being defined (Busy) still needs its forward declaration when a function prototype among
    // its dependencies names it: a tag first seen in a parameter list is local to that prototype.
    if (this.#state[id] === State.Done || this.#forwarded[id]) return;
    this.#forwarded[id] = 1;
    if (this.#state[id] === State.None) this.#state[id] = State.Declared;
    this.#out.push(`${this.#tagRef(id)};\n\n`);
  }

  #enum(id: number): void {
    if (this.#state[id] === State.Done) return;
    this.#state[id] = State.Done;
    this.#out.push(`${this.#enumBody(this.#btf.typeById(id) as BtfEnum | BtfEnum64, 0)};\n\n`);
  }

  #anonEnum(id: number): void {
    if (this.#state[id] === State.Done) return;
    this.#state[id] = State.Done;
    this.#out.push(`${this.#enumBody(this.#btf.typeById(id) as BtfEnum | BtfEnum64, 0)};\n\n`);
  }

  #typedef(id: number): void {
    const s = this.#state[id];
    if (s === State.Done) return;
    if (s === State.Busy) throw new CPrinterError(id, `typedef '${this.#btf.name(id)}' refers to itself`);
    const t = this.#btf.typeById(id) as { type: number; name: string };
    if (BUILTIN_TYPEDEFS.has(t.name)) {
      this.#state[id] = State.Done;
      return;
    }
    this.#state[id] = State.Busy;
    this.#need(t.type, false);
    this.#state[id] = State.Done;
    this.#out.push(`typedef ${this.#decl(t.type, this.#identName(id), 0)};\n\n`);
  }

  #isReferenced(id: number): boolean {
    if (!this.#referenced) this.#referenced = markReferenced(this.#btf);
    return this.#referenced[id] === 1;
  }

  // ------------------------------------------------------------------------------------------------------
  // Names: duplicates get a `___N` suffix, as bpftool does, so that the header still compiles.

  #tagName(id: number): string {
    const cached = this.#names[id];
    if (cached !== undefined) return cached;
    const name = this.#btf.name(id);
    let resolved = name;
    if (name !== "" && this.#btf.kind(id) !== BtfKind.Fwd) resolved = dedup(this.#tagNames, name);
    this.#names[id] = resolved;
    return resolved;
  }

  #identName(id: number): string {
    const cached = this.#names[id];
    if (cached !== undefined) return cached;
    const name = this.#btf.name(id);
    const resolved = BUILTIN_TYPEDEFS.has(name) ? name : dedup(this.#identNames, name);
    this.#names[id] = resolved;
    return resolved;
  }

  /** `struct foo`, `union bar` or `enum baz`. */
  #tagRef(id: number): string {
    const btf = this.#btf;
    const kind = btf.kind(id);
    const keyword =
      kind === BtfKind.Union || (kind === BtfKind.Fwd && (btf.typeById(id) as { union: boolean }).union)
        ? "union"
        : kind === BtfKind.Enum || kind === BtfKind.Enum64
          ? "enum"
          : "struct";
    return `${keyword} ${this.#tagName(id)}`;
  }

  // ------------------------------------------------------------------------------------------------------
  // Declarations

  /** A C declaration of `name` (possibly "") with type `id`, e.g. `int (*handlers[2])(int)`. */
  #decl(id: number, name: string, lvl: number): string {
    const btf = this.#btf;
    let inner = name;
    let quals: string[] = [];
    let tags: string[] = [];
    for (let depth = 0; depth < 1024; depth++) {
      const t = btf.typeById(id);
      switch (t.kind) {
        case BtfKind.Const:
        case BtfKind.Volatile:
        case BtfKind.Restrict: {
          const q =
            t.kind === BtfKind.Const ? "const" : t.kind === BtfKind.Volatile ? "volatile" : "restrict";
          if (!quals.includes(q)) quals.push(q);
          id = t.type;
          continue;
        }
        case BtfKind.TypeTag:
          if (this.#opts.typeTags) {
            tags.push(
              t.attribute ? `__attribute__((${t.name}))` : `__attribute__((btf_type_tag("${t.name}")))`,
            );
          }
          id = t.type;
          continue;
        case BtfKind.Ptr: {
          const q = [...tags, ...quals].join(" ");
          inner = q ? `*${q}${inner ? ` ${inner}` : ""}` : `*${inner}`;
          quals = [];
          tags = [];
          const target = this.#skipModifiers(t.type);
          if (target === BtfKind.Array || target === BtfKind.FuncProto) inner = `(${inner})`;
          id = t.type;
          continue;
        }
        case BtfKind.Array:
          inner = `${inner}[${t.nelems}]`;
          id = t.elemType;
          continue;
        case BtfKind.FuncProto: {
          inner = `${inner}(${this.#params(t.params, lvl)})`;
          quals = [];
          tags = [];
          id = t.returnType;
          continue;
        }
        default: {
          const base = this.#baseName(t, lvl);
          // `restrict` only qualifies pointers; on anything else it is invalid C.
          const q = quals.filter((x) => x !== "restrict");
          const prefix = q.length ? `${q.join(" ")} ` : "";
          const suffix = tags.length ? ` ${tags.join(" ")}` : "";
          return inner ? `${prefix}${base}${suffix} ${inner}` : `${prefix}${base}${suffix}`;
        }
      }
    }
    throw new CPrinterError(id, "declarator chain too long (a loop?)");
  }

  #skipModifiers(id: number): number {
    const btf = this.#btf;
    for (let depth = 0; depth < 1024; depth++) {
      const kind = btf.kind(id);
      if (
        kind !== BtfKind.Const &&
        kind !== BtfKind.Volatile &&
        kind !== BtfKind.Restrict &&
        kind !== BtfKind.TypeTag
      )
        return kind;
      id = (btf.typeById(id) as { type: number }).type;
    }
    return BtfKind.Void;
  }

  #params(params: readonly { name: string; type: number }[], lvl: number): string {
    if (params.length === 0) return "void";
    const parts: string[] = [];
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      if (p.type === 0 && i === params.length - 1) parts.push("...");
      else parts.push(this.#decl(p.type, p.name, lvl));
    }
    return parts.join(", ");
  }

  #baseName(t: BtfType, lvl: number): string {
    switch (t.kind) {
      case BtfKind.Void:
        return "void";
      case BtfKind.Int:
        return t.name || intFallbackName(t.size, (t.encoding & 1) !== 0);
      case BtfKind.Float:
        return t.name || (t.size === 4 ? "float" : "double");
      case BtfKind.Struct:
      case BtfKind.Union:
        return t.name ? this.#tagRef(t.id) : this.#compositeBody(t, lvl);
      case BtfKind.Enum:
      case BtfKind.Enum64:
        return t.name ? this.#tagRef(t.id) : this.#enumBody(t, lvl);
      case BtfKind.Fwd:
        return this.#tagRef(t.id);
      case BtfKind.Typedef:
        return this.#identName(t.id);
      default:
        throw new CPrinterError(t.id, `a ${kindLabel(t.kind)} is not a C type`);
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Bodies

  #compositeBody(t: BtfStruct | BtfUnion, lvl: number): string {
    this.#records++;
    const keyword = t.kind === BtfKind.Union ? "union" : "struct";
    const head = t.name ? `${keyword} ${this.#tagName(t.id)}` : keyword;
    const layout: StructLayout = this.#align.layout(t.id);
    const ind = "\t".repeat(lvl + 1);
    const lines: string[] = [];
    if (layout.inexact) lines.push(`${ind}/* layout differs from BTF: offsets could not be reproduced */`);
    for (let i = 0; i < t.members.length; i++) {
      const m = t.members[i];
      const pad = layout.before[i];
      if (pad) for (const p of pad) lines.push(`${ind}${p}`);
      const bits = bitfieldSize(this.#btf, t, i);
      lines.push(`${ind}${this.#decl(m.type, m.name, lvl + 1)}${bits ? `: ${bits}` : ""};`);
    }
    for (const p of layout.after) lines.push(`${ind}${p}`);
    let attrs = "";
    if (layout.packed) attrs += " __attribute__((packed))";
    if (layout.aligned) attrs += ` __attribute__((aligned(${layout.aligned})))`;
    if (lines.length === 0) return `${head} {}${attrs}`;
    return `${head} {\n${lines.join("\n")}\n${"\t".repeat(lvl)}}${attrs}`;
  }

  #enumBody(t: BtfEnum | BtfEnum64, lvl: number): string {
    const head = t.name ? `enum ${this.#tagName(t.id)}` : "enum";
    if (t.values.length === 0) return head;
    const ind = "\t".repeat(lvl + 1);
    const lines: string[] = [];
    let min = 0n;
    let max = 0n;
    for (const v of t.values) {
      const value = BigInt(v.value);
      if (value < min) min = value;
      if (value > max) max = value;
      lines.push(`${ind}${dedup(this.#identNames, v.name)} = ${enumLiteral(value)},`);
    }
    // The compiler sizes an enum by its values; force the recorded size when that differs.
    const natural = min < -(2n ** 31n) || max > 2n ** 32n - 1n || (min < 0n && max > 2n ** 31n - 1n) ? 8 : 4;
    let attr = "";
    if (t.size !== natural) {
      const mode = ({ 1: "QI", 2: "HI", 4: "SI", 8: "DI" } as Record<number, string>)[t.size];
      if (mode) attr = ` __attribute__((mode(${mode})))`;
    }
    return `${head} {\n${lines.join("\n")}\n${"\t".repeat(lvl)}}${attr}`;
  }
}

const KFUNC_PROLOGUE = `#ifndef BPF_NO_KFUNC_PROTOTYPES
#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif

#ifndef __weak
#define __weak __attribute__((weak))
#endif

#ifndef __bpf_fastcall
#if __has_attribute(bpf_fastcall)
#define __bpf_fastcall __attribute__((bpf_fastcall))
#else
#define __bpf_fastcall
#endif
#endif

`;

/** Bitfield width of member `i` (0 for a plain member), for both BTF bitfield encodings. */
export function bitfieldSize(btf: Btf, t: BtfStruct | BtfUnion, i: number): number {
  const m = t.members[i];
  if (m.bitfieldSize) return m.bitfieldSize;
  if (t.kindFlag) return 0;
  const r = btf.resolve(m.type);
  return r.kind === BtfKind.Int && r.bits !== r.size * 8 ? r.bits : 0;
}

function dedup(seen: Map<string, number>, name: string): string {
  const n = (seen.get(name) ?? 0) + 1;
  seen.set(name, n);
  return n > 1 ? `${name}___${n}` : name;
}

function enumLiteral(v: bigint): string {
  if (v >= -(2n ** 31n) && v <= 2n ** 32n - 1n) return v.toString();
  if (v === -(2n ** 63n)) return "(-9223372036854775807LL - 1)";
  return v < 0n ? `${v}LL` : `${v}ULL`;
}

function intFallbackName(size: number, signed: boolean): string {
  const base =
    size === 1 ? "char" : size === 2 ? "short" : size === 4 ? "int" : size === 16 ? "__int128" : "long long";
  return signed ? (size === 1 ? "signed char" : base) : `unsigned ${base}`;
}

function kindLabel(kind: number): string {
  const names: Record<number, string> = {
    [BtfKind.Func]: "FUNC",
    [BtfKind.Var]: "VAR",
    [BtfKind.Datasec]: "DATASEC",
    [BtfKind.DeclTag]: "DECL_TAG",
  };
  return names[kind] ?? `kind ${kind}`;
}

/** Marks every type referred to by another C type (not by FUNC, VAR or DATASEC). */
function markReferenced(btf: Btf): Uint8Array {
  const ref = new Uint8Array(btf.count);
  for (let id = 1; id < btf.count; id++) {
    const t = btf.typeById(id);
    switch (t.kind) {
      case BtfKind.Ptr:
      case BtfKind.Typedef:
      case BtfKind.Const:
      case BtfKind.Volatile:
      case BtfKind.Restrict:
      case BtfKind.TypeTag:
        ref[t.type] = 1;
        break;
      case BtfKind.Array:
        ref[t.elemType] = 1;
        break;
      case BtfKind.Struct:
      case BtfKind.Union:
        for (const m of t.members) ref[m.type] = 1;
        break;
      case BtfKind.FuncProto:
        ref[t.returnType] = 1;
        for (const p of t.params) ref[p.type] = 1;
        break;
      default:
        break;
    }
  }
  return ref;
}
