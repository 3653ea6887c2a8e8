/**
 * BPF instructions, subprogram linking, map/global-data/extern relocations and CO-RE. Pure: the target
 * BTF is an input, so tools can relocate without a kernel.
 *
 * @packageDocumentation
 */
export { EbpfError, ParseError } from "@ebpf/errors";
export * from "./disasm.js";
export * from "./instruction.js";
export * from "./opcodes.js";
