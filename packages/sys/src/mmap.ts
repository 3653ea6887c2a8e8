/** Owned memory mappings with zero-copy views. */
import { LinuxDefines } from "./abi.generated.js";
import { ClosedFdError, SyscallError } from "./errors.js";
import { type Fd, rawFd } from "./fd.js";
import { errno, libc, viewOf } from "./libc.js";

interface Region {
  address: number;
  length: number;
}

// When the last view of a mapping's ArrayBuffer is collected, the address range is finally unmapped.
const regions = new FinalizationRegistry<Region>((r) => {
  libc().munmap(r.address, r.length);
});

/** Options of {@link mmap}. */
export interface MmapOptions {
  /** `LinuxDefines.PROT_*`; default PROT_READ | PROT_WRITE. */
  prot?: number;
  /** `LinuxDefines.MAP_*`; default MAP_SHARED. */
  flags?: number;
  /** Byte offset into the file; a multiple of the page size. */
  offset?: number;
}

/**
 * An owned mmap'd region (a ring buffer, a perf ring, an mmapable array map) with a zero-copy
 * `ArrayBuffer` over it.
 *
 * Memory safety: touching a view of unmapped memory would crash the process, and views cannot be
 * revoked. So `close()` does not unmap: it replaces the region in place with private anonymous memory,
 * so stale views read zeros and writes go nowhere; the address range is unmapped when the last view of
 * `buffer` is garbage-collected. The kernel object is released at `close()`.
 *
 * @example
 * ```ts
 * using ring = mmap(mapFd, 4096, { prot: LinuxDefines.PROT_READ });
 * const consumer = new DataView(ring.buffer);
 * ```
 */
export class Mapping implements Disposable {
  readonly address: number;
  readonly length: number;
  #buffer: ArrayBuffer | undefined;

  /** @internal use {@link mmap} */
  constructor(address: number, length: number) {
    this.address = address;
    this.length = length;
    this.#buffer = viewOf(address, length);
    regions.register(this.#buffer, { address, length }, this);
  }

  /** The zero-copy view. Throws once closed. */
  get buffer(): ArrayBuffer {
    if (!this.#buffer) throw new ClosedFdError("mapping");
    return this.#buffer;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#buffer === undefined;
  }

  /** Releases the mapping of the kernel object (idempotent). See the class docs for stale views. */
  close(): void {
    if (!this.#buffer) return;
    this.#buffer = undefined;
    const L = LinuxDefines;
    const r = libc().mmap(
      this.address,
      this.length,
      L.PROT_READ | L.PROT_WRITE,
      L.MAP_PRIVATE | L.MAP_ANONYMOUS | L.MAP_FIXED,
      -1,
      0,
    );
    if (r === -1) {
      // Could not place the placeholder: unmapping now is the only way to release the object (views must
      // not be touched after that), and the finalizer must not unmap the range again later.
      regions.unregister(this);
      libc().munmap(this.address, this.length);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * mmap(2) of an fd (ring buffer map, perf event, mmapable array). Returns an owned {@link Mapping}.
 *
 * @throws {@link SyscallError} (syscall `"mmap"`)
 */
export function mmap(fd: Fd | number, length: number, options: MmapOptions = {}): Mapping {
  const L = LinuxDefines;
  const r = libc().mmap(
    0,
    length,
    options.prot ?? L.PROT_READ | L.PROT_WRITE,
    options.flags ?? L.MAP_SHARED,
    rawFd(fd),
    options.offset ?? 0,
  );
  if (r === -1) throw new SyscallError({ syscall: "mmap", errno: errno() });
  return new Mapping(r, length);
}

let pageSizeCache: number | undefined;
/** The system page size (sysconf(_SC_PAGESIZE)): mmap offsets and ring sizes are multiples of it. */
export function pageSize(): number {
  pageSizeCache ??= libc().sysconf(LinuxDefines.SC_PAGESIZE);
  return pageSizeCache;
}
