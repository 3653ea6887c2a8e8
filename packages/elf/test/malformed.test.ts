// Malformed inputs give a typed ParseError naming the offset and what was expected: never a RangeError,
// a TypeError, a crash or a hang.
import { readFileSync } from "node:fs";
import { ParseError } from "@ebpf/errors";
import { objectPath } from "@ebpf/test-programs";
import { describe, expect, it } from "vitest";
import { parseBpfObject, readElf } from "../src/index.js";

const EHDR = { shoff: 40, shentsize: 58, shnum: 60, shstrndx: 62 };

function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw new Error(`expected a ParseError, got ${(e as Error)?.name}: ${(e as Error)?.message}`, {
      cause: e,
    });
  }
  throw new Error("expected a ParseError, parsing succeeded");
}

/** Either parses or throws ParseError; anything else fails the test. */
function parsesOrParseError(bytes: Uint8Array): "ok" | "parse-error" {
  try {
    parseBpfObject(bytes);
    return "ok";
  } catch (e) {
    if (e instanceof ParseError) {
      expect(e.code).toBe("ERR_EBPF_PARSE");
      expect(Number.isInteger(e.offset) && e.offset >= 0).toBe(true);
      expect(e.expected.length).toBeGreaterThan(0);
      return "parse-error";
    }
    throw e;
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.each(["el", "eb"] as const)("%s", (endian) => {
  const le = endian === "el";
  const original = new Uint8Array(readFileSync(objectPath("elf_btf_maps", endian)));
  const copy = () => original.slice();
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const elf = readElf(original);
  const shoff = Number(view(original).getBigUint64(EHDR.shoff, le));
  const shdr = (index: number) => shoff + index * 64;

  it("rejects bad magic, class, data encoding, version and machine", () => {
    const cases: [number, number, string][] = [
      [0, 0x00, "ELF magic"],
      [4, 1, "ELFCLASS64"],
      [5, 3, "ELFDATA2LSB"],
      [6, 0, "EV_CURRENT"],
    ];
    for (const [at, value, expected] of cases) {
      const b = copy();
      b[at] = value;
      const e = parseError(() => parseBpfObject(b));
      expect(e.offset).toBe(at);
      expect(e.expected).toContain(expected);
      expect(e.message).toMatch(/^ELF: at offset \d+/);
    }
    const b = copy();
    view(b).setUint16(18, 62, le); // EM_X86_64
    const e = parseError(() => parseBpfObject(b));
    expect([e.offset, e.expected]).toEqual([18, "e_machine EM_BPF (247)"]);
  });

  it("rejects empty and tiny inputs", () => {
    expect(parseError(() => parseBpfObject(new Uint8Array(0))).offset).toBe(0);
    expect(parseError(() => parseBpfObject(original.subarray(0, 20))).expected).toContain(
      "64-byte ELF64 header",
    );
  });

  it("rejects a section header table past the end", () => {
    const b = copy();
    view(b).setBigUint64(EHDR.shoff, BigInt(b.length - 10), le);
    expect(parseError(() => parseBpfObject(b)).expected).toContain("section");
    const huge = copy();
    view(huge).setBigUint64(EHDR.shoff, 0xffff_ffff_ffff_fff0n, le);
    expect(parseError(() => parseBpfObject(huge)).offset).toBe(EHDR.shoff);
  });

  it("rejects an absurd section count before allocating", () => {
    const b = copy();
    view(b).setUint16(EHDR.shnum, 0xfffe, le);
    const e = parseError(() => parseBpfObject(b));
    expect(e.offset).toBe(EHDR.shnum);
    expect(e.expected).toContain("section count that fits the file");
    // Extended numbering: count in section 0's sh_size.
    const x = copy();
    view(x).setUint16(EHDR.shnum, 0, le);
    view(x).setBigUint64(shdr(0) + 32, 1n << 40n, le);
    expect(parseError(() => parseBpfObject(x)).expected).toContain("section count");
  });

  it("rejects a bad e_shstrndx and e_shentsize", () => {
    const b = copy();
    view(b).setUint16(EHDR.shstrndx, elf.sections.length + 3, le);
    expect(parseError(() => parseBpfObject(b)).offset).toBe(EHDR.shstrndx);
    const c = copy();
    view(c).setUint16(EHDR.shentsize, 40, le);
    expect(parseError(() => parseBpfObject(c)).offset).toBe(EHDR.shentsize);
  });

  it("rejects a section whose contents run past the end", () => {
    const text = elf.sections.find((s) => s.name === "tc");
    if (!text) throw new Error("no tc section");
    const b = copy();
    view(b).setBigUint64(shdr(text.index) + 32, BigInt(b.length), le); // sh_size
    const e = parseError(() => parseBpfObject(b));
    expect(e.offset).toBe(text.offset);
    expect(e.expected).toContain(`section ${text.index} contents`);
    const c = copy();
    view(c).setBigUint64(shdr(text.index) + 24, 1n << 60n, le); // sh_offset
    expect(parseError(() => parseBpfObject(c)).message).toMatch(/ELF: at offset/);
  });

  it("rejects section-name and symbol-name offsets out of range", () => {
    const b = copy();
    view(b).setUint32(shdr(3), 0x7fff_0000, le); // sh_name of section 3
    const e = parseError(() => parseBpfObject(b));
    expect(e.expected).toContain("name of section 3");
    expect(e.message).toContain("past the end of the table");

    const symtab = elf.sections[elf.symtabIndex];
    const c = copy();
    view(c).setUint32(symtab.offset + 24 * 2, 0xffff_fff0, le); // st_name of symbol 2
    expect(parseError(() => parseBpfObject(c)).expected).toContain("name of symbol 2");
  });

  it("rejects a string table without a terminating NUL", () => {
    const strtab = elf.sections[elf.sections[elf.symtabIndex].link];
    const b = copy();
    b.fill(0x41, strtab.offset, strtab.offset + strtab.size);
    expect(parseError(() => parseBpfObject(b)).expected).toMatch(/string/);
  });

  it("rejects relocations naming a symbol that does not exist", () => {
    const rel = elf.sections.find((s) => s.name === ".reltc");
    if (!rel) throw new Error("no .reltc");
    const b = copy();
    view(b).setBigUint64(rel.offset + 8, (0xfffffn << 32n) | 1n, le);
    const e = parseError(() => parseBpfObject(b));
    expect(e.offset).toBe(rel.offset + 8);
    expect(e.expected).toContain("symbol index below");
  });

  it("rejects a relocation outside every function", () => {
    const rel = elf.sections.find((s) => s.name === ".reltc");
    if (!rel) throw new Error("no .reltc");
    const b = copy();
    view(b).setBigUint64(rel.offset, 0x10_0000n, le);
    expect(parseError(() => parseBpfObject(b)).expected).toContain("relocation inside a function");
  });

  it("rejects a relocation that is not on an instruction boundary", () => {
    const rel = elf.sections.find((s) => s.name === ".reltc");
    if (!rel) throw new Error("no .reltc");
    const b = copy();
    const first = Number(view(b).getBigUint64(rel.offset, le));
    view(b).setBigUint64(rel.offset, BigInt(first + 4), le);
    const e = parseError(() => parseBpfObject(b));
    expect(e.expected).toContain("instruction boundary");
  });

  it("rejects a function symbol overrunning its section", () => {
    const symtab = elf.sections[elf.symtabIndex];
    const entry = elf.symbols.find((s) => s.name === "entry");
    if (!entry) throw new Error("no entry symbol");
    const b = copy();
    view(b).setBigUint64(symtab.offset + 24 * entry.index + 16, 0x1000n, le); // st_size
    const e = parseError(() => parseBpfObject(b));
    expect(e.offset).toBe(symtab.offset + 24 * entry.index);
    expect(e.expected).toContain('function "entry"');
  });

  it("bounds the size of .bss (no file bytes back it)", () => {
    const data = new Uint8Array(readFileSync(objectPath("elf_data", endian)));
    const dataElf = readElf(data);
    const bss = dataElf.sections.find((s) => s.name === ".bss");
    if (!bss) throw new Error("no .bss");
    const at = dataElf.header.sectionHeaderOffset + bss.index * 64 + 32;
    view(data).setBigUint64(at, 1n << 40n, le);
    const e = parseError(() => parseBpfObject(data));
    expect(e.offset).toBe(at);
    expect(e.expected).toContain('sh_size of ".bss" at most');
  });

  it("reports a corrupt .BTF as a ParseError at its file offset", () => {
    const btf = elf.sections.find((s) => s.name === ".BTF");
    if (!btf) throw new Error("no .BTF");
    const b = copy();
    b[btf.offset] = 0;
    b[btf.offset + 1] = 0;
    const e = parseError(() => parseBpfObject(b));
    expect(e.offset).toBe(btf.offset);
    expect(e.expected).toContain(".BTF");
  });

  it("every truncation gives a ParseError", () => {
    // Every length up to the section headers' end would be slow; sample densely near the structures.
    const lengths = new Set<number>();
    for (let n = 0; n < 256; n++) lengths.add(n);
    for (let n = 0; n < original.length; n += 97) lengths.add(n);
    for (let n = shoff - 8; n < original.length; n += 8) lengths.add(n);
    for (const n of lengths) {
      if (n >= original.length) continue;
      expect(parsesOrParseError(original.slice(0, n)), `length ${n}`).toBe("parse-error");
    }
  });

  it("random corruption never escapes as anything but a ParseError", () => {
    const random = mulberry32(endian === "el" ? 1 : 2);
    const outcomes = { ok: 0, "parse-error": 0 };
    const started = Date.now();
    for (let round = 0; round < 3000; round++) {
      const b = copy();
      const flips = 1 + Math.floor(random() * 4);
      for (let k = 0; k < flips; k++) {
        // Bias towards the header, the section header table and the symbol table.
        const region = random();
        const at =
          region < 0.2
            ? Math.floor(random() * 64)
            : region < 0.6
              ? shoff + Math.floor(random() * (b.length - shoff))
              : Math.floor(random() * b.length);
        b[at] = random() < 0.5 ? Math.floor(random() * 256) : 0xff;
      }
      outcomes[parsesOrParseError(b)]++;
    }
    expect(outcomes["parse-error"]).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(25_000);
  });
});
