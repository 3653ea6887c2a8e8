/**
 * The error base shared by every `@ebpf/*` package.
 *
 * Every error the library throws on purpose is an {@link EbpfError}: match on its stable `code`
 * (Node style, e.g. `ERR_EBPF_PARSE`) rather than on message text, and follow `cause` for the path
 * that led to it.
 *
 * @packageDocumentation
 */

/** Options accepted by {@link EbpfError} and its subclasses. */
export interface EbpfErrorOptions {
  /** The error this one wraps; printed as part of the path. */
  cause?: unknown;
}

/**
 * Base class of every error thrown by the ebpf packages.
 *
 * @example
 * ```ts
 * try { parseBtf(bytes); } catch (e) {
 *   if (e instanceof EbpfError && e.code === "ERR_EBPF_PARSE") console.error(e.message);
 * }
 * ```
 */
export class EbpfError extends Error {
  /** Stable machine-readable code, Node style (`ERR_EBPF_*`). */
  readonly code: string;

  constructor(code: string, message: string, options?: EbpfErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** Where a malformed input was found and what was expected there. */
export interface ParseErrorDetails extends EbpfErrorOptions {
  /** The binary format being read, e.g. `"ELF"`, `"BTF"`, `"BTF.ext"`. */
  format: string;
  /** Byte offset into the input where the problem is. */
  offset: number;
  /** What the reader expected to find at `offset`. */
  expected: string;
}

/**
 * A binary input (ELF object, BTF blob, ...) is malformed: truncated, an offset past the end, a bad
 * magic number, an impossible count. Carries the byte offset and what was expected there.
 *
 * @example
 * ```ts
 * throw new ParseError({ format: "BTF", offset: 0, expected: "magic 0xeb9f" }, "bad magic 0x1234");
 * ```
 */
export class ParseError extends EbpfError {
  /** The binary format being read. */
  readonly format: string;
  /** Byte offset into the input where the problem is. */
  readonly offset: number;
  /** What was expected at `offset`. */
  readonly expected: string;

  constructor(details: ParseErrorDetails, problem?: string) {
    super(
      "ERR_EBPF_PARSE",
      `${details.format}: at offset ${details.offset} (0x${details.offset.toString(16)}): expected ${details.expected}${problem ? `, ${problem}` : ""}`,
      details,
    );
    this.format = details.format;
    this.offset = details.offset;
    this.expected = details.expected;
  }
}

/**
 * Joins a context onto an error so that messages read as a path, e.g.
 * `program "xdp_pass": CO-RE relocation #3: ...`. Returns the wrapping error; the original stays in `cause`.
 */
export function withContext<E extends EbpfError>(context: string, error: E): EbpfError {
  const wrapped = new EbpfError(error.code, `${context}: ${error.message}`, { cause: error });
  return wrapped;
}
