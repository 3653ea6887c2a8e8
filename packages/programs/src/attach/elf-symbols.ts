/**
 * Symbol lookup in native ELF64 binaries and shared libraries for uprobes: `.symtab` then `.dynsym`, and
 * the translation of a symbol's virtual address to the file offset uprobes take.
 */
import { readFileSync } from "node:fs";
import { AttachError } from "../errors.js";

interface Shdr {
  type: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

interface Phdr {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const PT_LOAD = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

/** A function symbol of a binary. */
export interface ElfFunctionSymbol {
  name: string;
  /** Virtual address (st_value). */
  address: number;
  size: number;
  /** File offset: what a uprobe is placed at. */
  offset: number;
}

/** Reads the function symbols of a native ELF64 file (little- or big-endian). */
export function readFunctionSymbols(path: string): ElfFunctionSymbol[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new AttachError(`cannot read ${path}`, { code: "ERR_EBPF_ATTACH_TARGET", cause });
  }
  const bad = (why: string) => new AttachError(`${path}: ${why}`, { code: "ERR_EBPF_ATTACH_TARGET" });
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
    throw bad("not an ELF file");
  if (bytes[4] !== 2) throw bad("not a 64-bit ELF file");
  const le = bytes[5] === 1;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => v.getUint16(o, le);
  const u32 = (o: number) => v.getUint32(o, le);
  const u64 = (o: number) => Number(v.getBigUint64(o, le));
  const inside = (o: number, n: number) => o >= 0 && n >= 0 && o + n <= bytes.length;

  const phoff = u64(32);
  const shoff = u64(40);
  const phnum = u16(56);
  const shnum = u16(60);
  if (!inside(phoff, phnum * 56) || !inside(shoff, shnum * 64)) throw bad("truncated headers");
  const phdrs: Phdr[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * 56;
    phdrs.push({ type: u32(o), offset: u64(o + 8), vaddr: u64(o + 16), filesz: u64(o + 32) });
  }
  const shdrs: Shdr[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * 64;
    shdrs.push({
      type: u32(o + 4),
      offset: u64(o + 24),
      size: u64(o + 32),
      link: u32(o + 40),
      entsize: u64(o + 56),
    });
  }
  const toOffset = (addr: number): number => {
    const seg = phdrs.find((p) => p.type === PT_LOAD && addr >= p.vaddr && addr < p.vaddr + p.filesz);
    return seg ? addr - seg.vaddr + seg.offset : addr;
  };
  const out: ElfFunctionSymbol[] = [];
  const seen = new Set<string>();
  for (const type of [SHT_SYMTAB, SHT_DYNSYM]) {
    for (const s of shdrs.filter((h) => h.type === type)) {
      const strtab = shdrs[s.link];
      if (!strtab || !inside(s.offset, s.size) || !inside(strtab.offset, strtab.size)) continue;
      const n = Math.floor(s.size / (s.entsize || 24));
      for (let i = 1; i < n; i++) {
        const o = s.offset + i * 24;
        const info = bytes[o + 4];
        const stt = info & 0xf;
        const shndx = u16(o + 6);
        const value = u64(o + 8);
        if ((stt !== STT_FUNC && stt !== STT_GNU_IFUNC) || shndx === 0 || value === 0) continue;
        const nameOff = strtab.offset + u32(o);
        let end = nameOff;
        while (end < strtab.offset + strtab.size && bytes[end] !== 0) end++;
        const name = new TextDecoder().decode(bytes.subarray(nameOff, end));
        // Versioned dynamic names ("memcpy@@GLIBC_2.14") are looked up without the version too.
        const plain = name.split("@")[0];
        if (seen.has(plain)) continue;
        seen.add(plain);
        out.push({
          name: plain,
          address: value,
          size: Number(v.getBigUint64(o + 16, le)),
          offset: toOffset(value),
        });
      }
    }
  }
  return out;
}

/** The file offset of function `symbol` in `path` (plus `offset` bytes into it). */
export function symbolOffset(path: string, symbol: string, offset = 0): number {
  const sym = readFunctionSymbols(path).find((s) => s.name === symbol);
  if (!sym)
    throw new AttachError(`no function symbol "${symbol}" in ${path} (.symtab/.dynsym)`, {
      code: "ERR_EBPF_ATTACH_TARGET",
    });
  return sym.offset + offset;
}
