/**
 * Rewrites program BTF so that an older kernel accepts it, following libbpf's `bpf_object__sanitize_btf`:
 * each kind the kernel does not know becomes one it does, with the same size, so that every type id (and
 * so every reference from .BTF.ext, map definitions and instructions) stays valid.
 *
 * | missing feature | rewrite |
 * | --- | --- |
 * | `datasec` (5.2) | VAR → `INT` (1 byte); DATASEC → STRUCT of its variables (`.`/`?` in the name → `_`) |
 * | `qmarkDatasec` | DATASEC named `?name` → `_name` |
 * | `func` (4.20) | FUNC_PROTO → ENUM (params become enumerators); FUNC → TYPEDEF |
 * | `funcGlobal` (5.6) | FUNC with global/extern linkage → static |
 * | `float` (5.13) | FLOAT → anonymous empty STRUCT of the same size |
 * | `declTag` (5.16) | DECL_TAG → `INT` (1 byte) |
 * | `typeTag` (5.17) | TYPE_TAG → CONST |
 * | `enum64` (6.0) | ENUM64 → UNION of 1-byte INT members (one per enumerator); ENUM loses its signed flag |
 *
 * @packageDocumentation
 */
import { EbpfError } from "@ebpf/errors";
import type { Btf } from "./btf.js";
import { BtfBuilder } from "./builder.js";
import { BtfKind, FuncLinkage } from "./kinds.js";
import type { BtfType, BtfTypeInit } from "./types.js";

/**
 * Which BTF features the target kernel has. A feature left out counts as present, so
 * `{ float: false }` rewrites only floats.
 */
export interface BtfFeatures {
  /** `BTF_KIND_FUNC` and `BTF_KIND_FUNC_PROTO` (Linux 4.20). */
  func?: boolean;
  /** Global (non-static) FUNC linkage (Linux 5.6). libbpf: `FEAT_BTF_GLOBAL_FUNC`. */
  funcGlobal?: boolean;
  /** `BTF_KIND_VAR` and `BTF_KIND_DATASEC` (Linux 5.2). */
  datasec?: boolean;
  /** DATASEC names starting with `?` (libbpf: `FEAT_BTF_QMARK_DATASEC`). */
  qmarkDatasec?: boolean;
  /** `BTF_KIND_FLOAT` (Linux 5.13). */
  float?: boolean;
  /** `BTF_KIND_DECL_TAG` (Linux 5.16). */
  declTag?: boolean;
  /** `BTF_KIND_TYPE_TAG` (Linux 5.17). */
  typeTag?: boolean;
  /** `BTF_KIND_ENUM64` and signed ENUM (Linux 6.0). */
  enum64?: boolean;
}

/** The input cannot be sanitized (e.g. a type that refers to a missing id). */
export class SanitizeError extends EbpfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_EBPF_BTF_SANITIZE", message, options);
  }
}

/** Name of the 1-byte INT that a rewritten ENUM64's members point to (libbpf's name). */
export const ENUM64_PLACEHOLDER = "enum64_placeholder";

/**
 * The features of mainline Linux `major.minor`, from the release each kind appeared in. Prefer probing
 * the running kernel (distribution kernels backport); `qmarkDatasec` is only assumed from 6.12 on.
 *
 * @example
 * ```ts
 * sanitizeBtf(btf, btfFeaturesOfKernel(5, 10)); // no FLOAT, DECL_TAG, TYPE_TAG, ENUM64
 * ```
 */
export function btfFeaturesOfKernel(major: number, minor: number): Required<BtfFeatures> {
  const at = (M: number, m: number) => major > M || (major === M && minor >= m);
  return {
    func: at(4, 20),
    funcGlobal: at(5, 6),
    datasec: at(5, 2),
    qmarkDatasec: at(6, 12),
    float: at(5, 13),
    declTag: at(5, 16),
    typeTag: at(5, 17),
    enum64: at(6, 0),
  };
}

/** Whether {@link sanitizeBtf} would change anything in `btf` for a kernel with `features`. */
export function needsSanitization(btf: Btf, features: BtfFeatures): boolean {
  const f = withDefaults(features);
  for (let id = btf.startId; id < btf.count; id++) {
    if (rewrite(btf, btf.typeById(id), f) !== undefined) return true;
  }
  return false;
}

/**
 * A copy of `btf` that a kernel with `features` accepts. Type ids are preserved; at most one type is
 * appended (the INT that rewritten ENUM64 members refer to). Returns `btf` itself when nothing changes.
 *
 * @throws {@link SanitizeError} when the input's types cannot be re-encoded.
 * @example
 * ```ts
 * const kernelBtf = sanitizeBtf(objBtf, { float: false, declTag: false, typeTag: false, enum64: false });
 * ```
 */
export function sanitizeBtf(btf: Btf, features: BtfFeatures): Btf {
  const f = withDefaults(features);
  const out: BtfTypeInit[] = [];
  let changed = false;
  let needPlaceholder = false;
  for (let id = btf.startId; id < btf.count; id++) {
    const t = btf.typeById(id);
    const r = rewrite(btf, t, f);
    if (r === undefined) {
      out.push(t);
      continue;
    }
    changed = true;
    if (r === "enum64") needPlaceholder = true;
    else out.push(r);
  }
  if (!changed) return btf;
  const builder = new BtfBuilder({ base: btf.base, littleEndian: btf.littleEndian });
  const placeholder = btf.count;
  let i = 0;
  for (let id = btf.startId; id < btf.count; id++) {
    const t = btf.typeById(id);
    if (needPlaceholder && t.kind === BtfKind.Enum64 && !f.enum64) {
      builder.add({
        kind: BtfKind.Union,
        name: t.name,
        size: t.size,
        kindFlag: false,
        members: t.values.map((v) => ({ name: v.name, type: placeholder, bitOffset: 0, bitfieldSize: 0 })),
      });
      continue;
    }
    builder.add(out[i++]);
  }
  if (needPlaceholder) builder.addInt(ENUM64_PLACEHOLDER, 1, 0, 8);
  try {
    return builder.build();
  } catch (e) {
    throw new SanitizeError(`sanitized BTF does not encode: ${(e as Error).message}`, { cause: e });
  }
}

function withDefaults(f: BtfFeatures): Required<BtfFeatures> {
  return {
    func: f.func ?? true,
    funcGlobal: f.funcGlobal ?? true,
    datasec: f.datasec ?? true,
    qmarkDatasec: f.qmarkDatasec ?? true,
    float: f.float ?? true,
    declTag: f.declTag ?? true,
    typeTag: f.typeTag ?? true,
    enum64: f.enum64 ?? true,
  };
}

/**
 * The replacement of `t` for a kernel with features `f`, `"enum64"` for an ENUM64 to turn into a union
 * (which needs the placeholder id), or `undefined` when `t` stays as it is. Same precedence as libbpf.
 */
function rewrite(btf: Btf, t: BtfType, f: Required<BtfFeatures>): BtfTypeInit | "enum64" | undefined {
  switch (t.kind) {
    case BtfKind.Var:
      return f.datasec ? undefined : oneByteInt(t.name);
    case BtfKind.DeclTag:
      return f.declTag ? undefined : oneByteInt(t.name);
    case BtfKind.Datasec: {
      if (!f.datasec) {
        return {
          kind: BtfKind.Struct,
          name: t.name.replace(/[.?]/g, "_"),
          size: t.size,
          kindFlag: false,
          members: t.vars.map((v) => ({
            name: nameOf(btf, v.type),
            type: v.type,
            bitOffset: v.offset * 8,
            bitfieldSize: 0,
          })),
        };
      }
      if (!f.qmarkDatasec && t.name.startsWith("?")) return { ...t, name: `_${t.name.slice(1)}` };
      return undefined;
    }
    case BtfKind.FuncProto:
      if (f.func) return undefined;
      // The kernel reads each btf_param {name_off, type} as a btf_enum {name_off, val}.
      return {
        kind: BtfKind.Enum,
        name: t.name,
        size: 4,
        signed: false,
        values: t.params.map((p) => ({ name: p.name, value: p.type })),
      };
    case BtfKind.Func:
      if (!f.func) return { kind: BtfKind.Typedef, name: t.name, type: t.type };
      if (!f.funcGlobal && t.linkage !== FuncLinkage.Static) return { ...t, linkage: FuncLinkage.Static };
      return undefined;
    case BtfKind.Float:
      // C compilers reject "float" as a struct name: make it anonymous.
      return f.float
        ? undefined
        : { kind: BtfKind.Struct, name: "", size: t.size, kindFlag: false, members: [] };
    case BtfKind.TypeTag:
      return f.typeTag ? undefined : { kind: BtfKind.Const, name: "", type: t.type };
    case BtfKind.Enum:
      if (f.enum64 || !t.signed) return undefined;
      return { ...t, signed: false, values: t.values.map((v) => ({ name: v.name, value: v.value >>> 0 })) };
    case BtfKind.Enum64:
      return f.enum64 ? undefined : "enum64";
    default:
      return undefined;
  }
}

function oneByteInt(name: string): BtfTypeInit {
  // Size 1 is the safe choice: a larger INT fails validation when the variable was smaller.
  return { kind: BtfKind.Int, name, size: 1, encoding: 0, offset: 0, bits: 8 };
}

function nameOf(btf: Btf, id: number): string {
  try {
    return btf.name(id);
  } catch (e) {
    throw new SanitizeError(`DATASEC refers to missing type ${id}`, { cause: e });
  }
}
