/**
 * Reads ELF64 BPF objects (little- and big-endian) into a plain object model: programs, subprograms, maps,
 * data sections, externs, relocations. Pure: no syscalls, deterministic.
 *
 * @packageDocumentation
 */
export { EbpfError, ParseError } from "@ebpf/errors";
export {
  ByteReader,
  type ElfFile,
  type ElfHeader,
  EM_BPF,
  MAX_NAME_LENGTH,
  readElf,
  SHF,
  SHN,
  SHT,
  StringTable,
  sectionData,
} from "./elf-reader.js";
export { parseBpfObject } from "./object.js";
export { matchSectionName, secDefMatches } from "./sec-names.js";
export { SEC_TABLE } from "./sec-table.js";
export type * from "./types.js";
