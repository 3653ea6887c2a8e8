/**
 * Errors thrown by `@ebpf/maps`. Every one is an {@link EbpfError} with a stable `code`.
 */
import { EbpfError, type EbpfErrorOptions } from "@ebpf/errors";

/**
 * A map operation failed or was given bad input (wrong key size, value too large, unknown type).
 *
 * @example
 * ```ts
 * try { map.set(key, value); } catch (e) {
 *   if (e instanceof MapError && e.code === "ERR_EBPF_MAP_KEY_SIZE") console.error(e.message);
 * }
 * ```
 */
export class MapError extends EbpfError {
  /** The map's name, when it has one. */
  readonly mapName: string | undefined;

  constructor(code: string, message: string, options?: EbpfErrorOptions & { mapName?: string }) {
    super(code, options?.mapName ? `map "${options.mapName}": ${message}` : message, options);
    this.mapName = options?.mapName;
  }
}

/** A key or value had the wrong size for the map (`ERR_EBPF_MAP_KEY_SIZE` / `ERR_EBPF_MAP_VALUE_SIZE`). */
export class MapSizeError extends MapError {
  /** The size the map expects, in bytes. */
  readonly expected: number;
  /** The size that was given, in bytes. */
  readonly actual: number;

  constructor(what: "key" | "value", expected: number, actual: number, mapName?: string) {
    super(
      what === "key" ? "ERR_EBPF_MAP_KEY_SIZE" : "ERR_EBPF_MAP_VALUE_SIZE",
      `${what} is ${actual} bytes, the map's ${what} size is ${expected}`,
      { mapName },
    );
    this.expected = expected;
    this.actual = actual;
  }
}

/** The map (or a reader over it) was used after `close()` (`ERR_EBPF_MAP_CLOSED`). */
export class MapClosedError extends MapError {
  constructor(what: string, mapName?: string) {
    super("ERR_EBPF_MAP_CLOSED", `${what} after close()`, { mapName });
  }
}

/** A map spec or map type is invalid or of the wrong kind for the class (`ERR_EBPF_MAP_TYPE`). */
export class MapTypeError extends MapError {
  constructor(message: string, mapName?: string) {
    super("ERR_EBPF_MAP_TYPE", message, { mapName });
  }
}

/** A key was not in the map where one was required (`ERR_EBPF_MAP_KEY_NOT_FOUND`). */
export class KeyNotFoundError extends MapError {
  constructor(message: string, mapName?: string) {
    super("ERR_EBPF_MAP_KEY_NOT_FOUND", message, { mapName });
  }
}
