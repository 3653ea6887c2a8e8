// The name index behind Btf.findByName: a chained hash table over type indices, hashing names straight out
// of the decoded string section. Building it allocates no per-name strings (two typed arrays in all), and a
// lookup compares the query against the section text in place.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const UNDERSCORE = 0x5f;

function hashString(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
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
  /** Indices of types whose name has a `___` (a possible CO-RE flavor suffix), ascending. */
  readonly flavored: number[] = [];

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
    // Inserted from the last type to the first, so that every chain lists types in ascending id order.
    for (let i = count - 1; i >= 0; i--) {
      const off = nameOff(i);
      next[i] = -1;
      if (off === 0) continue;
      const local = off - strStart;
      let h: number;
      if (local >= 0) {
        h = FNV_OFFSET;
        let c = text.charCodeAt(local);
        if (c === 0) continue;
        // Counting underscore runs on the way finds flavored names without a second pass.
        let run = 0;
        let flavored = false;
        for (let p = local; c !== 0; c = text.charCodeAt(++p)) {
          h = Math.imul(h ^ c, FNV_PRIME);
          if (c === UNDERSCORE) {
            if (++run === 3) flavored = true;
          } else run = 0;
        }
        if (flavored) this.flavored.push(i);
      } else {
        const s = stringAt(off);
        if (s === "") continue;
        h = hashString(s);
        if (s.includes("___")) this.flavored.push(i);
      }
      const b = h & mask;
      next[i] = table[b];
      table[b] = i;
    }
    this.flavored.reverse();
    this.#table = table;
    this.#next = next;
    this.#mask = mask;
  }

  #matches(i: number, name: string): boolean {
    const off = this.#nameOff(i);
    const local = off - this.#strStart;
    if (local >= 0)
      return this.#text.startsWith(name, local) && this.#text.charCodeAt(local + name.length) === 0;
    return off !== 0 && this.#stringAt(off) === name;
  }

  /** Calls `visit` with the index of each type named `name`, in ascending order, until it returns true. */
  find(name: string, visit: (i: number) => boolean): void {
    if (name === "") return;
    const next = this.#next;
    for (let i = this.#table[hashString(name) & this.#mask]; i !== -1; i = next[i]) {
      if (this.#matches(i, name) && visit(i)) return;
    }
  }
}
