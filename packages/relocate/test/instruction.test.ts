import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readElf, sectionData } from "@ebpf/elf";
import { objectDir } from "@ebpf/test-programs";
import { describe, expect, it } from "vitest";
import {
  type ByteOrder,
  constant,
  decodeInstructions,
  disassemble,
  encodeInstructions,
  formatInstruction,
  type Instruction,
  ldImm64,
  ParseError,
} from "../src/index.js";

/** Build one 8-byte slot, little-endian. */
function slot(code: number, dst: number, src: number, off: number, imm: number): number[] {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  b[0] = code;
  b[1] = (src << 4) | dst;
  v.setInt16(2, off, true);
  v.setInt32(4, imm, true);
  return [...b];
}

// Every instruction form of the ISA with the text the kernel's disassembler prints for it.
const CASES: [number[], string][] = [
  [slot(0xb7, 1, 0, 0, 0), "(b7) r1 = 0"],
  [slot(0xb4, 1, 0, 0, -5), "(b4) w1 = -5"],
  [slot(0xbf, 2, 10, 0, 0), "(bf) r2 = r10"],
  [slot(0xbc, 2, 3, 0, 0), "(bc) w2 = w3"],
  [slot(0xbf, 2, 3, 8, 0), "(bf) r2 = (s8)r3"],
  [slot(0xbf, 2, 3, 16, 0), "(bf) r2 = (s16)r3"],
  [slot(0xbf, 2, 3, 32, 0), "(bf) r2 = (s32)r3"],
  [slot(0xbc, 2, 3, 8, 0), "(bc) w2 = (s8)w3"],
  [slot(0x07, 2, 0, 0, -4), "(07) r2 += -4"],
  [slot(0x0f, 2, 3, 0, 0), "(0f) r2 += r3"],
  [slot(0x17, 2, 0, 0, 1), "(17) r2 -= 1"],
  [slot(0x27, 2, 0, 0, 3), "(27) r2 *= 3"],
  [slot(0x37, 2, 0, 0, 3), "(37) r2 /= 3"],
  [slot(0x37, 2, 0, 1, 3), "(37) r2 s/= 3"],
  [slot(0x3f, 2, 4, 1, 0), "(3f) r2 s/= r4"],
  [slot(0x97, 2, 0, 0, 3), "(97) r2 %= 3"],
  [slot(0x97, 2, 0, 1, 3), "(97) r2 s%= 3"],
  [slot(0x9c, 2, 4, 1, 0), "(9c) w2 s%= w4"],
  [slot(0x47, 2, 0, 0, 8), "(47) r2 |= 8"],
  [slot(0x57, 2, 0, 0, 255), "(57) r2 &= 255"],
  [slot(0x67, 2, 0, 0, 32), "(67) r2 <<= 32"],
  [slot(0x77, 2, 0, 0, 32), "(77) r2 >>= 32"],
  [slot(0xc7, 2, 0, 0, 32), "(c7) r2 s>>= 32"],
  [slot(0xa7, 2, 0, 0, 1), "(a7) r2 ^= 1"],
  [slot(0x87, 2, 0, 0, 0), "(87) r2 = -r2"],
  [slot(0x84, 2, 0, 0, 0), "(84) w2 = -w2"],
  [slot(0xd4, 2, 0, 0, 16), "(d4) r2 = le16 r2"],
  [slot(0xdc, 2, 0, 0, 32), "(dc) r2 = be32 r2"],
  [slot(0xd7, 2, 0, 0, 64), "(d7) r2 = bswap64 r2"],
  [slot(0x61, 1, 2, 4, 0), "(61) r1 = *(u32 *)(r2 +4)"],
  [slot(0x79, 1, 10, -8, 0), "(79) r1 = *(u64 *)(r10 -8)"],
  [slot(0x71, 1, 2, 0, 0), "(71) r1 = *(u8 *)(r2 +0)"],
  [slot(0x69, 1, 2, 2, 0), "(69) r1 = *(u16 *)(r2 +2)"],
  [slot(0x91, 1, 2, 0, 0), "(91) r1 = *(s8 *)(r2 +0)"],
  [slot(0x89, 1, 2, 0, 0), "(89) r1 = *(s16 *)(r2 +0)"],
  [slot(0x81, 1, 2, 0, 0), "(81) r1 = *(s32 *)(r2 +0)"],
  [slot(0x63, 10, 1, -4, 0), "(63) *(u32 *)(r10 -4) = r1"],
  [slot(0x7b, 10, 1, -16, 0), "(7b) *(u64 *)(r10 -16) = r1"],
  [slot(0x62, 10, 0, -4, 7), "(62) *(u32 *)(r10 -4) = 7"],
  [slot(0x72, 10, 0, -1, -1), "(72) *(u8 *)(r10 -1) = -1"],
  [slot(0xdb, 0, 6, 0, 0x00), "(db) lock *(u64 *)(r0 +0) += r6"],
  [slot(0xc3, 0, 6, 8, 0x40), "(c3) lock *(u32 *)(r0 +8) |= r6"],
  [slot(0xdb, 0, 6, 0, 0x50), "(db) lock *(u64 *)(r0 +0) &= r6"],
  [slot(0xdb, 0, 6, 0, 0xa0), "(db) lock *(u64 *)(r0 +0) ^= r6"],
  [slot(0xdb, 0, 6, 0, 0x01), "(db) r6 = atomic64_fetch_add((u64 *)(r0 +0), r6)"],
  [slot(0xc3, 0, 6, 0, 0x41), "(c3) r6 = atomic_fetch_or((u32 *)(r0 +0), r6)"],
  [slot(0xdb, 0, 6, 0, 0x51), "(db) r6 = atomic64_fetch_and((u64 *)(r0 +0), r6)"],
  [slot(0xdb, 0, 6, 0, 0xa1), "(db) r6 = atomic64_fetch_xor((u64 *)(r0 +0), r6)"],
  [slot(0xdb, 1, 6, 0, 0xe1), "(db) r6 = atomic64_xchg((u64 *)(r1 +0), r6)"],
  [slot(0xc3, 1, 6, -8, 0xf1), "(c3) r0 = atomic_cmpxchg((u32 *)(r1 -8), r0, r6)"],
  [slot(0x30, 0, 0, 0, 12), "(30) r0 = *(u8 *)skb[12]"],
  [slot(0x48, 0, 3, 0, 2), "(48) r0 = *(u16 *)skb[r3 + 2]"],
  [[...slot(0x18, 1, 0, 0, 0x12345678), ...slot(0, 0, 0, 0, 1)], "(18) r1 = 0x112345678"],
  [[...slot(0x18, 1, 1, 0, 5), ...slot(0, 0, 0, 0, 0)], "(18) r1 = map[id:5]"],
  [[...slot(0x18, 1, 2, 0, 5), ...slot(0, 0, 0, 0, 16)], "(18) r1 = map[id:5][0]+16"],
  [[...slot(0x18, 1, 5, 0, 2), ...slot(0, 0, 0, 0, 0)], "(18) r1 = map[idx:2]"],
  [[...slot(0x18, 1, 6, 0, 2), ...slot(0, 0, 0, 0, 8)], "(18) r1 = map[idx:2]+8"],
  [[...slot(0x18, 2, 4, 0, 7), ...slot(0, 0, 0, 0, 0)], "(18) r2 = subprog[+7]"],
  [[...slot(0x18, 1, 3, 0, 1234), ...slot(0, 0, 0, 0, 0)], "(18) r1 = 0x4d2"],
  [slot(0x85, 0, 0, 0, 1), "(85) call bpf_map_lookup_elem#1"],
  [slot(0x85, 0, 0, 0, 181), "(85) call bpf_loop#181"],
  [slot(0x85, 0, 1, 0, 5), "(85) call pc+5"],
  [slot(0x85, 0, 2, 0, 4242), "(85) call kernel-function#4242"],
  [slot(0x95, 0, 0, 0, 0), "(95) exit"],
  [slot(0x05, 0, 0, -3, 0), "(05) goto pc-3"],
  [slot(0x06, 0, 0, 0, 70000), "(06) gotol pc+70000"],
  [slot(0xe5, 0, 0, 4, 0), "(e5) may_goto pc+4"],
  [slot(0x15, 0, 0, 3, 0), "(15) if r0 == 0x0 goto pc+3"],
  [slot(0x55, 1, 0, -2, -1), "(55) if r1 != 0xffffffff goto pc-2"],
  [slot(0x2d, 1, 2, 1, 0), "(2d) if r1 > r2 goto pc+1"],
  [slot(0x3d, 1, 2, 1, 0), "(3d) if r1 >= r2 goto pc+1"],
  [slot(0xad, 1, 2, 1, 0), "(ad) if r1 < r2 goto pc+1"],
  [slot(0xbd, 1, 2, 1, 0), "(bd) if r1 <= r2 goto pc+1"],
  [slot(0x4d, 1, 2, 1, 0), "(4d) if r1 & r2 goto pc+1"],
  [slot(0x6d, 1, 2, 1, 0), "(6d) if r1 s> r2 goto pc+1"],
  [slot(0x7d, 1, 2, 1, 0), "(7d) if r1 s>= r2 goto pc+1"],
  [slot(0xcd, 1, 2, 1, 0), "(cd) if r1 s< r2 goto pc+1"],
  [slot(0xdd, 1, 2, 1, 0), "(dd) if r1 s<= r2 goto pc+1"],
  [slot(0x16, 1, 0, 1, 7), "(16) if w1 == 0x7 goto pc+1"],
  [slot(0x5e, 1, 2, 1, 0), "(5e) if w1 != w2 goto pc+1"],
];

function swapToBig(bytes: number[]): Uint8Array {
  // Re-encode each slot big-endian: swap multi-byte fields and the register nibbles.
  const out = new Uint8Array(bytes.length);
  for (let o = 0; o < bytes.length; o += 8) {
    out[o] = bytes[o];
    out[o + 1] = ((bytes[o + 1] & 0xf) << 4) | (bytes[o + 1] >> 4);
    out[o + 2] = bytes[o + 3];
    out[o + 3] = bytes[o + 2];
    for (let k = 0; k < 4; k++) out[o + 4 + k] = bytes[o + 7 - k];
  }
  return out;
}

describe("instruction codec", () => {
  it.each(CASES)("%j decodes, prints and re-encodes", (bytes, text) => {
    const le = Uint8Array.from(bytes);
    const [insn, ...rest] = decodeInstructions(le, "little");
    expect(rest).toHaveLength(0);
    expect(formatInstruction(insn)).toBe(text);
    expect(encodeInstructions([insn], "little")).toEqual(le);
    const be = swapToBig(bytes);
    const [insnBe] = decodeInstructions(be, "big");
    expect(insnBe).toEqual(insn);
    expect(encodeInstructions([insnBe], "big")).toEqual(be);
  });

  it("reads the 64-bit constant of ld_imm64", () => {
    const i = ldImm64(3, 0xfedcba9876543210n);
    expect(constant(i)).toBe(0xfedcba9876543210n);
    expect(decodeInstructions(encodeInstructions([i]))[0]).toEqual(i);
    expect(constant(ldImm64(0, -1n))).toBe(0xffffffffffffffffn);
  });

  it("rejects truncated and malformed input with ParseError", () => {
    expect(() => decodeInstructions(new Uint8Array(7))).toThrow(ParseError);
    expect(() => decodeInstructions(Uint8Array.from(slot(0x18, 1, 0, 0, 0)))).toThrow(/second half/);
    const bad = Uint8Array.from([...slot(0x18, 1, 0, 0, 0), ...slot(0xb7, 0, 0, 0, 0)]);
    expect(() => decodeInstructions(bad)).toThrow(ParseError);
  });

  it("disassembles with slot indexes like bpftool", () => {
    const insns: Instruction[] = decodeInstructions(
      Uint8Array.from([...slot(0x18, 1, 1, 0, 5), ...slot(0, 0, 0, 0, 0), ...slot(0x95, 0, 0, 0, 0)]),
    );
    insns[0].symbol = "prog";
    insns[0].line = { fileName: "a.c", line: "return 0;", lineNumber: 3, column: 2 };
    expect(disassemble(insns)).toBe("prog:\n; return 0;\n   0: (18) r1 = map[id:5]\n   2: (95) exit");
  });
});

// Every code section of every compiled test object, both byte orders: our decoder agrees with
// llvm-objdump on instruction boundaries and raw bytes, and re-encodes byte-identically.
const llvmObjdump = (() => {
  try {
    execFileSync("llvm-objdump", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Per executable section: the raw bytes of each instruction as llvm-objdump prints them (one call per file). */
function objdumpSlots(path: string): Map<string, string[]> {
  const text = execFileSync("llvm-objdump", ["-d", path], { encoding: "utf8", maxBuffer: 64 << 20 });
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split("\n")) {
    const sec = /^Disassembly of section (.*):$/.exec(line);
    if (sec) {
      current = [];
      out.set(sec[1], current);
      continue;
    }
    const m = /^\s*[0-9a-f]+:\s+((?:[0-9a-f]{2} ){7}[0-9a-f]{2}(?: [0-9a-f]{2}){0,8})\t/.exec(line);
    if (m && current) current.push(m[1].trim());
  }
  return out;
}

describe.runIf(llvmObjdump)("decode every test object", () => {
  for (const [endian, order] of [
    ["el", "little"],
    ["eb", "big"],
  ] as ["el" | "eb", ByteOrder][]) {
    const dir = objectDir(endian);
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".bpf.o"))) {
      it(`${endian}/${file}`, () => {
        const path = join(dir, file);
        const elf = readElf(new Uint8Array(readFileSync(path)));
        const expected = objdumpSlots(path);
        let total = 0;
        for (const section of elf.sections) {
          if ((section.flags & 4) === 0 || section.size === 0) continue; // SHF_EXECINSTR
          const bytes = sectionData(elf.reader, section);
          const insns = decodeInstructions(bytes, order);
          expect(encodeInstructions(insns, order)).toEqual(bytes);
          let off = 0;
          const ours = insns.map((i) => {
            const n = i.opcode === 0x18 ? 16 : 8;
            const hex = [...bytes.subarray(off, off + n)]
              .map((b) => b.toString(16).padStart(2, "0"))
              .join(" ");
            off += n;
            return hex;
          });
          expect(ours).toEqual(expected.get(section.name));
          for (const i of insns) expect(formatInstruction(i)).not.toMatch(/BUG/);
          total += insns.length;
        }
        // Objects with code must have decoded some; data-only objects have nothing to check.
        if (elf.sections.some((x) => (x.flags & 4) !== 0 && x.size > 0)) expect(total).toBeGreaterThan(0);
      });
    }
  }
});
