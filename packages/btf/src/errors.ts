import { EbpfError, type EbpfErrorOptions, ParseError } from "@ebpf/errors";

/**
 * A query on well-formed BTF could not be answered: unknown type id, a type with no size, no such member.
 * Malformed bytes raise {@link ParseError} instead.
 *
 * @example
 * ```ts
 * try { btf.sizeOf(id); } catch (e) { if (e instanceof BtfError) console.error(e.code, e.message); }
 * ```
 */
export class BtfError extends EbpfError {
  constructor(code: BtfErrorCode, message: string, options?: EbpfErrorOptions) {
    super(code, message, options);
  }
}

/** Stable codes of {@link BtfError}. */
export type BtfErrorCode =
  /** A type id past the end of the BTF. */
  | "ERR_EBPF_BTF_TYPE_NOT_FOUND"
  /** The type has no size or alignment (void, function, forward declaration). */
  | "ERR_EBPF_BTF_NO_SIZE"
  /** The operation does not apply to this kind of type. */
  | "ERR_EBPF_BTF_WRONG_KIND"
  /** The builder was given an invalid type, or an argument is invalid. */
  | "ERR_EBPF_BTF_INVALID"
  /** The kernel exposes no BTF (or not for that module). */
  | "ERR_EBPF_BTF_UNAVAILABLE";

/** @internal Builds a BTF {@link ParseError}. */
export function btfParseError(
  offset: number,
  expected: string,
  problem?: string,
  format = "BTF",
): ParseError {
  return new ParseError({ format, offset, expected }, problem);
}
