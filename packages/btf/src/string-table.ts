import type { Btf } from "./btf.js";
import { decodeCString } from "./strings.js";

const encoder = new TextEncoder();

/**
 * A BTF string section being written: deduplicating, append-only.
 *
 * Seeded with an existing section (kept byte for byte, so that re-encoding parsed BTF reproduces it) and,
 * for split BTF, able to reuse the base's strings by their offsets.
 */
export class StringTable {
  readonly #start: number;
  readonly #base: Btf | undefined;
  #chunks: Uint8Array[] = [];
  #length = 0;
  #seed: Uint8Array | undefined;
  #offsets: Map<string, number> | undefined;

  /**
   * @param seed An existing string section to start from (must begin with NUL for base BTF).
   * @param base For split BTF: the base, whose strings are referenced rather than copied.
   */
  constructor(seed?: Uint8Array, base?: Btf) {
    this.#base = base;
    this.#start = base ? base.stringsLength : 0;
    if (seed && seed.length > 0) {
      this.#seed = seed;
      this.#chunks.push(seed);
      this.#length = seed.length;
    } else if (!base) {
      this.#chunks.push(new Uint8Array(1));
      this.#length = 1;
    }
  }

  /** Bytes written so far (this table only, not the base). */
  get length(): number {
    return this.#length;
  }

  #index(): Map<string, number> {
    if (this.#offsets) return this.#offsets;
    const map = new Map<string, number>();
    const seed = this.#seed;
    const text = seed ? new TextDecoder().decode(seed) : "";
    if (seed && text.length === seed.length && text.indexOf("\ufffd") === -1) {
      // Pure ASCII: one decode, then split (offsets are character indices).
      let i = 0;
      for (const str of text.split("\0")) {
        if (!map.has(str)) map.set(str, this.#start + i);
        i += str.length + 1;
      }
    } else if (seed) {
      let i = 0;
      while (i < seed.length) {
        let end = i;
        while (end < seed.length && seed[end] !== 0) end++;
        const s = decodeCString(seed, i);
        if (!map.has(s)) map.set(s, this.#start + i);
        i = end + 1;
      }
    }
    this.#offsets = map;
    return map;
  }

  /** The offset of `s`, adding it when it is not there yet. `""` is offset 0. */
  add(s: string): number {
    if (s === "") return 0;
    const map = this.#index();
    const known = map.get(s);
    if (known !== undefined) return known;
    if (this.#base) {
      const inBase = this.#base.findString(s);
      if (inBase !== undefined) {
        map.set(s, inBase);
        return inBase;
      }
    }
    const bytes = encoder.encode(s);
    const withNul = new Uint8Array(bytes.length + 1);
    withNul.set(bytes);
    const offset = this.#start + this.#length;
    this.#chunks.push(withNul);
    this.#length += withNul.length;
    map.set(s, offset);
    return offset;
  }

  /** The encoded section. */
  bytes(): Uint8Array {
    if (this.#chunks.length === 1) return this.#chunks[0];
    const out = new Uint8Array(this.#length);
    let p = 0;
    for (const c of this.#chunks) {
      out.set(c, p);
      p += c.length;
    }
    this.#chunks = [out];
    return out;
  }
}
