/**
 * BPF instructions, subprogram linking, map/global-data/extern relocations and CO-RE. Pure: the target
 * BTF is an input, so tools can relocate without a kernel.
 *
 * @packageDocumentation
 */
export { EbpfError, ParseError } from "@ebpf/errors";
export { fromBtfExt, parseBtfExtInfo } from "./btf-ext.js";
export {
  type CoreResolution,
  calcRelo,
  patchInstruction,
  poisonInstruction,
  resolveAgainst,
} from "./core/calc.js";
export { fieldsAreCompat, typesAreCompat, typesMatch } from "./core/compat.js";
export { CoreError, RelocationError } from "./core/errors.js";
export { fromBtf } from "./core/from-btf.js";
export { CoreReloKind, coreKindName } from "./core/kinds.js";
export * from "./core/relocator.js";
export { type Accessor, type CoreSpec, formatSpec, matchSpec, parseSpec } from "./core/spec.js";
export * from "./core/types.js";
export * from "./disasm.js";
export * from "./instruction.js";
export * from "./kconfig.js";
export * from "./link.js";
export * from "./opcodes.js";
export * from "./relocate.js";
