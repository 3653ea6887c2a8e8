import { Btf } from "./btf.js";
import { btfParseError } from "./errors.js";
import { BTF_KIND_MAX, BTF_VERSION, BtfKind, kindName } from "./kinds.js";

/** Options of {@link parseBtf}. */
export interface ParseBtfOptions {
  /**
   * Base BTF for split BTF (a kernel module's BTF on top of vmlinux): type ids and string offsets continue
   * after the base's.
   */
  base?: Btf;
  /**
   * The blob is the running kernel's own (`/sys/kernel/btf/*`), which the kernel verified when it booted or
   * loaded the module: skip the reference-loop check over every type (5% of a cold program load). Bounds
   * are still checked, and the queries still stop at a depth limit. `@ebpf/btf/node` sets it for kernel
   * BTF; leave it unset for anything else.
   */
  verifiedByKernel?: boolean;
}

/** Size of `struct btf_header`. */
export const BTF_HEADER_SIZE = 24;

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Parses a raw BTF blob (the `.BTF` ELF section, `/sys/kernel/btf/*`, or `BPF_BTF_GET_INFO` output).
 *
 * Both byte orders are accepted; the order is detected from the magic number. The blob is validated up
 * front (header, section bounds, every type record's size and kind, every type id and string offset, and
 * loops in typedef/qualifier/pointer/array chains); types are then decoded lazily on access. The input is
 * copied, so the result does not keep the caller's buffer alive.
 *
 * @throws ParseError (`ERR_EBPF_PARSE`, from `@ebpf/errors`) naming the byte offset and what was expected.
 * @example
 * ```ts
 * const vmlinux = parseBtf(readFileSync("/sys/kernel/btf/vmlinux"));
 * const mod = parseBtf(readFileSync("/sys/kernel/btf/nf_tables"), { base: vmlinux });
 * ```
 */
export function parseBtf(bytes: Uint8Array, options?: ParseBtfOptions): Btf {
  const base = options?.base;
  const len = bytes.length;
  if (len < BTF_HEADER_SIZE)
    throw btfParseError(0, `a ${BTF_HEADER_SIZE}-byte BTF header`, `the input is only ${len} bytes`);
  let le: boolean;
  if (bytes[0] === 0x9f && bytes[1] === 0xeb) le = true;
  else if (bytes[0] === 0xeb && bytes[1] === 0x9f) le = false;
  else throw btfParseError(0, "magic 0xeb9f", `found bytes 0x${hex2(bytes[0])} 0x${hex2(bytes[1])}`);
  if (bytes[2] !== BTF_VERSION) throw btfParseError(2, `version ${BTF_VERSION}`, `found ${bytes[2]}`);
  if (bytes[3] !== 0) throw btfParseError(3, "flags 0", `found ${bytes[3]}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hdrLen = dv.getUint32(4, le);
  const typeOff = dv.getUint32(8, le);
  const typeLen = dv.getUint32(12, le);
  const strOff = dv.getUint32(16, le);
  const strLen = dv.getUint32(20, le);
  if (hdrLen < BTF_HEADER_SIZE || hdrLen > len)
    throw btfParseError(4, `a header length between ${BTF_HEADER_SIZE} and ${len}`, `found ${hdrLen}`);
  for (let i = BTF_HEADER_SIZE; i < hdrLen; i++)
    if (bytes[i] !== 0) throw btfParseError(i, "zero in the unknown header tail", `found ${bytes[i]}`);
  const typeStart = hdrLen + typeOff;
  const strStart = hdrLen + strOff;
  if (typeOff % 4 !== 0) throw btfParseError(8, "a 4-byte aligned type section offset", `found ${typeOff}`);
  if (typeLen % 4 !== 0)
    throw btfParseError(12, "a type section length that is a multiple of 4", `found ${typeLen}`);
  if (typeStart + typeLen > len)
    throw btfParseError(
      12,
      `a type section inside the ${len}-byte input`,
      `it spans ${typeStart}..${typeStart + typeLen}`,
    );
  if (strStart + strLen > len)
    throw btfParseError(
      20,
      `a string section inside the ${len}-byte input`,
      `it spans ${strStart}..${strStart + strLen}`,
    );
  if (typeLen > 0 && strLen > 0 && typeStart < strStart + strLen && strStart < typeStart + typeLen)
    throw btfParseError(16, "type and string sections that do not overlap");
  if (!base && (strLen === 0 || bytes[strStart] !== 0))
    throw btfParseError(strStart, "a string section starting with the empty string (a NUL byte)");
  if (strLen > 0 && bytes[strStart + strLen - 1] !== 0)
    throw btfParseError(strStart + strLen - 1, "a NUL byte terminating the string section");

  // Copies of both sections: the Btf never keeps the caller's buffer alive (or sees it change), and the type
  // section becomes host-order 32-bit words whatever the input's alignment and byte order.
  const nWords = typeLen >>> 2;
  const words = new Uint32Array(nWords);
  new Uint8Array(words.buffer).set(bytes.subarray(typeStart, typeStart + typeLen));
  if (le !== HOST_LE) {
    for (let i = 0; i < nWords; i++) {
      const x = words[i];
      words[i] = ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
    }
  }
  // Strings are kept as one JS string when the section is pure ASCII (names are then sliced out of it, and
  // the raw bytes can be rebuilt exactly), else as a copy of the bytes.
  const section = bytes.subarray(strStart, strStart + strLen);
  const text = asciiText(section);
  const strings = text === undefined ? new Uint8Array(section) : undefined;
  const startId = base ? base.count : 1;
  const strBase = base ? base.stringsLength : 0;

  const { offs, scratch, maxRef, maxName } = scanTypes(words, typeStart);
  const count = startId + offs.length;
  const strTotal = strBase + strLen;
  if (maxRef >= count) locateBadRef(words, offs, typeStart, startId, count);
  if (maxName >= strTotal) locateBadName(words, offs, typeStart, startId, strTotal);
  if (!options?.verifiedByKernel) checkChains(words, offs, typeStart, startId, scratch);

  return new Btf({
    base,
    littleEndian: le,
    startId,
    words,
    offs,
    strings,
    text,
    strLen,
    strStart: strBase,
    hdrLen,
    typeSectionOffset: typeStart,
  });
}

const utf8 = new TextDecoder();

/** The section decoded as one string when it is pure ASCII, else undefined. */
function asciiText(section: Uint8Array): string | undefined {
  const text = utf8.decode(section);
  // Equal lengths leave only ASCII or lone invalid bytes (each one U+FFFD); a one-byte string cannot hold
  // U+FFFD, so this indexOf is answered without a scan in the common case.
  return text.length === section.length && text.indexOf("\ufffd") === -1 ? text : undefined;
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, "0");
}

/** Extra words after the 12-byte `btf_type` header, or -1 for an unknown kind. */
export function extraWords(kind: number, vlen: number): number {
  switch (kind) {
    case BtfKind.Int:
    case BtfKind.Var:
    case BtfKind.DeclTag:
      return 1;
    case BtfKind.Array:
      return 3;
    case BtfKind.Struct:
    case BtfKind.Union:
    case BtfKind.Datasec:
    case BtfKind.Enum64:
      return vlen * 3;
    case BtfKind.Enum:
    case BtfKind.FuncProto:
      return vlen * 2;
    case BtfKind.Ptr:
    case BtfKind.Fwd:
    case BtfKind.Typedef:
    case BtfKind.Volatile:
    case BtfKind.Const:
    case BtfKind.Restrict:
    case BtfKind.Func:
    case BtfKind.Float:
    case BtfKind.TypeTag:
      return 0;
    default:
      return -1;
  }
}

/** One pass over the type section: record offsets, check sizes and kinds, track the largest id and name. */
function scanTypes(
  words: Uint32Array,
  typeStart: number,
): { offs: Uint32Array; scratch: Int32Array; maxRef: number; maxName: number } {
  const n = words.length;
  const all = new Uint32Array(((n / 3) | 0) + 1);
  let count = 0;
  let o = 0;
  let maxRef = 0;
  let maxName = 0;
  while (o < n) {
    if (o + 3 > n)
      throw btfParseError(
        typeStart + o * 4,
        "a 12-byte type record",
        `only ${(n - o) * 4} bytes remain in the type section`,
      );
    const nameOff = words[o];
    if (nameOff > maxName) maxName = nameOff;
    const info = words[o + 1];
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const ref = words[o + 2];
    const x = o + 3;
    let next: number;
    switch (kind) {
      case BtfKind.Int:
        next = x + 1;
        break;
      case BtfKind.Ptr:
      case BtfKind.Typedef:
      case BtfKind.Volatile:
      case BtfKind.Const:
      case BtfKind.Restrict:
      case BtfKind.Func:
      case BtfKind.TypeTag:
        if (ref > maxRef) maxRef = ref;
        next = x;
        break;
      case BtfKind.Fwd:
      case BtfKind.Float:
        next = x;
        break;
      case BtfKind.Var:
      case BtfKind.DeclTag:
        if (ref > maxRef) maxRef = ref;
        next = x + 1;
        break;
      case BtfKind.Array: {
        next = x + 3;
        if (next > n) break;
        const e = words[x];
        const ix = words[x + 1];
        if (e > maxRef) maxRef = e;
        if (ix > maxRef) maxRef = ix;
        break;
      }
      case BtfKind.Struct:
      case BtfKind.Union:
        next = x + vlen * 3;
        if (next > n) break;
        for (let p = x; p < next; p += 3) {
          if (words[p] > maxName) maxName = words[p];
          if (words[p + 1] > maxRef) maxRef = words[p + 1];
        }
        break;
      case BtfKind.Enum:
        next = x + vlen * 2;
        if (next > n) break;
        for (let p = x; p < next; p += 2) if (words[p] > maxName) maxName = words[p];
        break;
      case BtfKind.Enum64:
        next = x + vlen * 3;
        if (next > n) break;
        for (let p = x; p < next; p += 3) if (words[p] > maxName) maxName = words[p];
        break;
      case BtfKind.FuncProto:
        if (ref > maxRef) maxRef = ref;
        next = x + vlen * 2;
        if (next > n) break;
        for (let p = x; p < next; p += 2) {
          if (words[p] > maxName) maxName = words[p];
          if (words[p + 1] > maxRef) maxRef = words[p + 1];
        }
        break;
      case BtfKind.Datasec:
        next = x + vlen * 3;
        if (next > n) break;
        for (let p = x; p < next; p += 3) if (words[p] > maxRef) maxRef = words[p];
        break;
      default:
        throw btfParseError(
          typeStart + o * 4 + 4,
          `a known BTF kind (1..${BTF_KIND_MAX})`,
          `type #${count + 1} has kind ${kind}`,
        );
    }
    if (next > n)
      throw btfParseError(
        typeStart + o * 4,
        `${(next - o) * 4} bytes for ${kindName(kind)} type #${count + 1} (vlen ${vlen})`,
        `only ${(n - o) * 4} bytes remain in the type section`,
      );
    all[count++] = o;
    o = next;
  }
  // The oversized scan buffer is handed back as scratch space for the loop check: its pages are already
  // mapped, and fresh multi-megabyte allocations page-fault on first touch.
  return { offs: all.slice(0, count), scratch: new Int32Array(all.buffer, 0, count), maxRef, maxName };
}

/** Type ids a record refers to, with the word index of each reference (for error messages). */
function refsOf(words: Uint32Array, o: number): [number, number][] {
  const info = words[o + 1];
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const x = o + 3;
  const out: [number, number][] = [];
  switch (kind) {
    case BtfKind.Ptr:
    case BtfKind.Typedef:
    case BtfKind.Volatile:
    case BtfKind.Const:
    case BtfKind.Restrict:
    case BtfKind.Func:
    case BtfKind.TypeTag:
    case BtfKind.Var:
    case BtfKind.DeclTag:
      out.push([o + 2, words[o + 2]]);
      break;
    case BtfKind.Array:
      out.push([x, words[x]], [x + 1, words[x + 1]]);
      break;
    case BtfKind.Struct:
    case BtfKind.Union:
      for (let i = 0, p = x; i < vlen; i++, p += 3) out.push([p + 1, words[p + 1]]);
      break;
    case BtfKind.FuncProto:
      out.push([o + 2, words[o + 2]]);
      for (let i = 0, p = x; i < vlen; i++, p += 2) out.push([p + 1, words[p + 1]]);
      break;
    case BtfKind.Datasec:
      for (let i = 0, p = x; i < vlen; i++, p += 3) out.push([p, words[p]]);
      break;
  }
  return out;
}

function locateBadRef(
  words: Uint32Array,
  offs: Uint32Array,
  typeStart: number,
  startId: number,
  count: number,
): never {
  for (let i = 0; i < offs.length; i++) {
    for (const [w, ref] of refsOf(words, offs[i])) {
      if (ref >= count)
        throw btfParseError(
          typeStart + w * 4,
          `a type id below ${count}`,
          `type [${startId + i}] refers to type id ${ref}`,
        );
    }
  }
  throw btfParseError(typeStart, `type ids below ${count}`);
}

function locateBadName(
  words: Uint32Array,
  offs: Uint32Array,
  typeStart: number,
  startId: number,
  total: number,
): never {
  for (let i = 0; i < offs.length; i++) {
    const o = offs[i];
    const info = words[o + 1];
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const names = [o];
    const step = kind === BtfKind.Enum || kind === BtfKind.FuncProto ? 2 : 3;
    if (
      kind === BtfKind.Struct ||
      kind === BtfKind.Union ||
      kind === BtfKind.Enum ||
      kind === BtfKind.Enum64 ||
      kind === BtfKind.FuncProto
    )
      for (let j = 0, p = o + 3; j < vlen; j++, p += step) names.push(p);
    for (const w of names) {
      if (words[w] >= total)
        throw btfParseError(
          typeStart + w * 4,
          `a string offset below ${total}`,
          `type [${startId + i}] uses string offset ${words[w]}`,
        );
    }
  }
  throw btfParseError(typeStart, `string offsets below ${total}`);
}

/**
 * Rejects loops in single-successor chains (pointers, typedefs, qualifiers, arrays, vars, tags): each such
 * type has exactly one successor, so the graph is functional and a colouring walk finds cycles in O(n).
 * Loops through struct members by value are caught lazily by the queries that would follow them.
 */
function checkChains(
  words: Uint32Array,
  offs: Uint32Array,
  typeStart: number,
  startId: number,
  scratch: Int32Array,
): void {
  const n = offs.length;
  // walkOf[j] = 1 + the index of the walk that first reached j (0: not reached yet). Meeting a type
  // reached by the current walk is a loop; one reached by an earlier walk is known to end.
  const walkOf = scratch.fill(0);
  for (let i = 0; i < n; i++) {
    if (walkOf[i] !== 0) continue;
    const mark = i + 1;
    let j = i;
    for (;;) {
      walkOf[j] = mark;
      const o = offs[j];
      let next: number;
      switch ((words[o + 1] >>> 24) & 0x1f) {
        case BtfKind.Ptr:
        case BtfKind.Typedef:
        case BtfKind.Volatile:
        case BtfKind.Const:
        case BtfKind.Restrict:
        case BtfKind.TypeTag:
        case BtfKind.Var:
        case BtfKind.DeclTag:
          next = words[o + 2] - startId;
          break;
        case BtfKind.Array:
          next = words[o + 3] - startId;
          break;
        default:
          next = -1;
      }
      if (next < 0) break;
      const w = walkOf[next];
      if (w === mark)
        throw btfParseError(
          typeStart + offs[next] * 4,
          "a type chain that ends",
          `type [${startId + next}] is part of a reference loop`,
        );
      if (w !== 0) break;
      j = next;
    }
  }
}
