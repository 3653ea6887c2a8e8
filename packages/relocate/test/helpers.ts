import { readFileSync } from "node:fs";
import { type Btf, BtfKind, parseBtf } from "@ebpf/btf";
import { type BpfObjectSpec, parseBpfObject } from "@ebpf/elf";
import { objectPath } from "@ebpf/test-programs";
import {
  type ExtInfo,
  fromBtf,
  parseBtfExtInfo,
  type RelocateOptions,
  relocateObject,
} from "../src/index.js";

export interface LoadedObject {
  spec: BpfObjectSpec;
  btf: Btf;
  ext: ExtInfo;
}

/** Parse a compiled test object with its BTF and BTF.ext. */
export function loadObject(name: string, endian: "el" | "eb" = "el"): LoadedObject {
  return loadObjectFile(objectPath(name, endian));
}

/** Committed objects built with another compiler (test/fixtures). */
export const fixturePath = (file: string): string => new URL(`./fixtures/${file}`, import.meta.url).pathname;

/** Parse an object file with its BTF and BTF.ext. */
export function loadObjectFile(path: string): LoadedObject {
  const spec = parseBpfObject(readFileSync(path));
  const btf = parseBtf(spec.btfBytes!);
  const ext = parseBtfExtInfo(spec.btfExtBytes!, (o) => btf.stringAt(o));
  return { spec, btf, ext };
}

/** Relocate a test object against a target BTF. */
export function relocate(o: LoadedObject, target: Btf, opts: RelocateOptions = {}) {
  return relocateObject(o.spec, { localBtf: fromBtf(o.btf), ext: o.ext, target: fromBtf(target), ...opts });
}

/** Byte offset (bits) of a member found by name, descending into anonymous members. */
export function memberBits(
  btf: Btf,
  typeId: number,
  name: string,
): { bitOffset: number; bitfieldSize: number; type: number } | undefined {
  const t = btf.resolve(typeId);
  if (t.kind !== BtfKind.Struct && t.kind !== BtfKind.Union) return undefined;
  for (const m of t.members) {
    if (m.name === name) return { bitOffset: m.bitOffset, bitfieldSize: m.bitfieldSize, type: m.type };
    if (m.name === "") {
      const inner = memberBits(btf, m.type, name);
      if (inner) return { ...inner, bitOffset: inner.bitOffset + m.bitOffset };
    }
  }
  return undefined;
}

function structId(btf: Btf, name: string): number {
  const ids = btf.findIdsByName(name, BtfKind.Struct);
  if (ids.length === 0) throw new Error(`no struct ${name}`);
  return ids[0];
}

/** libbpf's bitfield load window and shifts, computed from first principles (little-endian). */
function bitfield(bitOff: number, bitSz: number, size: number) {
  let byteSz = size;
  let byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
  while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
    byteSz *= 2;
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
  }
  return { byteOff, byteSz, lshift: 64 - (bitOff + bitSz - byteOff * 8), rshift: 64 - bitSz };
}

/**
 * What core_kinds.bpf.c must store in out[] on this kernel, computed straight from the kernel's BTF
 * (member lookups), independently of the CO-RE engine.
 */
export function expectedCoreKinds(kernel: Btf, local: Btf): bigint[] {
  const task = structId(kernel, "task_struct");
  const skb = structId(kernel, "sk_buff");
  const m = (id: number, n: string) => {
    const r = memberBits(kernel, id, n);
    if (!r) throw new Error(`no member ${n}`);
    return r;
  };
  const reset = m(task, "sched_reset_on_fork");
  const contrib = m(task, "sched_contributes_to_load");
  const pkt = m(skb, "pkt_type");
  const bfReset = bitfield(reset.bitOffset, reset.bitfieldSize, kernel.sizeOf(reset.type));
  const bfContrib = bitfield(contrib.bitOffset, contrib.bitfieldSize, kernel.sizeOf(contrib.type));
  const bfPkt = bitfield(pkt.bitOffset, pkt.bitfieldSize, kernel.sizeOf(pkt.type));
  const ringbuf = kernel
    .findByName("bpf_map_type", BtfKind.Enum)!
    .values.find((v) => v.name === "BPF_MAP_TYPE_RINGBUF")!;
  const out = new Array<bigint>(32).fill(0n);
  const v = (k: number, x: number | bigint) => {
    out[k] = BigInt(x);
  };
  v(0, m(task, "pid").bitOffset / 8);
  v(1, m(task, "tgid").bitOffset / 8);
  v(2, kernel.sizeOf(m(task, "comm").type));
  v(3, m(task, "comm").bitOffset / 8 + 5);
  v(4, 1);
  v(5, 0);
  v(6, 1);
  v(7, bfReset.lshift);
  v(8, bfReset.rshift);
  v(9, bfContrib.byteOff);
  v(10, bfContrib.byteSz);
  v(11, m(skb, "next").bitOffset / 8);
  v(12, m(skb, "len").bitOffset / 8);
  v(13, bfPkt.lshift);
  v(14, bfPkt.rshift);
  v(15, 0);
  v(16, 1);
  v(17, 0);
  v(18, kernel.sizeOf(task));
  v(19, kernel.sizeOf(skb));
  v(20, structId(local, "task_struct___mine"));
  v(21, task);
  v(22, 1);
  v(23, 0);
  v(24, ringbuf.value);
  v(25, 7);
  v(26, 0xc0de);
  return out;
}

/**
 * The object's .BTF made loadable the way libbpf does it before BTF_LOAD: DATASEC sizes from the ELF
 * section sizes and VAR offsets from the symbols (clang leaves both zero). Test-only: the loader proper
 * belongs to @ebpf/btf / @ebpf/programs.
 */
export function fixupDatasecs(spec: BpfObjectSpec): Uint8Array {
  const bytes = spec.btfBytes!.slice();
  const dv = new DataView(bytes.buffer);
  const le = spec.byteOrder === "little";
  const u32 = (o: number) => dv.getUint32(o, le);
  const hdrLen = u32(4);
  const typeStart = hdrLen + u32(8);
  const typeEnd = typeStart + u32(12);
  const strStart = hdrLen + u32(16);
  const str = (off: number) => {
    let e = strStart + off;
    while (bytes[e] !== 0) e++;
    return new TextDecoder().decode(bytes.subarray(strStart + off, e));
  };
  const typeOffsets: number[] = [0];
  const datasecs: number[] = [];
  for (let o = typeStart; o < typeEnd; ) {
    typeOffsets.push(o);
    const info = u32(o + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    o += 12;
    const extra: Record<number, number> = {
      1: 4,
      3: 12,
      4: 12 * vlen,
      5: 12 * vlen,
      6: 8 * vlen,
      13: 8 * vlen,
      14: 4,
      15: 12 * vlen,
      17: 4,
      19: 12 * vlen,
    };
    if (kind === 15) datasecs.push(typeOffsets.length - 1);
    o += extra[kind] ?? 0;
  }
  for (const id of datasecs) {
    const o = typeOffsets[id];
    const name = str(u32(o));
    const section = spec.sections.find((s) => s.name === name);
    if (section && u32(o + 8) === 0) dv.setUint32(o + 8, section.size, le);
    const vlen = u32(o + 4) & 0xffff;
    for (let k = 0; k < vlen; k++) {
      const vo = o + 12 + k * 12;
      const varName = str(u32(typeOffsets[u32(vo)]));
      const sym = spec.symbols.find((s) => s.name === varName && section && s.sectionIndex === section.index);
      if (sym) dv.setUint32(vo + 4, sym.value, le);
    }
  }
  return bytes;
}
