import { LinuxDefines } from "./abi.generated.js";
import { ClosedFdError, SyscallError } from "./errors.js";
import { errno, libc } from "./libc.js";

/** Closes a raw fd number. The real one calls close(2); {@link FakeSyscalls} supplies its own. */
export type FdCloser = (raw: number) => void;

const realClose: FdCloser = (raw) => {
  libc().close(raw);
};

interface Held {
  raw: number;
  closer: FdCloser;
}

// Safety net only: an Fd that was never closed is closed when collected. Explicit close() unregisters first,
// so a late finalizer can never close a reused fd number.
const registry = new FinalizationRegistry<Held>((held) => {
  try {
    held.closer(held.raw);
  } catch {
    // nothing sensible to do in a finalizer
  }
});

let live = 0;

/**
 * How many {@link Fd}s are open (created and neither closed nor released) in this process: a leak check
 * for tests and diagnostics.
 */
export function liveFdCount(): number {
  return live;
}

/**
 * An owned file descriptor (BPF map, program, link, BTF object, perf event, epoll, socket...). Exactly one
 * owner closes it: call `close()`, or use `using fd = ...` ([Symbol.dispose]). A FinalizationRegistry closes a
 * forgotten one when it is garbage-collected, but that is a safety net, not a way to manage fds.
 *
 * All fds this package creates are close-on-exec.
 *
 * @example
 * ```ts
 * using map = mapCreate({ type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 16 });
 * mapUpdateElem(map, key, value);
 * // closed at the end of the scope
 * ```
 */
export class Fd implements Disposable {
  #raw: number;
  #closer: FdCloser;
  /** What this fd is (`"map"`, `"prog"`, `"link"`...), for error messages. */
  readonly kind: string;

  /**
   * Takes ownership of `raw`. `closer` defaults to close(2).
   * @param raw - a valid, open fd number this object will own
   * @param kind - a short description for messages
   */
  constructor(raw: number, kind = "fd", closer: FdCloser = realClose) {
    if (!Number.isInteger(raw) || raw < 0) throw new RangeError(`invalid fd ${raw}`);
    this.#raw = raw;
    this.#closer = closer;
    this.kind = kind;
    registry.register(this, { raw, closer }, this);
    live++;
  }

  /** The fd number. Throws {@link ClosedFdError} once closed. */
  get raw(): number {
    if (this.#raw < 0) throw new ClosedFdError(`${this.kind} fd`);
    return this.#raw;
  }

  /** True after `close()` or `release()`. */
  get closed(): boolean {
    return this.#raw < 0;
  }

  /** Closes the fd. Idempotent: a second call does nothing. */
  close(): void {
    const raw = this.#raw;
    if (raw < 0) return;
    this.#raw = -1;
    live--;
    registry.unregister(this);
    this.#closer(raw);
  }

  /**
   * Gives up ownership and returns the number; the caller must close it. The Fd reads as closed afterwards.
   */
  release(): number {
    const raw = this.raw;
    this.#raw = -1;
    live--;
    registry.unregister(this);
    return raw;
  }

  /** A new owned Fd for the same kernel object (fcntl F_DUPFD_CLOEXEC). Real fds only. */
  dup(): Fd {
    const l = libc();
    const r = l.fcntl(this.raw, LinuxDefines.F_DUPFD_CLOEXEC, 0);
    if (r < 0) throw new SyscallError({ syscall: "fcntl", command: "F_DUPFD_CLOEXEC", errno: errno() });
    return new Fd(r, this.kind, this.#closer);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return this.#raw < 0 ? `${this.kind} fd (closed)` : `${this.kind} fd ${this.#raw}`;
  }
}

/** The raw number of an `Fd` or a plain number (for fds the caller owns), checking it is open. */
export function rawFd(fd: Fd | number): number {
  if (typeof fd === "number") {
    if (!Number.isInteger(fd) || fd < 0) throw new ClosedFdError(`fd ${fd}`);
    return fd;
  }
  return fd.raw;
}
