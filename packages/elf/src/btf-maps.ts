/**
 * BTF-defined maps in `.maps`: libbpf's `__uint` (pointer to array), `__ulong` (enum), `__type` (pointer)
 * and `__array` (array of pointers) encodings, inner map templates, and initial values from `.rel.maps`.
 */
import { type Btf, BtfKind, type BtfMember, type BtfType } from "@ebpf/btf";
import { ParseError } from "@ebpf/errors";
import type { BtfFacts } from "./btf-facts.js";
import type { ElfFile } from "./elf-reader.js";
import { lastStartingAtOrBefore } from "./ranges.js";
import type { ElfSection, MapInitialValue, MapSpec } from "./types.js";

const MAP_IN_MAP_TYPES = new Set([12 /* ARRAY_OF_MAPS */, 13 /* HASH_OF_MAPS */]);
const PROG_ARRAY = 3;
const BPF_F_NUMA_NODE = 1 << 2;

/** Reads every map of the `.maps` section from its `DATASEC`. */
export function readBtfMaps(elf: ElfFile, section: ElfSection, facts: BtfFacts): MapSpec[] {
  const { btf } = facts;
  const datasec = facts.datasecs.get(".maps");
  if (!datasec) {
    throw new ParseError(
      {
        format: "ELF",
        offset: section.offset,
        expected: "a BTF DATASEC named .maps describing the .maps section",
      },
      "none found in .BTF",
    );
  }
  const ptrSize = 8;
  const maps: MapSpec[] = [];
  const byOffset = new Map<number, { spec: MapSpec; valuesOffset: number | undefined; end: number }>();
  const symbolOffsets = new Map<string, number>();
  for (const sym of elf.symbolsIn(section.index)) if (sym.name !== "") symbolOffsets.set(sym.name, sym.value);
  for (const v of datasec.vars) {
    // The ELF symbol gives the offset (DATASEC offsets are 0 in object files); the DATASEC the size.
    const offset = symbolOffsets.get(v.name) ?? v.offset;
    if (offset === undefined) {
      throw new ParseError(
        {
          format: "ELF",
          offset: section.offset,
          expected: `an ELF symbol in .maps for the BTF map "${v.name}"`,
        },
        "none found",
      );
    }
    const where = section.offset + offset;
    if (offset + v.size > section.size) {
      throw new ParseError(
        { format: "ELF", offset: where, expected: `map "${v.name}" within .maps (size ${section.size})` },
        `[${offset}, ${offset + v.size})`,
      );
    }
    const { spec, valuesOffset } = parseMapDefinition(btf, v.name, v.typeId, where, section.name, offset);
    maps.push(spec);
    byOffset.set(offset, { spec, valuesOffset, end: offset + v.size });
  }
  maps.sort((a, b) => a.offset - b.offset);

  // Initial values: R_BPF_64_ABS64 relocations in .rel.maps pointing at maps or programs.
  const sorted = [...byOffset.entries()].sort((a, b) => a[0] - b[0]);
  for (const rel of elf.relocations(section.index)) {
    const candidate = lastStartingAtOrBefore(sorted, rel.offset, ([start]) => start);
    const entry = candidate && rel.offset + ptrSize <= candidate[1].end ? candidate : undefined;
    const fileOffset = section.offset + rel.offset;
    if (!entry || entry[1].valuesOffset === undefined) {
      throw new ParseError(
        { format: "ELF", offset: fileOffset, expected: "a .maps relocation inside the `values` of a map" },
        `offset ${rel.offset}`,
      );
    }
    const [start, m] = entry;
    const rest = rel.offset - start - (m.valuesOffset as number);
    if (rest < 0 || rest % ptrSize !== 0) {
      throw new ParseError(
        { format: "ELF", offset: fileOffset, expected: `a pointer slot of map "${m.spec.name}" values` },
        `offset ${rel.offset}`,
      );
    }
    const sym = elf.symbols[rel.symbolIndex];
    const value: MapInitialValue = { index: rest / ptrSize, name: sym.name };
    m.spec.initialValues.push(value);
  }
  for (const m of maps) m.initialValues.sort((a, b) => a.index - b.index);
  return maps;
}

function fieldError(where: number, mapName: string, field: string, expected: string, got: string): never {
  throw new ParseError(
    { format: "ELF", offset: where, expected: `map "${mapName}" field "${field}": ${expected}` },
    got,
  );
}

/** `__uint(name, N)` is `int (*name)[N]`; `__ulong(name, N)` an enum whose single value is N. */
function uintField(btf: Btf, m: BtfMember, where: number, mapName: string): bigint {
  const t = btf.resolve(m.type);
  if (t.kind === BtfKind.Ptr) {
    const arr = btf.resolve(t.type);
    if (arr.kind === BtfKind.Array) return BigInt(arr.nelems);
    fieldError(where, mapName, m.name, "a pointer to an array (__uint)", `pointer to BTF kind ${arr.kind}`);
  }
  if ((t.kind === BtfKind.Enum || t.kind === BtfKind.Enum64) && t.values.length > 0) {
    const v = t.values[0].value;
    return typeof v === "bigint" ? BigInt.asUintN(64, v) : BigInt(v >>> 0);
  }
  fieldError(where, mapName, m.name, "__uint (pointer to array) or __ulong (enum)", `BTF kind ${t.kind}`);
}

function u32Field(btf: Btf, m: BtfMember, where: number, mapName: string): number {
  const v = uintField(btf, m, where, mapName);
  if (v > 0xffffffffn) fieldError(where, mapName, m.name, "a value that fits 32 bits", v.toString());
  return Number(v);
}

/** `__type(name, T)` is `T *name`: the pointee type id. */
function typeField(btf: Btf, m: BtfMember, where: number, mapName: string): number {
  const t = btf.resolve(m.type);
  if (t.kind !== BtfKind.Ptr) fieldError(where, mapName, m.name, "a pointer (__type)", `BTF kind ${t.kind}`);
  return t.type;
}

/** Parses one map definition struct (libbpf's `parse_btf_map_def`). */
function parseMapDefinition(
  btf: Btf,
  name: string,
  typeId: number,
  where: number,
  sectionName: string,
  offset: number,
): { spec: MapSpec; valuesOffset: number | undefined } {
  const def: BtfType = btf.resolve(typeId);
  if (def.kind !== BtfKind.Struct) {
    fieldError(where, name, "(definition)", "a struct", `BTF kind ${def.kind} (type id ${typeId})`);
  }
  const spec: MapSpec = {
    name,
    sectionName,
    source: "btf",
    offset,
    type: 0,
    keySize: 0,
    valueSize: 0,
    maxEntries: 0,
    flags: 0,
    numaNode: undefined,
    pinning: 0,
    mapExtra: 0n,
    keyTypeId: undefined,
    valueTypeId: undefined,
    definitionTypeId: btf.resolveId(typeId),
    innerMap: undefined,
    initialValues: [],
  };
  let keySize: number | undefined;
  let valueSize: number | undefined;
  let valuesOffset: number | undefined;
  let valuesMember: BtfMember | undefined;
  for (const m of def.members) {
    switch (m.name) {
      case "type":
        spec.type = u32Field(btf, m, where, name);
        break;
      case "max_entries":
        spec.maxEntries = u32Field(btf, m, where, name);
        break;
      case "map_flags":
        spec.flags = u32Field(btf, m, where, name);
        break;
      case "numa_node":
        spec.numaNode = u32Field(btf, m, where, name);
        break;
      case "pinning":
        spec.pinning = u32Field(btf, m, where, name);
        break;
      case "map_extra":
        spec.mapExtra = uintField(btf, m, where, name);
        break;
      case "key_size":
        keySize = u32Field(btf, m, where, name);
        break;
      case "value_size":
        valueSize = u32Field(btf, m, where, name);
        break;
      case "key":
        spec.keyTypeId = typeField(btf, m, where, name);
        break;
      case "value":
        spec.valueTypeId = typeField(btf, m, where, name);
        break;
      case "values":
        valuesMember = m;
        valuesOffset = m.bitOffset / 8;
        break;
      default:
        fieldError(where, name, m.name, "a known map field", "unknown field");
    }
  }
  const sized = (field: string, id: number | undefined, explicit: number | undefined): number => {
    if (id === undefined) return explicit ?? 0;
    let size: number;
    try {
      size = btf.sizeOf(id);
    } catch {
      fieldError(where, name, field, "a type with a size", `type id ${id}`);
    }
    if (explicit !== undefined && explicit !== size) {
      fieldError(where, name, `${field}_size`, `${size} (the size of the ${field} type)`, String(explicit));
    }
    return size;
  };
  spec.keySize = sized("key", spec.keyTypeId, keySize);
  spec.valueSize = sized("value", spec.valueTypeId, valueSize);
  if (spec.numaNode === undefined && spec.flags & BPF_F_NUMA_NODE) spec.numaNode = 0;

  if (valuesMember) {
    // `__array(values, T)` is `T *values[]`.
    const arr = btf.resolve(valuesMember.type);
    if (arr.kind !== BtfKind.Array)
      fieldError(where, name, "values", "an array of pointers (__array)", `BTF kind ${arr.kind}`);
    const ptr = btf.resolve(arr.elemType);
    if (ptr.kind !== BtfKind.Ptr)
      fieldError(where, name, "values", "an array of pointers (__array)", `array of BTF kind ${ptr.kind}`);
    const target = btf.resolve(ptr.type);
    if (MAP_IN_MAP_TYPES.has(spec.type)) {
      if (target.kind !== BtfKind.Struct)
        fieldError(where, name, "values", "pointers to an inner map definition", `BTF kind ${target.kind}`);
      if (spec.valueSize !== 0 && spec.valueSize !== 4)
        fieldError(where, name, "value_size", "4 for a map-in-map", String(spec.valueSize));
      spec.valueSize = 4;
      // libbpf allows one level: an inner map cannot itself hold maps (also stops self-reference loops).
      if (name.endsWith(".inner")) {
        fieldError(where, name, "values", "no nested map-in-map inside an inner map", "found one");
      }
      spec.innerMap = parseMapDefinition(btf, `${name}.inner`, ptr.type, where, sectionName, offset).spec;
    } else if (spec.type === PROG_ARRAY) {
      if (target.kind !== BtfKind.FuncProto)
        fieldError(where, name, "values", "pointers to functions", `BTF kind ${target.kind}`);
      if (spec.valueSize !== 0 && spec.valueSize !== 4)
        fieldError(where, name, "value_size", "4 for a prog array", String(spec.valueSize));
      spec.valueSize = 4;
    } else {
      fieldError(where, name, "values", "a map-in-map or prog array type", `map type ${spec.type}`);
    }
    if (spec.keySize === 0) spec.keySize = 4;
  }
  return { spec, valuesOffset };
}
