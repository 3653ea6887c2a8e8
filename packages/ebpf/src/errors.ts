import { EbpfError, type EbpfErrorOptions } from "@ebpf/errors";

/**
 * Loading an object failed: names the object and the step (map creation, relocation, BTF load…); the
 * underlying error is in `cause`.
 */
export class ObjectLoadError extends EbpfError {
  constructor(message: string, options?: EbpfErrorOptions & { code?: string }) {
    super(options?.code ?? "ERR_EBPF_OBJECT_LOAD", message, options);
  }
}

/** A program or map asked for by name does not exist in the object; the message lists those that do. */
export class NotFoundError extends EbpfError {
  constructor(what: "program" | "map" | "global", name: string, available: readonly string[]) {
    super(
      "ERR_EBPF_NOT_FOUND",
      `no ${what} named "${name}" in the object${available.length ? ` (it has: ${available.join(", ")})` : ` (it has no ${what}s)`}`,
    );
  }
}

/** `bpf.program(name, Type)` with a class that does not fit the program's real type. */
export class ProgramTypeMismatchError extends EbpfError {
  constructor(name: string, actual: string, requested: string) {
    super(
      "ERR_EBPF_PROGRAM_TYPE",
      `program "${name}" is ${actual}, not a ${requested}: ask for it with the matching class`,
    );
  }
}

/** A program handle was used before `load()`. */
export class ProgramNotLoadedError extends EbpfError {
  constructor(name: string, member: string) {
    super("ERR_EBPF_NOT_LOADED", `program "${name}" is not loaded yet: call load() before ${member}`);
  }
}

/** A value given in `globals` does not fit the variable (unknown name, read-only section after load…). */
export class GlobalVariableError extends EbpfError {
  constructor(message: string, options?: EbpfErrorOptions) {
    super("ERR_EBPF_GLOBAL", message, options);
  }
}
