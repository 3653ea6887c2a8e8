/**
 * Global data sections (`.data`, `.rodata`, `.bss` and their `.name` variants) with their variables, and
 * the externs (`.kconfig`, `.ksyms`) a loader must supply.
 */
import { ParseError } from "@ebpf/errors";
import { type ElfFile, SHT, sectionData } from "./elf-reader.js";
import type { DataSectionSpec, ElfSection, ExternSpec, VariableSpec } from "./types.js";

/** Largest `.bss` accepted (256 MiB): far above any real BPF object, small enough to allocate. */
export const MAX_NOBITS_SIZE = 256 * 1024 * 1024;

/** Classifies a data section name, `undefined` when it is not global data. */
export function dataSectionKind(s: ElfSection): DataSectionSpec["kind"] | undefined {
  const is = (base: string) => s.name === base || s.name.startsWith(`${base}.`);
  if (is(".bss") && s.type === SHT.NOBITS) return "bss";
  if (s.type !== SHT.PROGBITS && s.type !== SHT.NOBITS) return undefined;
  if (is(".rodata")) return "rodata";
  if (is(".data")) return "data";
  if (is(".bss")) return "bss";
  return undefined;
}

/** BTF facts about one data section, when BTF is available. */
export interface DatasecInfo {
  typeId: number;
  /** The variables: name, offset (only when the DATASEC has been laid out), size, the VAR's type id. */
  vars: { name: string; offset: number | undefined; size: number; typeId: number }[];
}

/** Reads one data section with its variables (symbols, completed with BTF `DATASEC` entries). */
export function readDataSection(
  elf: ElfFile,
  section: ElfSection,
  kind: DataSectionSpec["kind"],
  datasec: DatasecInfo | undefined,
): DataSectionSpec {
  let contents: Uint8Array;
  if (section.type === SHT.NOBITS) {
    // No file bytes back a NOBITS section: bound its size so a corrupt header cannot demand gigabytes.
    if (section.size > MAX_NOBITS_SIZE) {
      throw new ParseError(
        {
          format: "ELF",
          offset: elf.header.sectionHeaderOffset + section.index * 64 + 32,
          expected: `sh_size of "${section.name}" at most ${MAX_NOBITS_SIZE} bytes`,
        },
        `got ${section.size}`,
      );
    }
    contents = new Uint8Array(section.size);
  } else {
    contents = sectionData(elf.reader, section).slice();
  }
  const variables: VariableSpec[] = [];
  const seen = new Set<string>();
  const btfVars = new Map(datasec?.vars.map((v) => [v.name, v]));
  for (const sym of elf.symbolsIn(section.index)) {
    if (sym.name === "") continue;
    if (sym.type !== "object" && sym.type !== "notype") continue;
    // Local labels clang emits for string literals (.L.str) are not variables.
    if (sym.name.startsWith(".L")) continue;
    const btfVar = btfVars.get(sym.name);
    variables.push({
      name: sym.name,
      offset: sym.value,
      size: sym.size,
      linkage: sym.binding,
      typeId: btfVar?.typeId,
    });
    seen.add(sym.name);
  }
  // Static variables may be present only in BTF (clang drops some local symbols).
  for (const v of datasec?.vars ?? []) {
    if (seen.has(v.name) || v.offset === undefined) continue;
    variables.push({ name: v.name, offset: v.offset, size: v.size, linkage: "local", typeId: v.typeId });
  }
  variables.sort((a, b) => a.offset - b.offset || a.name.localeCompare(b.name));
  return {
    name: section.name,
    sectionIndex: section.index,
    kind,
    size: section.size,
    contents,
    variables,
    btfTypeId: datasec?.typeId,
  };
}

/** BTF facts about externs: from the `.kconfig` / `.ksyms` datasecs and extern `FUNC`s. */
export interface ExternInfo {
  kind: ExternSpec["kind"];
  typeId: number;
  size: number | undefined;
  offset: number | undefined;
}

/**
 * Lists the externs: undefined global or weak symbols. Classified by BTF when given; otherwise by name
 * (`LINUX_*` / `CONFIG_*` are kconfig) and use (a call target is a kfunc).
 */
export function readExterns(
  elf: ElfFile,
  btfInfo: Map<string, ExternInfo> | undefined,
  calledNames: Set<string>,
): ExternSpec[] {
  const out: ExternSpec[] = [];
  const seen = new Set<string>();
  for (const sym of elf.symbols) {
    if (sym.sectionIndex !== 0 || sym.name === "" || sym.binding === "local" || sym.type === "file") continue;
    if (seen.has(sym.name)) continue;
    seen.add(sym.name);
    const info = btfInfo?.get(sym.name);
    out.push({
      name: sym.name,
      kind: info?.kind ?? guessExternKind(sym.name, calledNames.has(sym.name)),
      weak: sym.binding === "weak",
      typeId: info?.typeId,
      size: info?.size,
      offset: info?.offset,
    });
  }
  return out;
}

/** Extern kind from the name alone, libbpf's convention when there is no BTF. */
export function guessExternKind(name: string, isCall: boolean): ExternSpec["kind"] {
  if (name.startsWith("CONFIG_") || name.startsWith("LINUX_")) return "kconfig";
  return isCall ? "kfunc" : "ksym";
}
