// A minimal ELF64 writer for tests: builds objects no compiler would emit (huge tables, hostile offsets).
export interface SyntheticSection {
  name: string;
  type: number;
  flags?: number;
  data: Uint8Array;
  link?: number;
  info?: number;
  entsize?: number;
  /** For SHT_NOBITS: the size to declare. */
  size?: number;
}

export interface SyntheticSymbol {
  name: number; // offset into .strtab
  info: number;
  shndx: number;
  value?: number;
  size?: number;
}

/** Lays out header, section contents and section headers; section 0 (NULL) is added automatically. */
export function buildElf(sections: SyntheticSection[], littleEndian = true): Uint8Array {
  const all = [{ name: "", type: 0, data: new Uint8Array(0) } as SyntheticSection, ...sections];
  const names: number[] = [];
  const shstr: number[] = [0];
  for (const s of all) {
    names.push(s.name === "" ? 0 : shstr.length);
    if (s.name !== "") shstr.push(...new TextEncoder().encode(s.name), 0);
  }
  const shstrndx = all.length;
  all.push({ name: ".shstrtab", type: 3, data: Uint8Array.from(shstr) });
  names.push(shstr.length);
  const shstrBytes = Uint8Array.from([...shstr, ...new TextEncoder().encode(".shstrtab"), 0]);
  all[shstrndx].data = shstrBytes;

  let offset = 64;
  const offsets: number[] = [];
  for (const s of all) {
    offset = (offset + 7) & ~7;
    offsets.push(offset);
    if (s.type !== 8) offset += s.data.length;
  }
  const shoff = (offset + 7) & ~7;
  const out = new Uint8Array(shoff + all.length * 64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, littleEndian ? 1 : 2, 1]);
  v.setUint16(16, 1, littleEndian); // ET_REL
  v.setUint16(18, 247, littleEndian); // EM_BPF
  v.setUint32(20, 1, littleEndian);
  v.setBigUint64(40, BigInt(shoff), littleEndian);
  v.setUint16(52, 64, littleEndian);
  v.setUint16(58, 64, littleEndian);
  v.setUint16(60, all.length, littleEndian);
  v.setUint16(62, shstrndx, littleEndian);
  all.forEach((s, i) => {
    if (s.type !== 8) out.set(s.data, offsets[i]);
    const h = shoff + i * 64;
    v.setUint32(h, names[i], littleEndian);
    v.setUint32(h + 4, s.type, littleEndian);
    v.setBigUint64(h + 8, BigInt(s.flags ?? 0), littleEndian);
    v.setBigUint64(h + 24, BigInt(i === 0 ? 0 : offsets[i]), littleEndian);
    v.setBigUint64(h + 32, BigInt(s.type === 8 ? (s.size ?? 0) : s.data.length), littleEndian);
    v.setUint32(h + 40, s.link ?? 0, littleEndian);
    v.setUint32(h + 44, s.info ?? 0, littleEndian);
    v.setBigUint64(h + 48, 8n, littleEndian);
    v.setBigUint64(h + 56, BigInt(s.entsize ?? 0), littleEndian);
  });
  return out;
}

/** Encodes `.symtab` entries (the null symbol 0 is prepended). */
export function symtab(symbols: SyntheticSymbol[], littleEndian = true): Uint8Array {
  const out = new Uint8Array((symbols.length + 1) * 24);
  const v = new DataView(out.buffer);
  symbols.forEach((s, k) => {
    const o = (k + 1) * 24;
    v.setUint32(o, s.name, littleEndian);
    out[o + 4] = s.info;
    v.setUint16(o + 6, s.shndx, littleEndian);
    v.setBigUint64(o + 8, BigInt(s.value ?? 0), littleEndian);
    v.setBigUint64(o + 16, BigInt(s.size ?? 0), littleEndian);
  });
  return out;
}
