/**
 * struct_ops maps: each variable of a `.struct_ops` / `.struct_ops.link` section (libbpf also accepts
 * `.struct_ops.*`) is one `BPF_MAP_TYPE_STRUCT_OPS` map whose value is a kernel struct (e.g.
 * `tcp_congestion_ops`); its function-pointer members are `R_BPF_64_ABS64` relocations against programs.
 */
import { BtfKind, type BtfMember } from "@ebpf/btf";
import { ParseError } from "@ebpf/errors";
import type { BtfFacts } from "./btf-facts.js";
import { type ElfFile, sectionData } from "./elf-reader.js";
import { lastStartingAtOrBefore } from "./ranges.js";
import type { ElfSection, StructOpsMapSpec } from "./types.js";

/** `BPF_F_LINK`: the map is attached through a link (`.struct_ops.link`). */
const BPF_F_LINK = 1 << 13;

/** True for a section holding struct_ops variables. */
export function isStructOpsSection(name: string): boolean {
  return name === ".struct_ops" || name.startsWith(".struct_ops.");
}

/** Reads the struct_ops maps of one section (needs BTF for the struct layout). */
export function readStructOps(elf: ElfFile, section: ElfSection, facts: BtfFacts): StructOpsMapSpec[] {
  const { btf } = facts;
  const datasec = facts.datasecs.get(section.name);
  if (!datasec) {
    throw new ParseError(
      { format: "ELF", offset: section.offset, expected: `a BTF DATASEC describing "${section.name}"` },
      "none found in .BTF",
    );
  }
  const data = sectionData(elf.reader, section);
  const link = section.name === ".struct_ops.link";
  const out: StructOpsMapSpec[] = [];
  const symbolsByName = new Map(elf.symbolsIn(section.index).map((sym) => [sym.name, sym]));
  for (const v of datasec.vars) {
    const sym = symbolsByName.get(v.name);
    const offset = sym?.value ?? v.offset;
    if (offset === undefined || offset + v.size > data.length) {
      throw new ParseError(
        {
          format: "ELF",
          offset: section.offset,
          expected: `struct_ops variable "${v.name}" inside "${section.name}"`,
        },
        offset === undefined ? "no ELF symbol" : `[${offset}, ${offset + v.size}) past ${data.length}`,
      );
    }
    const typeId = btf.resolveId(v.typeId);
    const type = btf.typeById(typeId);
    if (type.kind !== BtfKind.Struct) {
      throw new ParseError(
        {
          format: "ELF",
          offset: section.offset + offset,
          expected: `struct_ops variable "${v.name}" of struct type`,
        },
        `BTF kind ${type.kind}`,
      );
    }
    out.push({
      name: v.name,
      sectionName: section.name,
      offset,
      size: v.size,
      typeName: type.name,
      typeId,
      flags: link ? BPF_F_LINK : 0,
      data: data.slice(offset, offset + v.size),
      functions: [],
    });
  }
  out.sort((a, b) => a.offset - b.offset);
  const memberIndex = new Map<number, Map<number, BtfMember>>();
  const membersAt = (typeId: number, members: readonly BtfMember[]) => {
    let index = memberIndex.get(typeId);
    if (!index) {
      index = new Map();
      for (const m of members) if (!index.has(m.bitOffset)) index.set(m.bitOffset, m); // first, as C would
      memberIndex.set(typeId, index);
    }
    return index;
  };
  for (const rel of elf.relocations(section.index)) {
    const candidate = lastStartingAtOrBefore(out, rel.offset, (m) => m.offset);
    const map = candidate && rel.offset < candidate.offset + candidate.size ? candidate : undefined;
    const at = section.offset + rel.offset;
    if (!map) {
      throw new ParseError(
        {
          format: "ELF",
          offset: at,
          expected: `a relocation inside a struct_ops variable of "${section.name}"`,
        },
        `offset ${rel.offset}`,
      );
    }
    const within = rel.offset - map.offset;
    const struct = btf.typeById(map.typeId);
    const member =
      struct.kind === BtfKind.Struct ? membersAt(map.typeId, struct.members).get(within * 8) : undefined;
    if (!member) {
      throw new ParseError(
        {
          format: "ELF",
          offset: at,
          expected: `a relocation at a member of struct ${map.typeName} ("${map.name}")`,
        },
        `byte ${within} starts no member`,
      );
    }
    map.functions.push({ member: member.name, offset: within, program: elf.symbols[rel.symbolIndex].name });
  }
  for (const m of out) m.functions.sort((a, b) => a.offset - b.offset);
  return out;
}
