/**
 * `@ebpf/btf`: BTF (BPF Type Format) and BTF.ext — parse, query, write, print.
 *
 * Pure: bytes in, plain objects out; no file system access (see `@ebpf/btf/node` for kernel BTF).
 *
 * @example
 * ```ts
 * import { parseBtf, BtfKind } from "@ebpf/btf";
 * const btf = parseBtf(bytes);
 * const attr = btf.findByName("bpf_attr", BtfKind.Union);
 * ```
 *
 * @packageDocumentation
 */
export { EbpfError, ParseError } from "@ebpf/errors";
export { Btf } from "./btf.js";
export { BtfBuilder, type BtfBuilderOptions, type MemberInit } from "./builder.js";
export { CPrinterError, type FormatCOptions, formatC } from "./c-printer.js";
export {
  type Codec,
  CodecError,
  type CodecOptions,
  createCodec,
  intCodec,
  rawCodec,
  u32Codec,
  u64Codec,
} from "./codec.js";
export { BtfError, type BtfErrorCode } from "./errors.js";
export { essentialName, essentialNameLength } from "./essential-name.js";
export {
  type BtfCoreRelo,
  type BtfExt,
  type BtfExtSection,
  type BtfFuncInfo,
  type BtfLineInfo,
  CoreReloKind,
  parseBtfExt,
} from "./ext.js";
export {
  BTF_KIND_MAX,
  BTF_MAGIC,
  BTF_VERSION,
  BtfKind,
  FuncLinkage,
  IntEncoding,
  KIND_NAMES,
  kindName,
  VarLinkage,
} from "./kinds.js";
export { type MarshalBtfOptions, marshalBtf } from "./marshal.js";
export { BTF_HEADER_SIZE, type ParseBtfOptions, parseBtf } from "./parse.js";
export type { MemberLayout } from "./query.js";
export { formatRaw, formatRawType } from "./raw-printer.js";
export {
  type BtfFeatures,
  btfFeaturesOfKernel,
  ENUM64_PLACEHOLDER,
  needsSanitization,
  SanitizeError,
  sanitizeBtf,
} from "./sanitize.js";
export type * from "./types.js";
