/**
 * Raw ELF64 reading: file header, section headers and names, symbol tables, relocation sections, string
 * tables. Every read is bounds-checked and reports a {@link ParseError} naming the offset and what was
 * expected there; counts are validated against the file size before anything is allocated.
 */
import { ParseError } from "@ebpf/errors";
import type { ByteOrder, ElfRelocation, ElfSection, ElfSymbol, SymbolBinding, SymbolType } from "./types.js";

const FORMAT = "ELF";

/** `e_machine` of BPF objects. */
export const EM_BPF = 247;
/** Section types. */
export const SHT = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  NOBITS: 8,
  REL: 9,
  SYMTAB_SHNDX: 18,
} as const;
/** Section flags. */
export const SHF = { WRITE: 1, ALLOC: 2, EXECINSTR: 4 } as const;
/** Special section indices. */
export const SHN = { UNDEF: 0, LORESERVE: 0xff00, ABS: 0xfff1, COMMON: 0xfff2, XINDEX: 0xffff } as const;

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const RELA_SIZE = 24;

/**
 * A bounds-checked little/big-endian reader over a byte array. Every accessor takes a description of what
 * is being read, used in the {@link ParseError} when the read would leave the buffer.
 *
 * @example
 * ```ts
 * const r = new ByteReader(bytes, true);
 * r.u16(18, "e_machine"); // 247, or ParseError "ELF: at offset 18 (0x12): expected e_machine, ..."
 * ```
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  readonly format: string;
  private readonly view: DataView;

  constructor(bytes: Uint8Array, littleEndian: boolean, format = FORMAT) {
    this.bytes = bytes;
    this.littleEndian = littleEndian;
    this.format = format;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  /** Throws unless `[offset, offset + size)` lies within the buffer. */
  check(offset: number, size: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0) {
      throw new ParseError(
        { format: this.format, offset: Math.max(0, offset) || 0, expected: what },
        "bad range",
      );
    }
    if (offset + size > this.bytes.length) {
      throw new ParseError(
        { format: this.format, offset, expected: what },
        `needs ${size} bytes but the input ends at ${this.bytes.length}`,
      );
    }
  }

  u8(offset: number, what: string): number {
    this.check(offset, 1, what);
    return this.bytes[offset];
  }
  u16(offset: number, what: string): number {
    this.check(offset, 2, what);
    return this.view.getUint16(offset, this.littleEndian);
  }
  u32(offset: number, what: string): number {
    this.check(offset, 4, what);
    return this.view.getUint32(offset, this.littleEndian);
  }
  i32(offset: number, what: string): number {
    this.check(offset, 4, what);
    return this.view.getInt32(offset, this.littleEndian);
  }
  u64(offset: number, what: string): bigint {
    this.check(offset, 8, what);
    return this.view.getBigUint64(offset, this.littleEndian);
  }
  i64(offset: number, what: string): bigint {
    this.check(offset, 8, what);
    return this.view.getBigInt64(offset, this.littleEndian);
  }
  /** A u64 that must fit a JavaScript number (offsets, sizes). */
  u64n(offset: number, what: string): number {
    this.check(offset, 8, what);
    const hi = this.view.getUint32(this.littleEndian ? offset + 4 : offset, this.littleEndian);
    const lo = this.view.getUint32(this.littleEndian ? offset : offset + 4, this.littleEndian);
    if (hi <= 0x1fffff) return hi * 0x1_0000_0000 + lo;
    const v = this.u64(offset, what);
    throw new ParseError(
      { format: this.format, offset, expected: what },
      `value 0x${v.toString(16)} is too large`,
    );
  }
  // Unchecked reads for loops over a table whose whole range was checked once with `check()`.
  /** `u16` without a bounds check: only after `check()` covered the range. */
  rawU16(offset: number): number {
    return this.view.getUint16(offset, this.littleEndian);
  }
  /** `u32` without a bounds check: only after `check()` covered the range. */
  rawU32(offset: number): number {
    return this.view.getUint32(offset, this.littleEndian);
  }
  /** A u64 that fits a number, without a bounds check; `-1` when it does not fit. */
  rawU64n(offset: number): number {
    const hi = this.view.getUint32(this.littleEndian ? offset + 4 : offset, this.littleEndian);
    const lo = this.view.getUint32(this.littleEndian ? offset : offset + 4, this.littleEndian);
    return hi <= 0x1fffff ? hi * 0x1_0000_0000 + lo : -1;
  }

  /** A sub-array view (no copy). */
  slice(offset: number, size: number, what: string): Uint8Array {
    this.check(offset, size, what);
    return this.bytes.subarray(offset, offset + size);
  }
}

const decoder = new TextDecoder("utf-8", { fatal: false });
// Only used on tables checked to be pure ASCII, where windows-1252 ("latin1") decodes byte for byte.
const asciiDecoder = new TextDecoder("latin1");
/**
 * Longest name accepted (8 KiB): section names carry uprobe paths (PATH_MAX is 4096), symbols are far
 * shorter (KSYM_NAME_LEN is 512). Bounding it keeps hostile tables (thousands of overlapping megabyte-long
 * names) from costing quadratic time where names are hashed or compared.
 */
export const MAX_NAME_LENGTH = 8 * 1024;

/**
 * A string table (`.strtab`, `.shstrtab`) with bounds-checked, NUL-terminated lookups (cached).
 *
 * @example
 * ```ts
 * const names = new StringTable(sectionData(reader, strtab), strtab.offset, ".strtab");
 * names.get(symbolNameOffset, "name of symbol", 3);
 * ```
 */
export class StringTable {
  private readonly cache = new Map<number, string>();
  /** Sorted positions of every NUL byte, built on first use: the end of any string in O(log n). */
  private nuls: Uint32Array | undefined;
  /** The whole table as one string when it is pure ASCII: names are O(1) slices of it. */
  private text: string | undefined;

  constructor(
    private readonly data: Uint8Array,
    /** File offset of the table, for error messages. */
    private readonly fileOffset: number,
    private readonly tableName: string,
  ) {}

  private index(): Uint32Array {
    if (this.nuls) return this.nuls;
    const data = this.data;
    let count = 0;
    let ascii = true;
    for (let k = 0; k < data.length; k++) {
      const b = data[k];
      if (b === 0) count++;
      else if (b >= 0x80) ascii = false;
    }
    const nuls = new Uint32Array(count);
    for (let k = 0, n = 0; k < data.length; k++) if (data[k] === 0) nuls[n++] = k;
    if (ascii) this.text = asciiDecoder.decode(data);
    this.nuls = nuls;
    return nuls;
  }

  /** The NUL-terminated string at `offset`; `what` (and `index`, if given) name it in errors. */
  get(offset: number, what: string, index?: number): string {
    const cached = this.cache.get(offset);
    if (cached !== undefined) return cached;
    const data = this.data;
    const label = () => (index === undefined ? what : `${what} ${index}`);
    if (offset >= data.length) {
      throw new ParseError(
        {
          format: FORMAT,
          offset: this.fileOffset + offset,
          expected: `${label()}: a string in ${this.tableName}`,
        },
        `string offset ${offset} is past the end of the table (size ${data.length})`,
      );
    }
    // Total work stays linear in the table size whatever the offsets: a binary search for the end, then a
    // slice of the pre-decoded text (ASCII) or a bounded UTF-8 decode.
    const nuls = this.index();
    let lo = 0;
    let hi = nuls.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (nuls[mid] < offset) lo = mid + 1;
      else hi = mid;
    }
    if (lo === nuls.length) {
      throw new ParseError(
        { format: FORMAT, offset: this.fileOffset + offset, expected: `${label()}: a NUL-terminated string` },
        `${this.tableName} ends without a NUL`,
      );
    }
    const end = nuls[lo];
    if (end - offset > MAX_NAME_LENGTH) {
      throw new ParseError(
        {
          format: FORMAT,
          offset: this.fileOffset + offset,
          expected: `${label()}: a name of at most ${MAX_NAME_LENGTH} bytes`,
        },
        `${end - offset} bytes`,
      );
    }
    const s =
      this.text !== undefined ? this.text.slice(offset, end) : decoder.decode(data.subarray(offset, end));
    this.cache.set(offset, s);
    return s;
  }
}

/** The ELF64 file header fields we use. */
export interface ElfHeader {
  byteOrder: ByteOrder;
  type: number;
  machine: number;
  sectionHeaderOffset: number;
  sectionCount: number;
  sectionNameIndex: number;
}

/** A parsed ELF64 file: header, sections, symbols, relocations by target section. */
export interface ElfFile {
  header: ElfHeader;
  reader: ByteReader;
  sections: ElfSection[];
  symbols: ElfSymbol[];
  /** `SHT_REL`/`SHT_RELA` sections grouped by the index of the section they patch (`sh_info`). */
  relocationSections: Map<number, ElfSection[]>;
  /** The relocations patching section `targetIndex` (decoded on first call, then cached). */
  relocations(targetIndex: number): ElfRelocation[];
  /** Index of `.symtab`, or -1. */
  symtabIndex: number;
  /** The symbols defined in one section (excluding `STT_SECTION`/`STT_FILE`), by ascending value. */
  symbolsIn(sectionIndex: number): ElfSymbol[];
}

function fail(offset: number, expected: string, problem?: string): never {
  throw new ParseError({ format: FORMAT, offset, expected }, problem);
}

/** Reads and validates the ELF header. */
export function readElfHeader(input: Uint8Array): { header: ElfHeader; reader: ByteReader } {
  // A plain Uint8Array view: Node's Buffer#slice does not copy, and we rely on slice() copying.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (bytes.length < 16) fail(0, "an ELF identification of 16 bytes", `the input has ${bytes.length} bytes`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    fail(
      0,
      "ELF magic 7f 45 4c 46",
      `got ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ")}`,
    );
  }
  if (bytes[4] !== 2) fail(4, "ELFCLASS64 (2)", `got class ${bytes[4]}`);
  if (bytes[5] !== 1 && bytes[5] !== 2) fail(5, "ELFDATA2LSB (1) or ELFDATA2MSB (2)", `got ${bytes[5]}`);
  if (bytes[6] !== 1) fail(6, "EV_CURRENT (1)", `got version ${bytes[6]}`);
  const le = bytes[5] === 1;
  const r = new ByteReader(bytes, le);
  r.check(0, EHDR_SIZE, "a 64-byte ELF64 header");
  const type = r.u16(16, "e_type");
  const machine = r.u16(18, "e_machine");
  if (machine !== EM_BPF) fail(18, `e_machine EM_BPF (${EM_BPF})`, `got ${machine}`);
  const shoff = r.u64n(40, "e_shoff");
  const shentsize = r.u16(58, "e_shentsize");
  let shnum = r.u16(60, "e_shnum");
  let shstrndx = r.u16(62, "e_shstrndx");
  if (shoff === 0) fail(40, "a section header table (e_shoff != 0)", "e_shoff is 0");
  if (shentsize !== SHDR_SIZE) fail(58, `e_shentsize ${SHDR_SIZE}`, `got ${shentsize}`);
  // Extended numbering: the real counts live in section 0.
  if (shnum === 0) {
    shnum = r.u64n(shoff + 32, "section 0 sh_size (extended section count)");
  }
  if (shstrndx === SHN.XINDEX) shstrndx = r.u32(shoff + 40, "section 0 sh_link (extended shstrndx)");
  // Validate the whole table fits before allocating anything proportional to the count.
  if (shnum > Math.floor((bytes.length - Math.min(shoff, bytes.length)) / SHDR_SIZE)) {
    fail(
      60,
      `a section count that fits the file (${shnum} × ${SHDR_SIZE} bytes at ${shoff})`,
      `the input has ${bytes.length} bytes`,
    );
  }
  r.check(shoff, shnum * SHDR_SIZE, `${shnum} section headers`);
  if (shstrndx >= shnum) fail(62, `e_shstrndx below the section count ${shnum}`, `got ${shstrndx}`);
  return {
    header: {
      byteOrder: le ? "little" : "big",
      type,
      machine,
      sectionHeaderOffset: shoff,
      sectionCount: shnum,
      sectionNameIndex: shstrndx,
    },
    reader: r,
  };
}

function stringTableOf(r: ByteReader, s: ElfSection, what: string): StringTable {
  if (s.type !== SHT.STRTAB)
    fail(s.offset, `${what}: a SHT_STRTAB section`, `section ${s.index} has type ${s.type}`);
  return new StringTable(r.slice(s.offset, s.size, `${what} contents`), s.offset, what);
}

/**
 * Contents of a section (empty for `SHT_NOBITS`): a view into the file bytes, bounds-checked.
 *
 * @example
 * ```ts
 * const elf = readElf(bytes);
 * const license = sectionData(elf.reader, elf.sections.find((s) => s.name === "license")!);
 * ```
 */
export function sectionData(r: ByteReader, s: ElfSection): Uint8Array {
  if (s.type === SHT.NOBITS || s.type === SHT.NULL) return new Uint8Array(0);
  return r.slice(
    s.offset,
    s.size,
    `contents of section ${s.index} "${s.name}" (${s.size} bytes at ${s.offset})`,
  );
}

const BINDINGS: SymbolBinding[] = ["local", "global", "weak"];
const TYPES: SymbolType[] = ["notype", "object", "func", "section", "file"];

/**
 * Parses an ELF64 file: header, section headers with names, `.symtab` with names, and every `SHT_REL` /
 * `SHT_RELA` section.
 *
 * @example
 * ```ts
 * const elf = readElf(bytes);
 * for (const s of elf.sections) console.log(s.index, s.name);
 * ```
 */
export function readElf(bytes: Uint8Array): ElfFile {
  const { header, reader: r } = readElfHeader(bytes);
  const sections: ElfSection[] = new Array(header.sectionCount);
  const nameOffsets: number[] = new Array(header.sectionCount);
  // The whole table was bounds-checked by readElfHeader.
  const big = (o: number, field: string, i: number): number => {
    const v = r.rawU64n(o);
    if (v < 0) return r.u64n(o, `section ${i} ${field}`); // throws with the value
    return v;
  };
  for (let i = 0; i < header.sectionCount; i++) {
    const o = header.sectionHeaderOffset + i * SHDR_SIZE;
    nameOffsets[i] = r.rawU32(o);
    const s: ElfSection = {
      index: i,
      name: "",
      type: r.rawU32(o + 4),
      // Only the low flag bits mean anything for BPF (WRITE, ALLOC, EXECINSTR).
      flags: r.rawU32(r.littleEndian ? o + 8 : o + 12),
      offset: big(o + 24, "sh_offset", i),
      size: big(o + 32, "sh_size", i),
      link: r.rawU32(o + 40),
      info: r.rawU32(o + 44),
      addralign: big(o + 48, "sh_addralign", i),
      entsize: big(o + 56, "sh_entsize", i),
    };
    sections[i] = s;
    if (s.type !== SHT.NOBITS && s.type !== SHT.NULL && s.offset + s.size > r.length) {
      r.check(s.offset, s.size, `section ${i} contents (sh_offset ${s.offset} + sh_size ${s.size})`);
    }
  }
  const shstr = sections[header.sectionNameIndex];
  const names = stringTableOf(r, shstr, "section name table (.shstrtab)");
  for (let i = 0; i < sections.length; i++) {
    sections[i].name = i === 0 && nameOffsets[i] === 0 ? "" : names.get(nameOffsets[i], "name of section", i);
  }

  const symtabIndex = sections.findIndex((s) => s.type === SHT.SYMTAB);
  const symbols = symtabIndex >= 0 ? readSymbols(r, sections, symtabIndex) : [];

  // Relocation section headers are validated now; entries are decoded on first use, since debug sections
  // of a -g object carry tens of thousands of relocations nobody needs.
  const relocationSections = new Map<number, ElfSection[]>();
  for (const s of sections) {
    if (s.type !== SHT.REL && s.type !== SHT.RELA) continue;
    const entsize = s.type === SHT.RELA ? RELA_SIZE : REL_SIZE;
    if (s.size % entsize !== 0) {
      fail(s.offset, `${s.name}: a size that is a multiple of ${entsize}`, `got ${s.size}`);
    }
    if (s.info >= sections.length) {
      fail(
        header.sectionHeaderOffset + s.index * SHDR_SIZE + 44,
        `${s.name}: sh_info naming a section below ${sections.length}`,
        `got ${s.info}`,
      );
    }
    const list = relocationSections.get(s.info);
    if (list) list.push(s);
    else relocationSections.set(s.info, [s]);
  }
  const cache = new Map<number, ElfRelocation[]>();
  const relocations = (targetIndex: number): ElfRelocation[] => {
    let list = cache.get(targetIndex);
    if (list) return list;
    list = [];
    for (const s of relocationSections.get(targetIndex) ?? []) readRelocations(r, s, symbols.length, list);
    cache.set(targetIndex, list);
    return list;
  };
  let bySection: Map<number, ElfSymbol[]> | undefined;
  const symbolsIn = (sectionIndex: number): ElfSymbol[] => {
    if (!bySection) {
      bySection = new Map();
      for (const sym of symbols) {
        if (sym.type === "section" || sym.type === "file" || sym.sectionIndex === SHN.UNDEF) continue;
        const list = bySection.get(sym.sectionIndex);
        if (list) list.push(sym);
        else bySection.set(sym.sectionIndex, [sym]);
      }
      for (const list of bySection.values()) list.sort((a, b) => a.value - b.value || a.index - b.index);
    }
    return bySection.get(sectionIndex) ?? [];
  };
  return { header, reader: r, sections, symbols, relocationSections, relocations, symtabIndex, symbolsIn };
}

function readRelocations(r: ByteReader, s: ElfSection, symbolCount: number, out: ElfRelocation[]): void {
  const rela = s.type === SHT.RELA;
  const entsize = rela ? RELA_SIZE : REL_SIZE;
  const count = s.size / entsize;
  r.check(s.offset, s.size, `${s.name} contents`);
  for (let k = 0; k < count; k++) {
    const o = s.offset + k * entsize;
    // r_info = (symbol << 32) | type: read as two 32-bit halves in the file's byte order.
    const symbolIndex = r.rawU32(r.littleEndian ? o + 12 : o + 8);
    if (symbolIndex >= symbolCount) {
      fail(o + 8, `${s.name} entry ${k}: a symbol index below ${symbolCount}`, `got ${symbolIndex}`);
    }
    let offset = r.rawU64n(o);
    if (offset < 0) offset = r.u64n(o, `${s.name} entry ${k} r_offset`);
    out.push({
      offset,
      symbolIndex,
      type: r.rawU32(r.littleEndian ? o + 8 : o + 12),
      addend: rela ? r.i64(o + 16, `${s.name} entry ${k} r_addend`) : undefined,
    });
  }
}

function readSymbols(r: ByteReader, sections: ElfSection[], symtabIndex: number): ElfSymbol[] {
  const symtab = sections[symtabIndex];
  if (symtab.entsize !== SYM_SIZE)
    fail(symtab.offset, `.symtab sh_entsize ${SYM_SIZE}`, `got ${symtab.entsize}`);
  if (symtab.size % SYM_SIZE !== 0)
    fail(symtab.offset, `.symtab size a multiple of ${SYM_SIZE}`, `got ${symtab.size}`);
  if (symtab.link >= sections.length)
    fail(symtab.offset, `.symtab sh_link naming a section below ${sections.length}`, `got ${symtab.link}`);
  const strings = stringTableOf(r, sections[symtab.link], "symbol name table (.strtab)");
  // Optional SHT_SYMTAB_SHNDX for section indices >= SHN_LORESERVE.
  const shndxSection = sections.find((s) => s.type === SHT.SYMTAB_SHNDX && s.link === symtabIndex);
  const count = symtab.size / SYM_SIZE;
  const out: ElfSymbol[] = new Array(count);
  // The table's range was checked with the section headers.
  r.check(symtab.offset, symtab.size, ".symtab contents");
  if (shndxSection) r.check(shndxSection.offset, count * 4, "SHT_SYMTAB_SHNDX contents");
  for (let i = 0; i < count; i++) {
    const o = symtab.offset + i * SYM_SIZE;
    const info = r.bytes[o + 4];
    let shndx = r.rawU16(o + 6);
    if (shndx === SHN.XINDEX && shndxSection) shndx = r.rawU32(shndxSection.offset + i * 4);
    const type = TYPES[info & 0xf] ?? "other";
    let name = strings.get(r.rawU32(o), "name of symbol", i);
    if (type === "section" && name === "" && shndx < sections.length) name = sections[shndx].name;
    let value = r.rawU64n(o + 8);
    if (value < 0) value = r.u64n(o + 8, `symbol ${i} st_value`);
    let size = r.rawU64n(o + 16);
    if (size < 0) size = r.u64n(o + 16, `symbol ${i} st_size`);
    out[i] = {
      index: i,
      name,
      type,
      binding: BINDINGS[info >> 4] ?? "other",
      visibility: r.bytes[o + 5] & 3,
      sectionIndex: shndx,
      value,
      size,
    };
  }
  return out;
}
