/**
 * The untyped map handle every typed map wraps: one owned fd plus what the kernel says about it.
 * Children that borrow the map's memory (mmaps, readers) register here so `close()` can release them
 * before the fd goes away.
 */
import { MapClosedError } from "./errors.js";
import { type KernelMapInfo, type MapKernel, mapKernel } from "./kernel.js";
import { mapTypeName } from "./spec.js";

/** Something that must be released before the map's fd closes (an mmap, a reader). */
export interface MapDependent {
  release(): void;
}

// Safety net only: an fd whose owner was garbage collected without close(). Unregistered on close so a
// late finalizer never closes a reused fd number.
const leakedFds = new FinalizationRegistry<{ fd: number; kernel: MapKernel }>(({ fd, kernel }) => {
  try {
    kernel.close(fd);
  } catch {
    // nothing useful to do in a finalizer
  }
});

/**
 * An open map: fd, kernel info, and the dependents to release on close.
 *
 * @internal (typed maps expose what users need)
 */
export class MapCore {
  readonly kernel: MapKernel;
  readonly info: KernelMapInfo;
  private rawFd: number;
  private readonly dependents = new Set<MapDependent>();
  private readonly token = {};
  pinnedPath: string | undefined;
  /** BTF type ids from the spec the map was created from (the kernel only knows them with a BTF fd). */
  specTypeIds: { key: number; value: number } | undefined;

  /** The key/value BTF type ids: the kernel's, else the creating spec's; 0 when unknown. */
  btfTypeIds(): { key: number; value: number } {
    return {
      key: this.info.btfKeyTypeId || (this.specTypeIds?.key ?? 0),
      value: this.info.btfValueTypeId || (this.specTypeIds?.value ?? 0),
    };
  }

  constructor(fd: number, info: KernelMapInfo, kernel: MapKernel = mapKernel()) {
    this.rawFd = fd;
    this.info = info;
    this.kernel = kernel;
    leakedFds.register(this, { fd, kernel }, this.token);
  }

  /** Wraps an fd this process owns, asking the kernel what it is. */
  static adopt(fd: number, kernel: MapKernel = mapKernel()): MapCore {
    let info: KernelMapInfo;
    try {
      info = kernel.info(fd);
    } catch (e) {
      kernel.close(fd);
      throw e;
    }
    return new MapCore(fd, info, kernel);
  }

  get closed(): boolean {
    return this.rawFd < 0;
  }

  /** The fd; throws {@link MapClosedError} after close. */
  fd(what = "map used"): number {
    if (this.rawFd < 0) throw new MapClosedError(what, this.info.name || undefined);
    return this.rawFd;
  }

  get label(): string {
    return `${mapTypeName(this.info.type)} map${this.info.name ? ` "${this.info.name}"` : ""}`;
  }

  addDependent(d: MapDependent): void {
    this.fd("attaching to a map");
    this.dependents.add(d);
  }

  removeDependent(d: MapDependent): void {
    this.dependents.delete(d);
  }

  /** Releases dependents (mmaps first), then closes the fd. Idempotent. */
  close(): void {
    if (this.rawFd < 0) return;
    // Every dependent is released (unmapped) before the fd closes, even if one of them fails.
    let failure: unknown;
    for (const d of [...this.dependents]) {
      try {
        d.release();
      } catch (e) {
        failure ??= e;
      }
    }
    this.dependents.clear();
    const fd = this.rawFd;
    this.rawFd = -1;
    leakedFds.unregister(this.token);
    this.kernel.close(fd);
    if (failure !== undefined) throw failure;
  }
}
