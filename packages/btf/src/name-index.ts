// The name index behind Btf.findByName: a chained hash table over type indices, keyed by a short prefix of
// each name read straight out of the decoded string section. Building it allocates no per-name strings (two
// typed arrays in all) and reads at most KEY_CHARS characters per type: hashing whole names cost more than
// the rest of a cold program load. A lookup walks the chain of its prefix and compares the query against the
// section text in place; a chain holds every name with that prefix, which also makes it the candidate list
// for CO-RE's essential names (`task_struct` and `task_struct___v1` share a key).

import { essentialName } from "./essential-name.js";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const UNDERSCORE = 0x5f;
/** Characters of a name that make its key. */
const KEY_CHARS = 6;

/**
 * The key of a name: its first KEY_CHARS characters, cut before its first `___`. The cut makes a name and its
 * `___flavor` variants share a key even when the essential name is shorter than KEY_CHARS (`u8`, `u8___x`).
 * `charAt(i)` returns 0 past the end.
 */
function keyHash(charAt: (i: number) => number): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < KEY_CHARS; i++) {
    const c = charAt(i);
    if (c === 0) break;
    if (c === UNDERSCORE && charAt(i + 1) === UNDERSCORE && charAt(i + 2) === UNDERSCORE) break;
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h;
}

function stringKey(s: string): number {
  return keyHash((i) => (i < s.length ? s.charCodeAt(i) : 0));
}

/** @internal */
export class NameIndex {
  readonly #table: Int32Array;
  readonly #next: Int32Array;
  readonly #mask: number;
  readonly #nameOff: (i: number) => number;
  readonly #text: string;
  readonly #strStart: number;
  readonly #stringAt: (offset: number) => string;

  /**
   * @param count number of own types
   * @param nameOff name offset of own type `i`
   * @param text this blob's string section as one string
   * @param strStart string offset where `text` begins (names below it live in the base)
   * @param stringAt decodes any string offset (for names in the base)
   */
  constructor(
    count: number,
    nameOff: (i: number) => number,
    text: string,
    strStart: number,
    stringAt: (offset: number) => string,
  ) {
    this.#nameOff = nameOff;
    this.#text = text;
    this.#strStart = strStart;
    this.#stringAt = stringAt;
    let size = 16;
    while (size < count * 2) size *= 2;
    const table = new Int32Array(size).fill(-1);
    const next = new Int32Array(count);
    const mask = size - 1;
    const end = text.length;
    // Inserted from the last type to the first, so that every chain lists types in ascending id order.
    for (let i = count - 1; i >= 0; i--) {
      const off = nameOff(i);
      next[i] = -1;
      if (off === 0) continue;
      const local = off - strStart;
      let h: number;
      if (local >= 0) {
        // Inlined keyHash over the section text (the string section ends with a NUL, so reads stay inside).
        let c = local < end ? text.charCodeAt(local) : 0;
        if (c === 0) continue;
        h = FNV_OFFSET;
        for (let p = local, n = 0; n < KEY_CHARS && c !== 0; n++, c = text.charCodeAt(++p)) {
          if (
            c === UNDERSCORE &&
            text.charCodeAt(p + 1) === UNDERSCORE &&
            text.charCodeAt(p + 2) === UNDERSCORE
          )
            break;
          h = Math.imul(h ^ c, FNV_PRIME);
        }
      } else {
        const s = stringAt(off);
        if (s === "") continue;
        h = stringKey(s);
      }
      const b = h & mask;
      next[i] = table[b];
      table[b] = i;
    }
    this.#table = table;
    this.#next = next;
    this.#mask = mask;
  }

  /** Whether type `i`'s name starts with `name`; then the character after it (0 at the end), else -1. */
  #after(i: number, name: string): number {
    const off = this.#nameOff(i);
    if (off === 0) return -1;
    const local = off - this.#strStart;
    if (local >= 0) {
      if (!this.#text.startsWith(name, local)) return -1;
      const at = local + name.length;
      return at < this.#text.length ? this.#text.charCodeAt(at) : 0;
    }
    const s = this.#stringAt(off);
    if (!s.startsWith(name)) return -1;
    return name.length < s.length ? s.charCodeAt(name.length) : 0;
  }

  /** Calls `visit` with the index of each type named `name`, in ascending order, until it returns true. */
  find(name: string, visit: (i: number) => boolean): void {
    if (name === "") return;
    const next = this.#next;
    for (let i = this.#table[stringKey(name) & this.#mask]; i !== -1; i = next[i]) {
      if (this.#after(i, name) === 0 && visit(i)) return;
    }
  }

  /**
   * Indices of the types whose essential name (name minus a `___flavor` suffix) is `name`, ascending: they
   * all share `name`'s key.
   */
  findEssential(name: string): number[] {
    const out: number[] = [];
    if (name === "") return out;
    const next = this.#next;
    for (let i = this.#table[stringKey(name) & this.#mask]; i !== -1; i = next[i]) {
      const c = this.#after(i, name);
      if (c === 0) out.push(i);
      else if (c === UNDERSCORE && essentialName(this.#stringAt(this.#nameOff(i))) === name) out.push(i);
    }
    return out;
  }
}
