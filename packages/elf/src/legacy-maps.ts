/**
 * Legacy map definitions: `struct bpf_map_def` records in a `maps` (or `maps/...`) section, one symbol
 * each, several per section; iproute2's larger `struct bpf_elf_map` is recognised by its 36-byte records.
 */
import { ParseError } from "@ebpf/errors";
import { type ElfFile, sectionData } from "./elf-reader.js";
import type { ElfSection, MapSpec } from "./types.js";

/** `struct bpf_map_def`: type, key_size, value_size, max_entries, map_flags. */
const BPF_MAP_DEF_SIZE = 20;
/** iproute2 `struct bpf_elf_map`: the above plus id, pinning, inner_id, inner_idx. */
const BPF_ELF_MAP_SIZE = 36;
/** iproute2 pinning values. */
const PIN_GLOBAL_NS = 2;
/** `BPF_F_NUMA_NODE`. */
const BPF_F_NUMA_NODE = 1 << 2;
/** libbpf `LIBBPF_PIN_BY_NAME`. */
const LIBBPF_PIN_BY_NAME = 1;

/** True for section names holding legacy map definitions. */
export function isLegacyMapSection(name: string): boolean {
  return name === "maps" || name.startsWith("maps/");
}

/** Reads every map definition of one legacy maps section. */
export function readLegacyMaps(elf: ElfFile, section: ElfSection): MapSpec[] {
  const r = elf.reader;
  const data = sectionData(r, section);
  const symbols = elf.symbolsIn(section.index).filter((s) => s.name !== "");
  if (symbols.length === 0) return [];
  // libbpf: every record has the same size, the section size divided by the number of symbols.
  const recordSize = Math.floor(data.length / symbols.length);
  if (recordSize < BPF_MAP_DEF_SIZE || recordSize * symbols.length !== data.length) {
    throw new ParseError(
      {
        format: "ELF",
        offset: section.offset,
        expected: `section "${section.name}" holding ${symbols.length} map definitions of equal size ≥ ${BPF_MAP_DEF_SIZE} bytes`,
      },
      `section size ${data.length}`,
    );
  }
  const iproute2 = recordSize === BPF_ELF_MAP_SIZE;
  return symbols.map((sym) => {
    const base = section.offset + sym.value;
    if (sym.value % recordSize !== 0) {
      throw new ParseError(
        {
          format: "ELF",
          offset: base,
          expected: `map "${sym.name}" at a multiple of the record size ${recordSize}`,
        },
        `offset ${sym.value}`,
      );
    }
    r.check(base, recordSize, `map definition "${sym.name}" (${recordSize} bytes)`);
    const u32 = (k: number, field: string) => r.u32(base + 4 * k, `map "${sym.name}" ${field}`);
    const flags = u32(4, "map_flags");
    const spec: MapSpec = {
      name: sym.name,
      sectionName: section.name,
      source: "legacy",
      offset: sym.value,
      type: u32(0, "type"),
      keySize: u32(1, "key_size"),
      valueSize: u32(2, "value_size"),
      maxEntries: u32(3, "max_entries"),
      flags,
      numaNode: undefined,
      pinning: 0,
      mapExtra: 0n,
      keyTypeId: undefined,
      valueTypeId: undefined,
      definitionTypeId: undefined,
      innerMap: undefined,
      initialValues: [],
    };
    if (iproute2) {
      const pinning = u32(6, "pinning");
      spec.pinning = pinning === PIN_GLOBAL_NS ? LIBBPF_PIN_BY_NAME : 0;
      spec.iproute2 = { id: u32(5, "id"), innerId: u32(7, "inner_id"), innerIndex: u32(8, "inner_idx") };
    } else {
      // libbpf's extended bpf_map_def: numa_node would follow, anything unknown must be zero.
      for (let k = BPF_MAP_DEF_SIZE; k < recordSize; k++) {
        if (data[sym.value + k] !== 0) {
          throw new ParseError(
            {
              format: "ELF",
              offset: base + k,
              expected: `zero bytes after the known fields of map "${sym.name}"`,
            },
            `byte ${k} of a ${recordSize}-byte record is ${data[sym.value + k]}`,
          );
        }
      }
    }
    if (flags & BPF_F_NUMA_NODE) spec.numaNode = 0;
    return spec;
  });
}
