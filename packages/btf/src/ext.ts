import type { Btf } from "./btf.js";
import { btfParseError } from "./errors.js";
import { BTF_MAGIC } from "./kinds.js";

/** `bpf_func_info`: the FUNC type of the BPF function starting at `insnOff`. */
export interface BtfFuncInfo {
  /** Byte offset of the function's first instruction in its ELF section (divide by 8 for an index). */
  readonly insnOff: number;
  /** The FUNC type id. */
  readonly typeId: number;
}

/** `bpf_line_info`: the source line of the instruction at `insnOff`. */
export interface BtfLineInfo {
  /** Byte offset of the instruction in its ELF section. */
  readonly insnOff: number;
  /** Source file name. */
  readonly fileName: string;
  /** The source line's text. */
  readonly line: string;
  /** 1-based line number (`line_col >> 10`). */
  readonly lineNumber: number;
  /** Column (`line_col & 0x3ff`). */
  readonly column: number;
  /** String offsets, kept for re-encoding. */
  readonly fileNameOff: number;
  readonly lineOff: number;
}

/** `enum bpf_core_relo_kind`. */
export const CoreReloKind = {
  FieldByteOffset: 0,
  FieldByteSize: 1,
  FieldExists: 2,
  FieldSigned: 3,
  FieldLshiftU64: 4,
  FieldRshiftU64: 5,
  TypeIdLocal: 6,
  TypeIdTarget: 7,
  TypeExists: 8,
  TypeSize: 9,
  EnumvalExists: 10,
  EnumvalValue: 11,
  TypeMatches: 12,
} as const;

/** `bpf_core_relo`: one CO-RE relocation. */
export interface BtfCoreRelo {
  /** Byte offset of the relocated instruction in its ELF section. */
  readonly insnOff: number;
  /** The local root type id. */
  readonly typeId: number;
  /** Access string, e.g. `"0:1:2"` (member indices), or `"0"` for type-based relocations. */
  readonly accessStr: string;
  /** A {@link CoreReloKind} value. */
  readonly kind: number;
  /** String offset of `accessStr`. */
  readonly accessStrOff: number;
}

/** The records of one ELF section. */
export interface BtfExtSection<R> {
  /** ELF section name, e.g. `"xdp"`, `".text"`. */
  readonly section: string;
  readonly records: readonly R[];
}

/** A parsed `.BTF.ext` section. */
export interface BtfExt {
  readonly littleEndian: boolean;
  readonly funcInfo: readonly BtfExtSection<BtfFuncInfo>[];
  readonly lineInfo: readonly BtfExtSection<BtfLineInfo>[];
  readonly coreRelos: readonly BtfExtSection<BtfCoreRelo>[];
  /** Record sizes as found (records may be larger than this package knows; extra bytes are skipped). */
  readonly funcInfoRecSize: number;
  readonly lineInfoRecSize: number;
  readonly coreReloRecSize: number;
}

const F = "BTF.ext";

/**
 * Parses a `.BTF.ext` section: func_info, line_info and CO-RE relocation records, per ELF section.
 *
 * Strings (section names, file names, source lines, access strings) live in the object's `.BTF`, so the
 * parsed {@link Btf} is required. Record sizes are honoured: a record larger than the known layout (a newer
 * compiler) is read for its known prefix.
 *
 * @throws ParseError (format `"BTF.ext"`) naming the offset and what was expected.
 * @example
 * ```ts
 * const ext = parseBtfExt(elfSection(".BTF.ext"), btf);
 * for (const { section, records } of ext.funcInfo) console.log(section, records.length);
 * ```
 */
export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  const len = bytes.length;
  if (len < 24) throw btfParseError(0, "a 24-byte BTF.ext header", `the input is only ${len} bytes`, F);
  let le: boolean;
  if (bytes[0] === 0x9f && bytes[1] === 0xeb) le = true;
  else if (bytes[0] === 0xeb && bytes[1] === 0x9f) le = false;
  else
    throw btfParseError(
      0,
      `magic 0x${BTF_MAGIC.toString(16)}`,
      `found 0x${bytes[0].toString(16)}${bytes[1].toString(16)}`,
      F,
    );
  if (bytes[2] !== 1) throw btfParseError(2, "version 1", `found ${bytes[2]}`, F);
  if (bytes[3] !== 0) throw btfParseError(3, "flags 0", `found ${bytes[3]}`, F);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => dv.getUint32(o, le);
  const hdrLen = u32(4);
  if (hdrLen < 24 || hdrLen > len)
    throw btfParseError(4, `a header length between 24 and ${len}`, `found ${hdrLen}`, F);
  const strings = (off: number, at: number, what: string): string => {
    if (off >= btf.stringsLength)
      throw btfParseError(at, `a ${what} string offset below ${btf.stringsLength}`, `found ${off}`, F);
    return btf.stringAt(off);
  };

  // Walks one info block: rec_size, then { sec_name_off, num_info, records[num_info] } until the end.
  const block = <R>(
    hdrField: number,
    minRec: number,
    what: string,
    read: (o: number) => R,
  ): { recSize: number; sections: BtfExtSection<R>[] } => {
    if (hdrField + 8 > hdrLen) return { recSize: 0, sections: [] };
    const off = u32(hdrField);
    const size = u32(hdrField + 4);
    if (size === 0) return { recSize: 0, sections: [] };
    const start = hdrLen + off;
    const end = start + size;
    if (off % 4 !== 0) throw btfParseError(hdrField, `a 4-byte aligned ${what} offset`, `found ${off}`, F);
    if (end > len)
      throw btfParseError(
        hdrField + 4,
        `a ${what} block inside the ${len}-byte input`,
        `it spans ${start}..${end}`,
        F,
      );
    if (size < 4) throw btfParseError(start, `a ${what} record size`, "the block is shorter than 4 bytes", F);
    const recSize = u32(start);
    if (recSize < minRec || recSize % 4 !== 0)
      throw btfParseError(
        start,
        `a ${what} record size of at least ${minRec}, a multiple of 4`,
        `found ${recSize}`,
        F,
      );
    const sections: BtfExtSection<R>[] = [];
    let o = start + 4;
    while (o < end) {
      if (o + 8 > end)
        throw btfParseError(o, `an 8-byte ${what} section header`, `only ${end - o} bytes remain`, F);
      const section = strings(u32(o), o, "section name");
      const n = u32(o + 4);
      if (n === 0) throw btfParseError(o + 4, `at least one ${what} record`, "found 0", F);
      const recEnd = o + 8 + n * recSize;
      if (recEnd > end)
        throw btfParseError(
          o + 4,
          `${n} ${what} records of ${recSize} bytes inside the block`,
          `the block ends at ${end}`,
          F,
        );
      const records: R[] = new Array(n);
      for (let i = 0, p = o + 8; i < n; i++, p += recSize) records[i] = read(p);
      sections.push({ section, records });
      o = recEnd;
    }
    return { recSize, sections };
  };

  const func = block(8, 8, "func_info", (p) => {
    const typeId = u32(p + 4);
    if (typeId >= btf.count) throw btfParseError(p + 4, `a type id below ${btf.count}`, `found ${typeId}`, F);
    return { insnOff: u32(p), typeId };
  });
  const line = block(16, 16, "line_info", (p) => {
    const fileNameOff = u32(p + 4);
    const lineOff = u32(p + 8);
    const lineCol = u32(p + 12);
    return {
      insnOff: u32(p),
      fileName: strings(fileNameOff, p + 4, "file name"),
      line: strings(lineOff, p + 8, "source line"),
      lineNumber: lineCol >>> 10,
      column: lineCol & 0x3ff,
      fileNameOff,
      lineOff,
    };
  });
  const core = block(24, 16, "core_relo", (p) => {
    const typeId = u32(p + 4);
    if (typeId >= btf.count) throw btfParseError(p + 4, `a type id below ${btf.count}`, `found ${typeId}`, F);
    const accessStrOff = u32(p + 8);
    return {
      insnOff: u32(p),
      typeId,
      accessStr: strings(accessStrOff, p + 8, "access"),
      kind: u32(p + 12),
      accessStrOff,
    };
  });
  return {
    littleEndian: le,
    funcInfo: func.sections,
    lineInfo: line.sections,
    coreRelos: core.sections,
    funcInfoRecSize: func.recSize,
    lineInfoRecSize: line.recSize,
    coreReloRecSize: core.recSize,
  };
}
