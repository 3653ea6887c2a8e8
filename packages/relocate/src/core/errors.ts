import { EbpfError, type EbpfErrorOptions } from "@ebpf/errors";

/**
 * A CO-RE relocation could not be processed: malformed access spec (`ERR_EBPF_CORE_SPEC`), malformed
 * BTF (`ERR_EBPF_CORE_BTF`), ambiguous candidates (`ERR_EBPF_CORE_AMBIGUOUS`), an instruction that does
 * not fit the relocation (`ERR_EBPF_CORE_INSN`), or an unsatisfiable relocation on an instruction the
 * verifier reached (`ERR_EBPF_CORE_POISONED`).
 *
 * @example
 * ```ts
 * try { relocate(obj, { targetBtf }); } catch (e) {
 *   if (e instanceof CoreError && e.code === "ERR_EBPF_CORE_SPEC") console.error(e.message);
 * }
 * ```
 */
export class CoreError extends EbpfError {}

/** A relocation of the object (map, data, extern, call) could not be applied. */
export class RelocationError extends EbpfError {}

export type { EbpfErrorOptions };
