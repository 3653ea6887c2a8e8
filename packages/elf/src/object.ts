/**
 * `parseBpfObject`: bytes of a BPF ELF object in, a {@link BpfObjectSpec} out. Pure and deterministic.
 */
import { ParseError } from "@ebpf/errors";
import { type BtfFacts, readBtfFacts } from "./btf-facts.js";
import { readBtfMaps } from "./btf-maps.js";
import { dataSectionKind, guessExternKind, readDataSection, readExterns } from "./data.js";
import { readElf, SHT, sectionData } from "./elf-reader.js";
import { readFunctions, type TargetContext } from "./functions.js";
import { isLegacyMapSection, readLegacyMaps } from "./legacy-maps.js";
import { isStructOpsSection, readStructOps } from "./struct-ops.js";
import type { BpfObjectSpec, DataSectionSpec, ElfSection, MapSpec, ParseOptions } from "./types.js";

/**
 * Parses a BPF ELF object (little- or big-endian) into programs, subprograms, maps, data sections and
 * externs. Reading the same bytes gives the same spec on any machine; nothing touches the kernel.
 *
 * @throws ParseError (`ERR_EBPF_PARSE`) for malformed input, naming the byte offset and what was expected.
 *
 * @example
 * ```ts
 * // bytes: the object file's contents, e.g. from fs.readFileSync("minimal.bpf.o")
 * const spec = parseBpfObject(bytes);
 * spec.programs[0].type; // "BPF_PROG_TYPE_XDP"
 * ```
 */
export function parseBpfObject(bytes: Uint8Array, options: ParseOptions = {}): BpfObjectSpec {
  const elf = readElf(bytes);
  const r = elf.reader;
  let license: string | undefined;
  let kernelVersion: number | undefined;
  let btfBytes: Uint8Array | undefined;
  let btfOffset = 0;
  let btfExtBytes: Uint8Array | undefined;
  let btfMapsSection: ElfSection | undefined;
  const legacyMapSections: ElfSection[] = [];
  const structOpsSections: ElfSection[] = [];
  const dataSections: [ElfSection, DataSectionSpec["kind"]][] = [];
  const sectionKinds = new Map<number, "map" | "data">();

  for (const s of elf.sections) {
    if (s.type === SHT.NULL) continue;
    if (s.name === "license") {
      const data = sectionData(r, s);
      const end = data.indexOf(0);
      license = new TextDecoder().decode(end < 0 ? data : data.subarray(0, end));
    } else if (s.name === "version") {
      if (s.size !== 4) {
        throw new ParseError(
          { format: "ELF", offset: s.offset, expected: 'a 4-byte "version" section' },
          `size ${s.size}`,
        );
      }
      kernelVersion = r.u32(s.offset, "kernel version");
    } else if (s.name === ".BTF") {
      btfBytes = sectionData(r, s).slice();
      btfOffset = s.offset;
    } else if (s.name === ".BTF.ext") {
      btfExtBytes = sectionData(r, s).slice();
    } else if (s.name === ".maps") {
      btfMapsSection = s;
      sectionKinds.set(s.index, "map");
    } else if (isStructOpsSection(s.name) && s.type === SHT.PROGBITS) {
      structOpsSections.push(s);
    } else if (isLegacyMapSection(s.name) && (s.type === SHT.PROGBITS || s.type === SHT.NOBITS)) {
      legacyMapSections.push(s);
      sectionKinds.set(s.index, "map");
    } else {
      const kind = dataSectionKind(s);
      if (kind) {
        dataSections.push([s, kind]);
        sectionKinds.set(s.index, "data");
      }
    }
  }

  const facts: BtfFacts | undefined =
    btfBytes && options.parseBtf !== false ? readBtfFacts(btfBytes, btfOffset) : undefined;

  const maps: MapSpec[] = [];
  for (const s of legacyMapSections) maps.push(...readLegacyMaps(elf, s));
  if (btfMapsSection && facts) maps.push(...readBtfMaps(elf, btfMapsSection, facts));

  // Map names by (section, offset): from parsed maps, else from symbols (BTF maps without BTF parsing).
  const mapIndex = new Map<string, string>();
  for (const sym of elf.symbols) {
    if (sectionKinds.get(sym.sectionIndex) === "map" && sym.type !== "section" && sym.name !== "") {
      mapIndex.set(`${sym.sectionIndex}:${sym.value}`, sym.name);
    }
  }
  const ctx: TargetContext = {
    sectionKinds,
    mapAt: (sectionIndex, offset) => mapIndex.get(`${sectionIndex}:${offset}`),
    externKind: (name, isCall) => facts?.externs.get(name)?.kind ?? guessExternKind(name, isCall),
  };
  const { programs, subprograms } = readFunctions(elf, ctx);

  const called = new Set<string>();
  for (const fn of [...programs, ...subprograms]) {
    for (const rel of fn.relocations) if (rel.target.kind === "kfunc") called.add(rel.target.name);
  }

  return {
    byteOrder: elf.header.byteOrder,
    programs,
    subprograms,
    maps,
    structOps: facts ? structOpsSections.flatMap((s) => readStructOps(elf, s, facts)) : [],
    dataSections: dataSections.map(([s, kind]) => readDataSection(elf, s, kind, facts?.datasecs.get(s.name))),
    externs: readExterns(elf, facts?.externs, called),
    license,
    kernelVersion,
    btfBytes,
    btfExtBytes,
    btf: facts?.btf,
    sections: elf.sections,
    symbols: elf.symbols,
  };
}
