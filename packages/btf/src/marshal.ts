import type { Btf } from "./btf.js";
import { BtfError } from "./errors.js";
import { BTF_MAGIC, BTF_VERSION, BtfKind, kindName } from "./kinds.js";
import { StringTable } from "./string-table.js";
import type { BtfTypeInit } from "./types.js";

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Options of {@link marshalBtf}. */
export interface MarshalBtfOptions {
  /** Byte order of the output; defaults to the byte order the BTF was parsed from. */
  littleEndian?: boolean;
}

/** Number of 32-bit words a type takes when encoded. */
function wordsOf(t: BtfTypeInit): number {
  switch (t.kind) {
    case BtfKind.Int:
    case BtfKind.Var:
    case BtfKind.DeclTag:
      return 4;
    case BtfKind.Array:
      return 6;
    case BtfKind.Struct:
    case BtfKind.Union:
      return 3 + 3 * t.members.length;
    case BtfKind.Enum:
      return 3 + 2 * t.values.length;
    case BtfKind.Enum64:
      return 3 + 3 * t.values.length;
    case BtfKind.FuncProto:
      return 3 + 2 * t.params.length;
    case BtfKind.Datasec:
      return 3 + 3 * t.vars.length;
    case BtfKind.Void:
      throw new BtfError("ERR_EBPF_BTF_INVALID", "void (type id 0) cannot be encoded");
    default:
      return 3;
  }
}

function vlenOf(t: BtfTypeInit, n: number): number {
  if (n > 0xffff)
    throw new BtfError(
      "ERR_EBPF_BTF_INVALID",
      `${kindName(t.kind)} '${t.name}' has ${n} entries (max 65535)`,
    );
  return n;
}

function u32(v: number, what: string, t: BtfTypeInit): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new BtfError("ERR_EBPF_BTF_INVALID", `${kindName(t.kind)} '${t.name}': ${what} ${v} is not a u32`);
  return v;
}

/** @internal Encodes type records into host-order words. */
export function encodeTypes(
  count: number,
  typeAt: (i: number) => BtfTypeInit,
  strings: StringTable,
  sizeHint = 0,
): Uint32Array {
  // Types are fetched one at a time and encoded at once, so that a pass over a large BTF does not keep
  // every decoded object alive; the buffer grows when the hint is short.
  let w = new Uint32Array(Math.max(sizeHint, 64));
  let o = 0;
  for (let i = 0; i < count; i++) {
    const t = typeAt(i);
    const need = o + wordsOf(t);
    if (need > w.length) {
      const grown = new Uint32Array(Math.max(need, w.length * 2));
      grown.set(w.subarray(0, o));
      w = grown;
    }
    const info = (kind: number, vlen: number, flag: boolean) =>
      ((flag ? 0x80000000 : 0) | (kind << 24) | vlen) >>> 0;
    w[o] = strings.add(t.name);
    switch (t.kind) {
      case BtfKind.Int:
        w[o + 1] = info(t.kind, 0, false);
        w[o + 2] = u32(t.size, "size", t);
        w[o + 3] = (((t.encoding & 0x0f) << 24) | ((t.offset & 0xff) << 16) | (t.bits & 0xff)) >>> 0;
        o += 4;
        break;
      case BtfKind.Ptr:
      case BtfKind.Typedef:
      case BtfKind.Volatile:
      case BtfKind.Const:
      case BtfKind.Restrict:
        w[o + 1] = info(t.kind, 0, false);
        w[o + 2] = u32(t.type, "type", t);
        o += 3;
        break;
      case BtfKind.TypeTag:
        w[o + 1] = info(t.kind, 0, t.attribute);
        w[o + 2] = u32(t.type, "type", t);
        o += 3;
        break;
      case BtfKind.Array:
        w[o + 1] = info(t.kind, 0, false);
        w[o + 2] = 0;
        w[o + 3] = u32(t.elemType, "elemType", t);
        w[o + 4] = u32(t.indexType, "indexType", t);
        w[o + 5] = u32(t.nelems, "nelems", t);
        o += 6;
        break;
      case BtfKind.Struct:
      case BtfKind.Union: {
        w[o + 1] = info(t.kind, vlenOf(t, t.members.length), t.kindFlag);
        w[o + 2] = u32(t.size, "size", t);
        let p = o + 3;
        for (const m of t.members) {
          w[p] = strings.add(m.name);
          w[p + 1] = u32(m.type, "member type", t);
          if (t.kindFlag) {
            if (m.bitOffset > 0xffffff || m.bitfieldSize > 0xff)
              throw new BtfError(
                "ERR_EBPF_BTF_INVALID",
                `${kindName(t.kind)} '${t.name}': member '${m.name}' offset or bitfield size too large for kind_flag encoding`,
              );
            w[p + 2] = ((m.bitfieldSize << 24) | m.bitOffset) >>> 0;
          } else {
            if (m.bitfieldSize)
              throw new BtfError(
                "ERR_EBPF_BTF_INVALID",
                `${kindName(t.kind)} '${t.name}': member '${m.name}' is a bitfield but kindFlag is not set`,
              );
            w[p + 2] = u32(m.bitOffset, "member bit offset", t);
          }
          p += 3;
        }
        o = p;
        break;
      }
      case BtfKind.Enum: {
        w[o + 1] = info(t.kind, vlenOf(t, t.values.length), t.signed);
        w[o + 2] = u32(t.size, "size", t);
        let p = o + 3;
        for (const v of t.values) {
          w[p] = strings.add(v.name);
          w[p + 1] = v.value >>> 0;
          p += 2;
        }
        o = p;
        break;
      }
      case BtfKind.Enum64: {
        w[o + 1] = info(t.kind, vlenOf(t, t.values.length), t.signed);
        w[o + 2] = u32(t.size, "size", t);
        let p = o + 3;
        for (const v of t.values) {
          const u = BigInt.asUintN(64, BigInt(v.value));
          w[p] = strings.add(v.name);
          w[p + 1] = Number(u & 0xffffffffn);
          w[p + 2] = Number(u >> 32n);
          p += 3;
        }
        o = p;
        break;
      }
      case BtfKind.Fwd:
        w[o + 1] = info(t.kind, 0, t.union);
        w[o + 2] = 0;
        o += 3;
        break;
      case BtfKind.Func:
        w[o + 1] = info(t.kind, t.linkage & 0xffff, false);
        w[o + 2] = u32(t.type, "type", t);
        o += 3;
        break;
      case BtfKind.FuncProto: {
        w[o + 1] = info(t.kind, vlenOf(t, t.params.length), false);
        w[o + 2] = u32(t.returnType, "returnType", t);
        let p = o + 3;
        for (const param of t.params) {
          w[p] = strings.add(param.name);
          w[p + 1] = u32(param.type, "param type", t);
          p += 2;
        }
        o = p;
        break;
      }
      case BtfKind.Var:
        w[o + 1] = info(t.kind, 0, false);
        w[o + 2] = u32(t.type, "type", t);
        w[o + 3] = u32(t.linkage, "linkage", t);
        o += 4;
        break;
      case BtfKind.Datasec: {
        w[o + 1] = info(t.kind, vlenOf(t, t.vars.length), false);
        w[o + 2] = u32(t.size, "size", t);
        let p = o + 3;
        for (const v of t.vars) {
          w[p] = u32(v.type, "var type", t);
          w[p + 1] = u32(v.offset, "var offset", t);
          w[p + 2] = u32(v.size, "var size", t);
          p += 3;
        }
        o = p;
        break;
      }
      case BtfKind.Float:
        w[o + 1] = info(t.kind, 0, false);
        w[o + 2] = u32(t.size, "size", t);
        o += 3;
        break;
      case BtfKind.DeclTag:
        w[o + 1] = info(t.kind, 0, t.attribute);
        w[o + 2] = u32(t.type, "type", t);
        w[o + 3] = t.componentIdx >>> 0;
        o += 4;
        break;
      default:
        throw new BtfError("ERR_EBPF_BTF_INVALID", `cannot encode kind ${(t as BtfTypeInit).kind}`);
    }
  }
  return o === w.length ? w : w.slice(0, o);
}

/** @internal Lays out header + types + strings. */
export function assembleBtf(
  words: Uint32Array,
  strings: Uint8Array,
  littleEndian: boolean,
  hdrLen = 24,
): Uint8Array {
  const typeLen = words.length * 4;
  const out = new Uint8Array(hdrLen + typeLen + strings.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, BTF_MAGIC, littleEndian);
  out[2] = BTF_VERSION;
  out[3] = 0;
  dv.setUint32(4, hdrLen, littleEndian);
  dv.setUint32(8, 0, littleEndian);
  dv.setUint32(12, typeLen, littleEndian);
  dv.setUint32(16, typeLen, littleEndian);
  dv.setUint32(20, strings.length, littleEndian);
  if (littleEndian === HOST_LE) {
    out.set(new Uint8Array(words.buffer, words.byteOffset, typeLen), hdrLen);
  } else {
    for (let i = 0, p = hdrLen; i < words.length; i++, p += 4) dv.setUint32(p, words[i], littleEndian);
  }
  out.set(strings, hdrLen + typeLen);
  return out;
}

/**
 * Encodes BTF back to bytes: header, type section, string section.
 *
 * Parsed BTF re-encodes byte for byte (the original string section is kept as is and names map back to
 * their first occurrence), for clang's and the kernel's BTF alike. Split BTF encodes only its own types;
 * names found in the base are referenced there.
 *
 * @example
 * ```ts
 * const bytes = marshalBtf(parseBtf(input)); // equal to input
 * ```
 */
export function marshalBtf(btf: Btf, options?: MarshalBtfOptions): Uint8Array {
  const strings = new StringTable(btf.stringBytes(), btf.base);
  const words = encodeTypes(
    btf.count - btf.startId,
    (i) => btf.decodeType(btf.startId + i),
    strings,
    btf.data.words.length,
  );
  return assembleBtf(words, strings.bytes(), options?.littleEndian ?? btf.littleEndian, btf.data.hdrLen);
}
