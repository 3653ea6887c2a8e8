// The `bpftool btf dump file X format raw` text format, line for line.
import type { Btf } from "./btf.js";
import { BtfKind, kindName } from "./kinds.js";
import type { BtfType } from "./types.js";

function q(name: string): string {
  return name === "" ? "'(anon)'" : `'${name}'`;
}

function intEncoding(enc: number): string {
  switch (enc) {
    case 0:
      return "(none)";
    case 1:
      return "SIGNED";
    case 2:
      return "CHAR";
    case 4:
      return "BOOL";
    default:
      return "UNKN";
  }
}

function funcLinkage(l: number): string {
  return ["static", "global", "extern"][l] ?? "(unknown)";
}

function varLinkage(l: number): string {
  return ["static", "global", "extern"][l] ?? "(unknown)";
}

/**
 * One type in bpftool's raw format: the `[id] KIND 'name' ...` line followed by one tab-indented line per
 * member, value, parameter or variable, joined with `\n` (no trailing newline).
 */
export function formatRawType(btf: Btf, id: number): string {
  const t: BtfType = btf.typeById(id);
  let s = `[${id}] ${kindName(t.kind)} ${q(t.name)}`;
  switch (t.kind) {
    case BtfKind.Int:
      s += ` size=${t.size} bits_offset=${t.offset} nr_bits=${t.bits} encoding=${intEncoding(t.encoding)}`;
      break;
    case BtfKind.Ptr:
    case BtfKind.Const:
    case BtfKind.Volatile:
    case BtfKind.Restrict:
    case BtfKind.Typedef:
    case BtfKind.TypeTag:
      s += ` type_id=${t.type}`;
      break;
    case BtfKind.Array:
      s += ` type_id=${t.elemType} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
      break;
    case BtfKind.Struct:
    case BtfKind.Union:
      s += ` size=${t.size} vlen=${t.members.length}`;
      for (const m of t.members) {
        s += `\n\t${q(m.name)} type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize) s += ` bitfield_size=${m.bitfieldSize}`;
      }
      break;
    case BtfKind.Enum:
      s += ` encoding=${t.signed ? "SIGNED" : "UNSIGNED"} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) s += `\n\t${q(v.name)} val=${v.value}`;
      break;
    case BtfKind.Enum64:
      s += ` encoding=${t.signed ? "SIGNED" : "UNSIGNED"} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) s += `\n\t${q(v.name)} val=${v.value}${t.signed ? "LL" : "ULL"}`;
      break;
    case BtfKind.Fwd:
      s += ` fwd_kind=${t.union ? "union" : "struct"}`;
      break;
    case BtfKind.Func:
      s += ` type_id=${t.type} linkage=${funcLinkage(t.linkage)}`;
      break;
    case BtfKind.FuncProto:
      s += ` ret_type_id=${t.returnType} vlen=${t.params.length}`;
      for (const p of t.params) s += `\n\t${q(p.name)} type_id=${p.type}`;
      break;
    case BtfKind.Var:
      s += ` type_id=${t.type}, linkage=${varLinkage(t.linkage)}`;
      break;
    case BtfKind.Datasec:
      s += ` size=${t.size} vlen=${t.vars.length}`;
      for (const v of t.vars) {
        s += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size}`;
        if (v.type < btf.count) s += ` (${kindName(btf.kind(v.type))} ${q(btf.name(v.type))})`;
      }
      break;
    case BtfKind.Float:
      s += ` size=${t.size}`;
      break;
    case BtfKind.DeclTag:
      s += ` type_id=${t.type} component_idx=${t.componentIdx}`;
      break;
  }
  return s;
}

/**
 * The whole BTF in the format of `bpftool btf dump file X format raw`, line for line (each line ends with
 * `\n`). Split BTF prints only its own types, starting at `startId`, as bpftool does.
 *
 * @example
 * ```ts
 * process.stdout.write(formatRaw(parseBtf(bytes)));
 * ```
 */
export function formatRaw(btf: Btf): string {
  const parts: string[] = [];
  for (let id = btf.startId; id < btf.count; id++) parts.push(formatRawType(btf, id));
  parts.push("");
  return parts.join("\n");
}
