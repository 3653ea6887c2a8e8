/**
 * The process-wide readiness poller for event streams (ring buffers, perf rings, any pollable fd).
 *
 * One async `epoll_wait` runs on the libuv threadpool at a time (each blocked async call holds a pool
 * thread and keeps the process alive, so there is only ever one). Callbacks run on the main thread when
 * their fd is ready; they should drain synchronously (the epoll set is level-triggered, so an undrained
 * fd fires again). An eventfd in the set wakes the wait for shutdown and when the last fd is removed, and
 * with nothing registered no wait is in flight: the poller never keeps a process from exiting.
 */
import { LinuxDefines } from "./abi.generated.js";
import { ClosedFdError, SyscallError } from "./errors.js";
import type { Fd } from "./fd.js";
import { errno, libc } from "./libc.js";
import { EpollEvents, epollCreate, epollCtl, eventfd, eventfdRead, eventfdWrite } from "./poll.js";

/** Called on the main thread with the ready `EPOLL*` event bits. */
export type ReadyCallback = (events: number) => void;

/** A registration; `unregister()` (or `using`) removes it. Unregister before closing the fd. */
export interface Registration extends Disposable {
  unregister(): void;
}

const WAKE_TOKEN = 0n;

/** Options of {@link Poller}. */
export interface PollerOptions {
  /** Receives errors thrown by callbacks; the default rethrows them asynchronously (uncaught). */
  onError?: (error: unknown) => void;
  /** Events returned per wake-up (default 64). */
  maxEvents?: number;
}

/**
 * A readiness poller. Use the process-wide {@link Poller.shared} unless you need isolation (tests).
 *
 * @example
 * ```ts
 * const reg = Poller.shared().register(ringFd, () => ring.drain());
 * // ...
 * reg.unregister();
 * ```
 */
export class Poller {
  static #shared: Poller | undefined;

  /** The process-wide poller (created on first use; re-created after {@link Poller.close}). */
  static shared(): Poller {
    if (!Poller.#shared || Poller.#shared.closed) Poller.#shared = new Poller();
    return Poller.#shared;
  }

  readonly #epfd: Fd;
  readonly #wake: Fd;
  readonly #events: EpollEvents;
  readonly #handlers = new Map<bigint, { fd: number; callback: ReadyCallback }>();
  readonly #onError: (error: unknown) => void;
  #nextToken = 1n;
  #inFlight = false;
  #closed = false;
  #closeWaiters: (() => void)[] = [];
  #wakeups = 0;

  constructor(options: PollerOptions = {}) {
    this.#epfd = epollCreate();
    try {
      this.#wake = eventfd(0, LinuxDefines.EFD_NONBLOCK);
    } catch (e) {
      this.#epfd.close();
      throw e;
    }
    this.#events = new EpollEvents(options.maxEvents ?? 64);
    this.#onError =
      options.onError ??
      ((e) => {
        process.nextTick(() => {
          throw e;
        });
      });
    try {
      epollCtl(this.#epfd, LinuxDefines.EPOLL_CTL_ADD, this.#wake, LinuxDefines.EPOLLIN, WAKE_TOKEN);
    } catch (e) {
      this.#epfd.close();
      this.#wake.close();
      throw e;
    }
  }

  /** How many fds are registered. */
  get size(): number {
    return this.#handlers.size;
  }

  /** True while an async epoll_wait is in flight (holding a threadpool thread). */
  get waiting(): boolean {
    return this.#inFlight;
  }

  /** True after {@link Poller.close}. */
  get closed(): boolean {
    return this.#closed;
  }

  /** How many times the wait has returned (for tests and diagnostics). */
  get wakeups(): number {
    return this.#wakeups;
  }

  /**
   * Calls `callback` whenever `fd` is ready for `events` (default EPOLLIN). The fd must stay open until
   * the registration is removed.
   */
  register(fd: Fd | number, callback: ReadyCallback, events: number = LinuxDefines.EPOLLIN): Registration {
    if (this.#closed) throw new ClosedFdError("poller");
    const raw = typeof fd === "number" ? fd : fd.raw;
    const token = this.#nextToken++;
    epollCtl(this.#epfd, LinuxDefines.EPOLL_CTL_ADD, raw, events, token);
    this.#handlers.set(token, { fd: raw, callback });
    this.#arm();
    let done = false;
    const unregister = () => {
      if (done) return;
      done = true;
      this.#remove(token);
    };
    return { unregister, [Symbol.dispose]: unregister };
  }

  #remove(token: bigint): void {
    const h = this.#handlers.get(token);
    if (!h) return;
    this.#handlers.delete(token);
    if (!this.#closed) {
      try {
        epollCtl(this.#epfd, LinuxDefines.EPOLL_CTL_DEL, h.fd, 0, 0);
      } catch (e) {
        // The fd was closed first: the kernel already dropped it from the set.
        if (!(e instanceof SyscallError && (e.errnoName === "EBADF" || e.errnoName === "ENOENT"))) throw e;
      }
    }
    // Release the threadpool thread so that an idle poller does not keep the process alive.
    if (this.#handlers.size === 0 && this.#inFlight) eventfdWrite(this.#wake);
  }

  #arm(): void {
    if (this.#inFlight || this.#closed || this.#handlers.size === 0) return;
    this.#inFlight = true;
    const l = libc();
    l.epoll_wait.async(
      this.#epfd.raw,
      this.#events.scratch.address,
      this.#events.max,
      -1,
      (err: unknown, r: number) => {
        const e = r < 0 ? errno() : 0;
        this.#onWake(err, r, e);
      },
    );
  }

  #onWake(err: unknown, n: number, e: number): void {
    this.#inFlight = false;
    this.#wakeups++;
    if (this.#closed) {
      this.#finishClose();
      return;
    }
    if (err || (n < 0 && e !== 4)) {
      this.#onError(err ?? new SyscallError({ syscall: "epoll_wait", errno: e }));
      // Back off before retrying so that a persistent failure does not spin.
      this.#inFlight = true;
      setTimeout(() => {
        this.#inFlight = false;
        if (this.#closed) this.#finishClose();
        else this.#arm();
      }, 10);
      return;
    }
    for (let i = 0; i < n; i++) {
      const { events, data } = this.#events.at(i);
      if (data === WAKE_TOKEN) {
        eventfdRead(this.#wake);
        continue;
      }
      const h = this.#handlers.get(data);
      if (!h) continue; // removed by an earlier callback in this batch
      try {
        h.callback(events);
      } catch (error) {
        this.#onError(error);
      }
    }
    this.#arm();
  }

  #finishClose(): void {
    this.#epfd.close();
    this.#wake.close();
    for (const w of this.#closeWaiters.splice(0)) w();
  }

  /**
   * Removes every registration and closes the epoll and wake fds once the in-flight wait (if any) has
   * returned. Resolves when done.
   */
  close(): Promise<void> {
    if (this.#closed)
      return this.#inFlight ? new Promise((r) => this.#closeWaiters.push(r)) : Promise.resolve();
    for (const token of [...this.#handlers.keys()]) this.#remove(token);
    this.#closed = true;
    if (!this.#inFlight) {
      this.#finishClose();
      return Promise.resolve();
    }
    eventfdWrite(this.#wake);
    return new Promise((r) => this.#closeWaiters.push(r));
  }
}
