/**
 * Live views over an `mmap` of a map (`BPF_F_MMAPABLE` arrays, arenas). The mapping is a dependent of
 * the map: closing the map unmaps it first, and the views become detached (zero length) rather than
 * pointing at unmapped memory.
 */
import type { MapCore, MapDependent } from "./core.js";
import { MapClosedError } from "./errors.js";
import type { MappedMemory } from "./kernel.js";

/**
 * A shared mapping of a map's memory. Reads and writes go straight to the kernel's copy: this is
 * how a program's global variables (`.data`, `.bss`) are read and written while it runs.
 *
 * @example
 * ```ts
 * using mem = dataMap.mmap();
 * mem.view.setUint32(0, 42, true); // the program sees 42 at its next run
 * ```
 */
export class MappedMapMemory implements MapDependent, Disposable {
  private mapping: MappedMemory | undefined;
  private bytesView: Uint8Array;
  private dataView: DataView;

  /** @internal */
  constructor(
    private readonly core: MapCore,
    length: number,
    writable: boolean,
    offset = 0,
  ) {
    this.mapping = core.kernel.mmap(core.fd("mmap()"), length, writable, offset);
    this.bytesView = new Uint8Array(this.mapping.buffer);
    this.dataView = new DataView(this.mapping.buffer);
    core.addDependent(this);
  }

  /** The mapped bytes (throws after release). */
  get bytes(): Uint8Array {
    if (!this.mapping) throw new MapClosedError("mapped memory used", this.core.info.name);
    return this.bytesView;
  }

  /** A `DataView` over the mapped bytes (throws after release). */
  get view(): DataView {
    if (!this.mapping) throw new MapClosedError("mapped memory used", this.core.info.name);
    return this.dataView;
  }

  get closed(): boolean {
    return this.mapping === undefined;
  }

  /** Unmaps. Views handed out earlier become detached. Idempotent. */
  release(): void {
    const m = this.mapping;
    if (!m) return;
    this.mapping = undefined;
    this.core.removeDependent(this);
    this.bytesView = new Uint8Array(0);
    this.dataView = new DataView(new ArrayBuffer(0));
    m.unmap();
  }

  close(): void {
    this.release();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/** Rounds `n` up to a multiple of `page`. */
export function pageAlign(n: number, page: number): number {
  return Math.ceil(n / page) * page;
}
