// Test helper: writes small raw BTF blobs by hand (any kind, any byte order), so that tests can build
// types clang 14 cannot emit (ENUM64) or that no compiler would (self-containing structs).
import { type Btf, parseBtf } from "@ebpf/btf";

export interface MemberInit {
  name: string;
  type: number;
  bitOffset: number;
  bitfieldSize?: number;
}

export class RawBtfBuilder {
  readonly #types: number[][] = [];
  readonly #strings: number[] = [0];
  readonly #strOffsets = new Map<string, number>();

  str(s: string): number {
    if (s === "") return 0;
    const hit = this.#strOffsets.get(s);
    if (hit !== undefined) return hit;
    const off = this.#strings.length;
    this.#strings.push(...new TextEncoder().encode(s), 0);
    this.#strOffsets.set(s, off);
    return off;
  }

  /** Appends a raw type record; returns its id. */
  raw(
    name: string,
    kind: number,
    vlen: number,
    kflag: boolean,
    sizeOrType: number,
    extra: number[] = [],
  ): number {
    const info = ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen;
    this.#types.push([this.str(name), info >>> 0, sizeOrType >>> 0, ...extra.map((x) => x >>> 0)]);
    return this.#types.length;
  }

  int(name: string, size: number, signed: boolean, bits = size * 8, enc = signed ? 1 : 0): number {
    return this.raw(name, 1, 0, false, size, [(enc << 24) | bits]);
  }
  ptr(type: number): number {
    return this.raw("", 2, 0, false, type);
  }
  array(elem: number, n: number, index = 0): number {
    return this.raw("", 3, 0, false, 0, [elem, index, n]);
  }
  struct(name: string, size: number, members: MemberInit[], union = false): number {
    const kflag = members.some((m) => m.bitfieldSize);
    const extra: number[] = [];
    for (const m of members)
      extra.push(this.str(m.name), m.type, kflag ? ((m.bitfieldSize ?? 0) << 24) | m.bitOffset : m.bitOffset);
    return this.raw(name, union ? 5 : 4, members.length, kflag, size, extra);
  }
  union(name: string, size: number, members: MemberInit[]): number {
    return this.struct(name, size, members, true);
  }
  enum(name: string, size: number, values: [string, number][], signed = false): number {
    const extra: number[] = [];
    for (const [n, v] of values) extra.push(this.str(n), v);
    return this.raw(name, 6, values.length, signed, size, extra);
  }
  enum64(name: string, size: number, values: [string, bigint][], signed = false): number {
    const extra: number[] = [];
    for (const [n, v] of values) {
      const u = BigInt.asUintN(64, v);
      extra.push(this.str(n), Number(u & 0xffffffffn), Number(u >> 32n));
    }
    return this.raw(name, 19, values.length, signed, size, extra);
  }
  fwd(name: string, union = false): number {
    return this.raw(name, 7, 0, union, 0);
  }
  typedef(name: string, type: number): number {
    return this.raw(name, 8, 0, false, type);
  }
  volatile(type: number): number {
    return this.raw("", 9, 0, false, type);
  }
  const(type: number): number {
    return this.raw("", 10, 0, false, type);
  }
  restrict(type: number): number {
    return this.raw("", 11, 0, false, type);
  }
  func(name: string, proto: number, linkage: number): number {
    return this.raw(name, 12, linkage, false, proto);
  }
  funcProto(ret: number, params: [string, number][]): number {
    const extra: number[] = [];
    for (const [n, t] of params) extra.push(this.str(n), t);
    return this.raw("", 13, params.length, false, ret, extra);
  }
  variable(name: string, type: number, linkage = 1): number {
    return this.raw(name, 14, 0, false, type, [linkage]);
  }
  datasec(name: string, size: number, vars: [number, number, number][]): number {
    return this.raw(name, 15, vars.length, false, size, vars.flat());
  }
  float(name: string, size: number): number {
    return this.raw(name, 16, 0, false, size);
  }
  declTag(name: string, type: number, componentIdx = -1): number {
    return this.raw(name, 17, 0, false, type, [componentIdx]);
  }
  typeTag(name: string, type: number): number {
    return this.raw(name, 18, 0, false, type);
  }

  bytes(littleEndian = true): Uint8Array {
    const words = this.#types.flat();
    const typeLen = words.length * 4;
    const strLen = this.#strings.length;
    const out = new Uint8Array(24 + typeLen + strLen);
    const dv = new DataView(out.buffer);
    const le = littleEndian;
    dv.setUint16(0, 0xeb9f, le);
    dv.setUint8(2, 1);
    dv.setUint8(3, 0);
    dv.setUint32(4, 24, le);
    dv.setUint32(8, 0, le);
    dv.setUint32(12, typeLen, le);
    dv.setUint32(16, typeLen, le);
    dv.setUint32(20, strLen, le);
    for (let i = 0; i < words.length; i++) dv.setUint32(24 + i * 4, words[i], le);
    out.set(this.#strings, 24 + typeLen);
    return out;
  }
}

/** Builds a BTF blob with `fill` and parses it. */
export function buildBtf(fill: (b: RawBtfBuilder) => void, littleEndian = true): Btf {
  const b = new RawBtfBuilder();
  fill(b);
  return parseBtf(b.bytes(littleEndian));
}
