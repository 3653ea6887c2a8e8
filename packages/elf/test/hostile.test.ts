// Hostile but well-formed-looking inputs built by hand: huge tables and overlapping names must stay fast
// (linear or n·log n), and limits must be reported as ParseErrors.
import { describe, expect, it } from "vitest";
import { MAX_NAME_LENGTH, ParseError, parseBpfObject } from "../src/index.js";
import { buildElf, symtab } from "./helpers/synthetic-elf.js";

const STB_GLOBAL = 1 << 4;
const STT_OBJECT = 1;
const STT_FUNC = 2;

function timed<T>(fn: () => T): [T | unknown, number] {
  const t0 = performance.now();
  try {
    return [fn(), performance.now() - t0];
  } catch (e) {
    return [e, performance.now() - t0];
  }
}

describe("hostile inputs", () => {
  it("100k symbols whose names overlap in one long string: linear time", () => {
    const n = 100_000;
    const strtab = new Uint8Array(n + 4000).fill(0x61);
    strtab[0] = 0;
    strtab[strtab.length - 1] = 0;
    // Symbol k starts at k + 1: names of ~4000 + (n - k) bytes would be quadratic to build and hash.
    const syms = Array.from({ length: n }, (_, k) => ({
      name: n - k,
      info: STB_GLOBAL | STT_OBJECT,
      shndx: 0,
    }));
    const bytes = buildElf([
      { name: ".strtab", type: 3, data: strtab },
      { name: ".symtab", type: 2, data: symtab(syms), link: 1, entsize: 24 },
    ]);
    const [result, ms] = timed(() => parseBpfObject(bytes));
    // Names longer than MAX_NAME_LENGTH are refused; the first long one stops the parse quickly.
    expect(result).toBeInstanceOf(ParseError);
    expect((result as ParseError).expected).toContain(`at most ${MAX_NAME_LENGTH} bytes`);
    expect(ms).toBeLessThan(2000);
  });

  it("100k externs with distinct, overlapping names of up to 2000 bytes: parses quickly", () => {
    const n = 100_000;
    const nameLength = 2000;
    // A run of "b" with a NUL every nameLength bytes; symbol k names the suffix starting at k + 1.
    const table = new Uint8Array(n + nameLength + 2).fill(0x62);
    table[0] = 0;
    table[table.length - 1] = 0;
    for (let k = nameLength + 1; k < table.length - 1; k += nameLength) table[k] = 0;
    const syms = Array.from({ length: n }, (_, k) => ({
      name: k + 1,
      info: STB_GLOBAL | STT_OBJECT,
      shndx: 0,
    }));
    const bytes = buildElf([
      { name: ".strtab", type: 3, data: table },
      { name: ".symtab", type: 2, data: symtab(syms), link: 1, entsize: 24 },
    ]);
    const [result, ms] = timed(() => parseBpfObject(bytes));
    if (result instanceof Error) throw result;
    expect((result as ReturnType<typeof parseBpfObject>).externs.length).toBeGreaterThan(1000);
    expect(ms).toBeLessThan(5000);
  });

  it("thousands of legacy map sections and functions: no quadratic scan", () => {
    const sections = [];
    const syms = [];
    const strtab = [0];
    const name = (s: string) => {
      const at = strtab.length;
      strtab.push(...new TextEncoder().encode(s), 0);
      return at;
    };
    const count = 3000;
    for (let k = 0; k < count; k++) {
      sections.push({ name: `maps/m${k}`, type: 1, flags: 3, data: new Uint8Array(20).fill(1) });
      syms.push({ name: name(`map${k}`), info: STB_GLOBAL | STT_OBJECT, shndx: k + 1, size: 20 });
    }
    const prog = new Uint8Array(16 * count);
    for (let k = 0; k < count; k++) {
      prog[16 * k] = 0xb7; // r0 = 0
      prog[16 * k + 8] = 0x95; // exit
      syms.push({
        name: name(`prog${k}`),
        info: STB_GLOBAL | STT_FUNC,
        shndx: count + 1,
        value: 16 * k,
        size: 16,
      });
    }
    sections.push({ name: "xdp", type: 1, flags: 6, data: prog });
    const strIndex = sections.length + 1;
    sections.push({ name: ".strtab", type: 3, data: Uint8Array.from(strtab) });
    sections.push({ name: ".symtab", type: 2, data: symtab(syms), link: strIndex, entsize: 24 });
    const bytes = buildElf(sections);
    const [result, ms] = timed(() => parseBpfObject(bytes));
    if (result instanceof Error) throw result;
    const spec = result as ReturnType<typeof parseBpfObject>;
    expect(spec.maps.length).toBe(count);
    expect(spec.programs.length).toBe(count);
    expect(spec.programs[0]).toMatchObject({ name: "prog0", type: "BPF_PROG_TYPE_XDP", size: 16 });
    expect(ms).toBeLessThan(5000);
  });
});
