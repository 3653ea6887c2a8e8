// Malformed input never crashes the printer, the codecs or the sanitizer: corrupted BTF that the parser
// still accepts either works or fails with an EbpfError subclass.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createCodec, EbpfError, formatC, parseBtf, sanitizeBtf } from "@ebpf/btf";
import { describe, expect, it } from "vitest";

const fixtures = join(import.meta.dirname, "fixtures", "codec");

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expectTyped(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof EbpfError))
      throw new Error(`${what}: untyped ${(e as Error).name}: ${(e as Error).message}`);
  }
}

describe("corrupted BTF", () => {
  for (const file of ["types.el.btf", "types.eb.btf", "features.el.btf"]) {
    it(`formatC, createCodec and sanitizeBtf fail only with EbpfError (${file})`, () => {
      const original = new Uint8Array(readFileSync(join(fixtures, file)));
      const next = rng(file.length * 7919);
      let parsed = 0;
      for (let round = 0; round < 300; round++) {
        const bytes = original.slice();
        // Flip a few bytes in the type section (after the 24-byte header).
        const flips = 1 + Math.floor(next() * 4);
        for (let i = 0; i < flips; i++) {
          const at = 24 + Math.floor(next() * (bytes.length - 24));
          bytes[at] = Math.floor(next() * 256);
        }
        let btf: ReturnType<typeof parseBtf>;
        try {
          btf = parseBtf(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(EbpfError);
          continue;
        }
        parsed++;
        expectTyped(() => formatC(btf), `formatC round ${round}`);
        for (let id = 0; id < btf.count; id++) expectTyped(() => createCodec(btf, id), `createCodec ${id}`);
        expectTyped(
          () =>
            sanitizeBtf(btf, { datasec: false, func: false, float: false, typeTag: false, enum64: false }),
          `sanitizeBtf round ${round}`,
        );
      }
      expect(parsed).toBeGreaterThan(10);
    });
  }

  it("decoding a codec over garbage bytes never throws anything but CodecError", () => {
    const btf = parseBtf(readFileSync(join(fixtures, "types.el.btf")));
    const next = rng(42);
    for (let id = 1; id < btf.count; id++) {
      let codec: ReturnType<typeof createCodec>;
      try {
        codec = createCodec(btf, id);
      } catch (e) {
        expect(e).toBeInstanceOf(EbpfError);
        continue;
      }
      const bytes = new Uint8Array(codec.size);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
      const value = codec.decode(bytes);
      // Whatever came out goes back in (lossy only for strings cut at a NUL).
      expectTyped(() => codec.encode(value), `re-encode ${id}`);
    }
  });
});
