// A tiny instruction assembler for tests: just enough to build programs without an ELF.
export function insn(code: number, dst: number, src: number, off: number, imm: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint8(0, code);
  v.setUint8(1, ((src & 0xf) << 4) | (dst & 0xf));
  v.setInt16(2, off, true);
  v.setInt32(4, imm, true);
  return b;
}
export const movImm = (dst: number, imm: number) => insn(0xb7, dst, 0, 0, imm);
export const exit = () => insn(0x95, 0, 0, 0, 0);
export const call = (helper: number) => insn(0x85, 0, 0, 0, helper);
/** ld_imm64 dst, map fd (BPF_PSEUDO_MAP_FD) — two instructions. */
export const ldMapFd = (dst: number, fd: number) => concat(insn(0x18, dst, 1, 0, fd), insn(0, 0, 0, 0, 0));
/** *(u32 *)(r10 + off) = imm */
export const stW = (off: number, imm: number) => insn(0x62, 10, 0, off, imm);
export const movReg = (dst: number, src: number) => insn(0xbf, dst, src, 0, 0);
export const addImm = (dst: number, imm: number) => insn(0x07, dst, 0, 0, imm);
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
/** `return imm;` */
export const returnImm = (imm: number) => concat(movImm(0, imm), exit());
