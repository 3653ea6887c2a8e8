/**
 * A program of a loaded object, before and after `load()`. `bpf.program(name, Xdp)` hands out one of
 * these: it is an `Xdp` (the class's methods, `instanceof Xdp`) whose kernel side exists once `load()`
 * has run, so an application can configure, then load, then attach, in the order aya and libbpf use.
 */
import type { Program, ProgramClass, ProgramLoadOptions, ProgramLoadSpec } from "@ebpf/programs";
import { ProgramNotLoadedError } from "./errors.js";

/** What a program handle adds to its program class. */
export interface ProgramHandleMethods<T extends Program> {
  /** Loads the program into the kernel (once; later calls return the same program). */
  load(options?: ProgramLoadOptions): T;
  /** True once {@link ProgramHandleMethods.load} has succeeded. */
  readonly loaded: boolean;
  /** The loadable spec (relocated instructions, BTF, attach target) the kernel will get. */
  readonly loadSpec: ProgramLoadSpec;
}

/**
 * A program of type `T` that may not be loaded yet: every member of `T` plus `load()`, `loaded` and
 * `loadSpec`. Using a kernel-side member before `load()` throws {@link ProgramNotLoadedError}.
 */
export type ProgramHandle<T extends Program> = T & ProgramHandleMethods<T>;

/** Internal: the state behind a handle, shared with the owning {@link Ebpf}. */
export interface ProgramSlot {
  readonly name: string;
  readonly spec: ProgramLoadSpec;
  program: Program | undefined;
  /** Called after a successful load, so the object can finish (e.g. fill prog arrays). */
  onLoad(program: Program): void;
}

const handleKeys = new Set<PropertyKey>(["load", "loaded", "loadSpec"]);

/** Makes the handle for `slot`, typed as `Type`. */
export function programHandle<T extends Program>(slot: ProgramSlot, Type: ProgramClass<T>): ProgramHandle<T> {
  const load = (options?: ProgramLoadOptions): T => {
    if (!slot.program) {
      // biome-ignore lint/suspicious/noExplicitAny: the typed static `load` of a Program subclass
      const program = (Type as any).load(slot.spec, options) as T;
      slot.program = program;
      slot.onLoad(program);
    }
    return slot.program as T;
  };
  const target = Object.create(Type.prototype) as object;
  return new Proxy(target, {
    get(_t, key) {
      if (key === "load") return load;
      if (key === "loaded") return slot.program !== undefined;
      if (key === "loadSpec") return slot.spec;
      const program = slot.program;
      if (!program) {
        if (key === "name") return slot.name;
        if (key === "then" || typeof key === "symbol") return undefined;
        throw new ProgramNotLoadedError(slot.name, String(key));
      }
      const value = Reflect.get(program, key, program);
      // Methods run on the real program: its private fields are not reachable through a proxy.
      return typeof value === "function" ? value.bind(program) : value;
    },
    has(_t, key) {
      return handleKeys.has(key) || (slot.program ? key in slot.program : key in Type.prototype);
    },
    set(_t, key, value) {
      if (!slot.program) throw new ProgramNotLoadedError(slot.name, `setting ${String(key)}`);
      return Reflect.set(slot.program, key, value, slot.program);
    },
    getPrototypeOf() {
      return Type.prototype;
    },
  }) as ProgramHandle<T>;
}
