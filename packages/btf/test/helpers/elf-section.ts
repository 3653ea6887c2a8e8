// A tiny ELF64 section lookup for tests only (the real ELF reader lives in @ebpf/elf).
export function elfSection(file: Uint8Array, name: string): Uint8Array | undefined {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (dv.getUint32(0) !== 0x7f454c46) throw new Error("not ELF");
  const le = file[5] === 1;
  const shoff = Number(dv.getBigUint64(0x28, le));
  const shentsize = dv.getUint16(0x3a, le);
  const shnum = dv.getUint16(0x3c, le);
  const shstrndx = dv.getUint16(0x3e, le);
  const sh = (i: number) => {
    const o = shoff + i * shentsize;
    return {
      name: dv.getUint32(o, le),
      offset: Number(dv.getBigUint64(o + 0x18, le)),
      size: Number(dv.getBigUint64(o + 0x20, le)),
    };
  };
  const strtab = sh(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = sh(i);
    let end = strtab.offset + s.name;
    while (file[end] !== 0) end++;
    const n = new TextDecoder().decode(file.subarray(strtab.offset + s.name, end));
    if (n === name) return file.subarray(s.offset, s.offset + s.size);
  }
  return undefined;
}
