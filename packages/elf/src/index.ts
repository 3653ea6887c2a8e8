/**
 * Reads ELF64 BPF objects (little- and big-endian) into a plain object model: programs, subprograms, maps,
 * data sections, externs, relocations. Pure: no syscalls, deterministic.
 *
 * @packageDocumentation
 */
export { EbpfError, ParseError } from "@ebpf/errors";
export type * from "./types.js";
