// The `bpftool btf dump file X format raw` text format, line for line.
import type { Btf } from "./btf.js";
import { BtfKind, kindName } from "./kinds.js";

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
  if (id < btf.startId) {
    if (btf.base && id > 0) return formatRawType(btf.base, id);
    btf.typeById(id); // throws for ids that do not exist
    return `[${id}] UNKN '(anon)'`;
  }
  btf.typeById(id); // validates the id
  const out: string[] = [];
  rawLines(btf, btf.data.words, btf.data.offs[id - btf.startId], id, out);
  return out.join("");
}

/** Formats from the encoded words directly (no decoded objects): the dump of vmlinux is 296k lines. */
function rawLines(btf: Btf, w: Uint32Array, o: number, id: number, out: string[]): void {
  const str = (off: number) => (off === 0 ? "(anon)" : btf.stringAt(off));
  const info = w[o + 1];
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kflag = info >>> 31 === 1;
  const x = o + 3;
  out.push(`[${id}] ${kindName(kind)} '${str(w[o])}'`);
  switch (kind) {
    case BtfKind.Int: {
      const d = w[x];
      out.push(
        ` size=${w[o + 2]} bits_offset=${(d >>> 16) & 0xff} nr_bits=${d & 0xff} encoding=${intEncoding((d >>> 24) & 0x0f)}`,
      );
      break;
    }
    case BtfKind.Ptr:
    case BtfKind.Const:
    case BtfKind.Volatile:
    case BtfKind.Restrict:
    case BtfKind.Typedef:
    case BtfKind.TypeTag:
      out.push(` type_id=${w[o + 2]}`);
      break;
    case BtfKind.Array:
      out.push(` type_id=${w[x]} index_type_id=${w[x + 1]} nr_elems=${w[x + 2]}`);
      break;
    case BtfKind.Struct:
    case BtfKind.Union:
      out.push(` size=${w[o + 2]} vlen=${vlen}`);
      for (let i = 0, p = x; i < vlen; i++, p += 3) {
        const off = w[p + 2];
        if (kflag) {
          const bits = off >>> 24;
          out.push(`\n\t'${str(w[p])}' type_id=${w[p + 1]} bits_offset=${off & 0xffffff}`);
          if (bits) out.push(` bitfield_size=${bits}`);
        } else {
          out.push(`\n\t'${str(w[p])}' type_id=${w[p + 1]} bits_offset=${off}`);
        }
      }
      break;
    case BtfKind.Enum:
      out.push(` encoding=${kflag ? "SIGNED" : "UNSIGNED"} size=${w[o + 2]} vlen=${vlen}`);
      for (let i = 0, p = x; i < vlen; i++, p += 2)
        out.push(`\n\t'${str(w[p])}' val=${kflag ? w[p + 1] | 0 : w[p + 1]}`);
      break;
    case BtfKind.Enum64:
      out.push(` encoding=${kflag ? "SIGNED" : "UNSIGNED"} size=${w[o + 2]} vlen=${vlen}`);
      for (let i = 0, p = x; i < vlen; i++, p += 3) {
        const v = (BigInt(w[p + 2]) << 32n) | BigInt(w[p + 1]);
        out.push(`\n\t'${str(w[p])}' val=${kflag ? `${BigInt.asIntN(64, v)}LL` : `${v}ULL`}`);
      }
      break;
    case BtfKind.Fwd:
      out.push(` fwd_kind=${kflag ? "union" : "struct"}`);
      break;
    case BtfKind.Func:
      out.push(` type_id=${w[o + 2]} linkage=${funcLinkage(vlen)}`);
      break;
    case BtfKind.FuncProto:
      out.push(` ret_type_id=${w[o + 2]} vlen=${vlen}`);
      for (let i = 0, p = x; i < vlen; i++, p += 2) out.push(`\n\t'${str(w[p])}' type_id=${w[p + 1]}`);
      break;
    case BtfKind.Var:
      out.push(` type_id=${w[o + 2]}, linkage=${varLinkage(w[x])}`);
      break;
    case BtfKind.Datasec:
      out.push(` size=${w[o + 2]} vlen=${vlen}`);
      for (let i = 0, p = x; i < vlen; i++, p += 3) {
        const t = w[p];
        out.push(`\n\ttype_id=${t} offset=${w[p + 1]} size=${w[p + 2]}`);
        if (t < btf.count)
          out.push(` (${kindName(btf.kind(t))} '${t === 0 ? "(anon)" : nameForRaw(btf, t)}')`);
      }
      break;
    case BtfKind.Float:
      out.push(` size=${w[o + 2]}`);
      break;
    case BtfKind.DeclTag:
      out.push(` type_id=${w[o + 2]} component_idx=${w[x] | 0}`);
      break;
  }
}

/** A type's name as bpftool prints it: `(anon)` only for name offset 0. */
function nameForRaw(btf: Btf, id: number): string {
  if (id < btf.startId) return btf.base ? nameForRaw(btf.base, id) : "(anon)";
  const off = btf.data.words[btf.data.offs[id - btf.startId]];
  return off === 0 ? "(anon)" : btf.stringAt(off);
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
  const { words, offs } = btf.data;
  const out: string[] = [];
  for (let i = 0; i < offs.length; i++) {
    rawLines(btf, words, offs[i], btf.startId + i, out);
    out.push("\n");
  }
  return out.join("");
}
