/**
 * A reader of `.BTF.ext` (func_info, line_info, CO-RE relocations) into the {@link ExtInfo} shape the
 * linker consumes. Strings (section names, file names, source lines, access specs) live in `.BTF`'s
 * string section, so the caller passes a lookup.
 */
import type { BtfExt } from "@ebpf/btf";
import { ParseError } from "@ebpf/errors";
import type { ExtCoreRelo, ExtFuncInfo, ExtInfo, ExtLineInfo } from "./link.js";

/**
 * Parse `.BTF.ext` bytes.
 *
 * @param stringAt - resolves an offset into `.BTF`'s string section (e.g. `btf.stringAt`).
 * @throws ParseError on a bad magic, truncated sections or records smaller than the kernel's.
 *
 * @example
 * ```ts
 * const ext = parseBtfExtInfo(spec.btfExtBytes!, (off) => btf.stringAt(off));
 * ```
 */
export function parseBtfExtInfo(bytes: Uint8Array, stringAt: (offset: number) => string): ExtInfo {
  const fail = (offset: number, expected: string, problem?: string) =>
    new ParseError({ format: "BTF.ext", offset, expected }, problem);
  if (bytes.length < 24) throw fail(0, "a 24-byte BTF.ext header", `only ${bytes.length} bytes`);
  let le: boolean;
  if (bytes[0] === 0x9f && bytes[1] === 0xeb) le = true;
  else if (bytes[0] === 0xeb && bytes[1] === 0x9f) le = false;
  else throw fail(0, "magic 0xeb9f");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => {
    if (o + 4 > bytes.length) throw fail(o, "4 more bytes", "end of input");
    return dv.getUint32(o, le);
  };
  const hdrLen = u32(4);
  if (hdrLen < 24 || hdrLen > bytes.length) throw fail(4, "a header length between 24 and the input size");
  const sec = (offField: number) => {
    if (offField + 8 > hdrLen) return undefined;
    const off = u32(offField);
    const len = u32(offField + 4);
    if (len === 0) return undefined;
    const start = hdrLen + off;
    if (start + len > bytes.length) throw fail(offField, "a section inside the input", `${start}+${len}`);
    return { start, end: start + len };
  };
  const str = (off: number, at: number) => {
    try {
      return stringAt(off);
    } catch (cause) {
      throw new ParseError(
        { format: "BTF.ext", offset: at, expected: "a valid string offset", cause },
        String(off),
      );
    }
  };
  function read<T>(
    range: { start: number; end: number } | undefined,
    minRec: number,
    rec: (o: number) => T,
  ): Map<string, T[]> {
    const out = new Map<string, T[]>();
    if (!range) return out;
    const recSize = u32(range.start);
    if (recSize < minRec || recSize % 4 !== 0)
      throw fail(range.start, `a record size >= ${minRec}`, `${recSize}`);
    let o = range.start + 4;
    while (o < range.end) {
      const name = str(u32(o), o);
      const n = u32(o + 4);
      o += 8;
      if (o + n * recSize > range.end) throw fail(o, `${n} records of ${recSize} bytes`, "section too short");
      const list = out.get(name) ?? [];
      for (let i = 0; i < n; i++, o += recSize) list.push(rec(o));
      out.set(name, list);
    }
    return out;
  }
  const funcInfo = read<ExtFuncInfo>(sec(8), 8, (o) => ({ insnOff: u32(o), typeId: u32(o + 4) }));
  const lineInfo = read<ExtLineInfo>(sec(16), 16, (o) => {
    const fileNameOff = u32(o + 4);
    const lineOff = u32(o + 8);
    return {
      insnOff: u32(o),
      fileNameOff,
      lineOff,
      lineCol: u32(o + 12),
      fileName: str(fileNameOff, o + 4),
      line: str(lineOff, o + 8),
    };
  });
  const coreRelos = read<ExtCoreRelo>(hdrLen >= 32 ? sec(24) : undefined, 16, (o) => ({
    insnOff: u32(o),
    typeId: u32(o + 4),
    accessString: str(u32(o + 8), o + 8),
    kind: u32(o + 12),
  }));
  return { funcInfo, lineInfo, coreRelos };
}

/**
 * The {@link ExtInfo} view of `@ebpf/btf`'s `parseBtfExt` result (the same records
 * {@link parseBtfExtInfo} reads).
 *
 * @example
 * ```ts
 * const ext = fromBtfExt(parseBtfExt(spec.btfExtBytes!, btf));
 * ```
 */
export function fromBtfExt(ext: BtfExt): ExtInfo {
  const funcInfo = new Map<string, ExtFuncInfo[]>();
  const lineInfo = new Map<string, ExtLineInfo[]>();
  const coreRelos = new Map<string, ExtCoreRelo[]>();
  const add = <T>(m: Map<string, T[]>, section: string, items: T[]) =>
    m.set(section, [...(m.get(section) ?? []), ...items]);
  for (const s of ext.funcInfo)
    add(
      funcInfo,
      s.section,
      s.records.map((r) => ({ insnOff: r.insnOff, typeId: r.typeId })),
    );
  for (const s of ext.lineInfo) {
    add(
      lineInfo,
      s.section,
      s.records.map((r) => ({
        insnOff: r.insnOff,
        fileNameOff: r.fileNameOff,
        lineOff: r.lineOff,
        lineCol: ((r.lineNumber << 10) | r.column) >>> 0,
        fileName: r.fileName,
        line: r.line,
      })),
    );
  }
  for (const s of ext.coreRelos) {
    add(
      coreRelos,
      s.section,
      s.records.map((r) => ({
        insnOff: r.insnOff,
        typeId: r.typeId,
        accessString: r.accessStr,
        kind: r.kind,
      })),
    );
  }
  return { funcInfo, lineInfo, coreRelos };
}
