/**
 * Global variables of an object: typed access by name to `.data`, `.rodata`, `.bss` and custom data
 * sections, through each variable's BTF type. Before load they edit the initial contents; after load
 * they read and write the live, mmapped map memory the BPF programs see.
 */
import { type Btf, BtfKind, type Codec, createCodec } from "@ebpf/btf";
import type { DataSectionSpec, VariableSpec } from "@ebpf/elf";
import { GlobalVariableError, NotFoundError } from "./errors.js";

/** One global variable: where it lives and how to encode it. */
interface GlobalSlot {
  section: DataSectionSpec;
  variable: VariableSpec;
  codec: Codec<unknown> | undefined;
}

/** Memory behind a data section: its initial contents before load, its mmapped map value after. */
export type SectionMemory = (
  section: DataSectionSpec,
) => { bytes: Uint8Array; writable: boolean } | undefined;

function valueTypeOf(btf: Btf, typeId: number): number {
  const t = btf.typeById(typeId);
  return t.kind === BtfKind.Var ? t.type : typeId;
}

/**
 * Typed access to an object's global variables.
 *
 * @example
 * ```ts
 * bpf.globals.get("exec_count");          // 12n, read live from the mmapped .bss
 * bpf.globals.set("verbose", 1);           // visible to the programs at once (.data/.bss only)
 * ```
 */
export class GlobalVariables {
  readonly #slots = new Map<string, GlobalSlot>();
  readonly #memory: SectionMemory;

  /** @internal Built by {@link Ebpf}; `memory` tells where each section's bytes are now. */
  constructor(sections: readonly DataSectionSpec[], btf: Btf | undefined, memory: SectionMemory) {
    this.#memory = memory;
    for (const section of sections) {
      for (const variable of section.variables) {
        let codec: Codec<unknown> | undefined;
        if (btf && variable.typeId !== undefined) {
          try {
            codec = createCodec(btf, valueTypeOf(btf, variable.typeId), { int64: "bigint" });
          } catch {
            codec = undefined; // no BTF codec for this type: raw bytes only
          }
        }
        this.#slots.set(variable.name, { section, variable, codec });
      }
    }
  }

  /** The names of all global variables, in section order. */
  names(): string[] {
    return [...this.#slots.keys()];
  }

  /** Where a variable lives: section name, offset, size. */
  describe(name: string): { section: string; offset: number; size: number; readonly: boolean } {
    const s = this.#slot(name);
    return {
      section: s.section.name,
      offset: s.variable.offset,
      size: s.variable.size,
      readonly: s.section.kind === "rodata",
    };
  }

  /** Reads a variable, decoded through its BTF type (raw bytes when it has none). */
  get(name: string): unknown {
    const s = this.#slot(name);
    const mem = this.#memoryOf(s);
    if (!s.codec) return mem.bytes.slice(s.variable.offset, s.variable.offset + s.variable.size);
    return s.codec.decode(mem.bytes, s.variable.offset);
  }

  /** The raw bytes of a variable: a live view after load (do not keep it past `close()`). */
  bytes(name: string): Uint8Array {
    const s = this.#slot(name);
    const mem = this.#memoryOf(s);
    return mem.bytes.subarray(s.variable.offset, s.variable.offset + s.variable.size);
  }

  /**
   * Writes a variable. Before load this sets its initial value (any section); after load only writable
   * sections (`.data`, `.bss`) can change, and programs see the new value at once.
   */
  set(name: string, value: unknown): void {
    const s = this.#slot(name);
    const mem = this.#memoryOf(s);
    if (!mem.writable) {
      throw new GlobalVariableError(
        `global "${name}" is in ${s.section.name}, which is read-only after load: set it in the \`globals\` load option`,
      );
    }
    if (value instanceof Uint8Array) {
      if (value.byteLength !== s.variable.size) {
        throw new GlobalVariableError(
          `global "${name}" is ${s.variable.size} bytes, the value given is ${value.byteLength}`,
        );
      }
      mem.bytes.set(value, s.variable.offset);
      return;
    }
    if (!s.codec) {
      throw new GlobalVariableError(
        `global "${name}" has no BTF type: pass its ${s.variable.size} raw bytes`,
      );
    }
    if (s.codec.size !== s.variable.size) {
      throw new GlobalVariableError(
        `global "${name}": BTF says ${s.codec.size} bytes but the symbol is ${s.variable.size}`,
      );
    }
    try {
      s.codec.encode(value, mem.bytes, s.variable.offset);
    } catch (e) {
      throw new GlobalVariableError(`global "${name}": ${(e as Error).message}`, { cause: e });
    }
  }

  #slot(name: string): GlobalSlot {
    const s = this.#slots.get(name);
    if (!s) throw new NotFoundError("global", name, this.names());
    return s;
  }

  #memoryOf(s: GlobalSlot): { bytes: Uint8Array; writable: boolean } {
    const mem = this.#memory(s.section);
    if (!mem) {
      throw new GlobalVariableError(
        `global "${s.variable.name}": section ${s.section.name} is not readable now (the object is closed, or the kernel cannot mmap it)`,
      );
    }
    return mem;
  }
}
