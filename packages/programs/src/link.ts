/**
 * Attachments. Every attach API returns a {@link Link}: a bpf_link fd ({@link FdLink}) where the kernel
 * has one, or an object that knows how to undo an attachment the kernel keeps by itself (PROG_ATTACH,
 * netlink XDP/TC, perf event ioctl).
 *
 * Lifetimes: a bpf_link detaches when its last fd is closed, unless it is pinned (then it outlives the
 * process until the pin is removed). A PROG_ATTACH or netlink attachment stays until `detach()` is called
 * (or its target disappears) — closing the process does not remove it.
 */
import { unlinkSync } from "node:fs";
import {
  BpfFlags,
  BpfLinkType,
  Errno,
  type Fd,
  kernelSyscalls,
  type LinkInfo,
  SyscallError,
  type Syscalls,
} from "@ebpf/sys";
import type { Program } from "./program.js";

/**
 * An attachment of a program. `detach()` undoes it; `close()` releases what this process holds (for a
 * bpf_link that also detaches, unless pinned).
 */
export abstract class Link implements Disposable {
  /** A short description, e.g. `xdp on veth0 (link)`. */
  abstract readonly description: string;
  #closed = false;
  #owner: Program | undefined;

  /** True once detached or closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether the attachment survives this process (pinned, or kept by the kernel without an fd). */
  abstract get persistent(): boolean;

  /** Undoes the attachment. Idempotent. */
  detach(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#owner?.forgetLink(this);
    this.doDetach();
  }

  /**
   * Releases this process's hold on the attachment. A bpf_link that is not pinned detaches; a pinned
   * one and kernel-held attachments (netlink, PROG_ATTACH) stay. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    if (!this.persistent) {
      this.detach();
      return;
    }
    this.#closed = true;
    this.#owner?.forgetLink(this);
    this.doRelease();
  }

  /** @internal Records the program whose `close()` closes this link. */
  ownedBy(program: Program): this {
    this.#owner = program;
    return this;
  }

  protected abstract doDetach(): void;
  protected doRelease(): void {}

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return this.description;
  }
}

/** A link type name from a `BpfLinkType` value (`"xdp"`, `"tcx"`...). */
export function linkTypeName(type: number): string {
  const e = Object.entries(BpfLinkType).find(([, v]) => v === type);
  return e ? e[0].toLowerCase() : `type ${type}`;
}

/**
 * A bpf_link: an attachment owned by an fd. It can be pinned, re-opened from its pin, updated to run
 * another program, and queried.
 *
 * @example
 * ```ts
 * const link = prog.attach("veth0");
 * link.pin("/sys/fs/bpf/my_xdp");   // survives the process
 * // later, elsewhere:
 * const again = FdLink.fromPin("/sys/fs/bpf/my_xdp");
 * again.unpin(); again.close();       // detaches
 * ```
 */
export class FdLink extends Link {
  readonly description: string;
  readonly fd: Fd;
  #pinnedAt: string | undefined;
  readonly #sys: Syscalls;

  constructor(fd: Fd, description: string, sys: Syscalls = kernelSyscalls) {
    super();
    this.fd = fd;
    this.description = description;
    this.#sys = sys;
  }

  /** Opens a pinned link. */
  static fromPin(path: string, sys: Syscalls = kernelSyscalls): FdLink {
    const fd = sys.objGet(path, 0, "link");
    const link = new FdLink(fd, `link pinned at ${path}`, sys);
    link.#pinnedAt = path;
    return link;
  }

  /** Opens a link by its kernel id. */
  static fromId(id: number, sys: Syscalls = kernelSyscalls): FdLink {
    return new FdLink(sys.getFdById("link", id), `link id ${id}`, sys);
  }

  get persistent(): boolean {
    return this.#pinnedAt !== undefined;
  }

  /** Where the link is pinned (by this object), if it is. */
  get pinnedAt(): string | undefined {
    return this.#pinnedAt;
  }

  /** Pins the link on bpffs: it then outlives this process until {@link FdLink.unpin}. */
  pin(path: string): void {
    this.#sys.objPin(this.fd, path);
    this.#pinnedAt = path;
  }

  /** Removes the pin made by {@link FdLink.pin} or opened by {@link FdLink.fromPin}. */
  unpin(): void {
    if (this.#pinnedAt === undefined) return;
    unlinkSync(this.#pinnedAt);
    this.#pinnedAt = undefined;
  }

  /**
   * Makes the link run `program` instead (BPF_LINK_UPDATE), atomically; with `expected`, only if it
   * still runs that one.
   */
  update(program: Program, expected?: Program): void {
    this.#sys.linkUpdate(this.fd, program.fd, {
      oldProgFd: expected?.fd,
      flags: expected ? BpfFlags.BPF_F_REPLACE : 0,
    });
  }

  /** The kernel's view of the link (type, id, program id, type-specific fields in `raw`). */
  info(): LinkInfo & { typeName: string } {
    const i = this.#sys.linkInfo(this.fd);
    return { ...i, typeName: linkTypeName(i.type) };
  }

  protected doDetach(): void {
    // Detach explicitly so a pinned link (or a dup of the fd elsewhere) stops too, then drop the pin.
    // Some link types (raw_tp, tracing) have no LINK_DETACH: removing the pin and our fd releases them.
    try {
      if (this.#pinnedAt !== undefined) this.#sys.linkDetach(this.fd);
    } catch (e) {
      if (!(e instanceof SyscallError && (e.errno === Errno.EOPNOTSUPP || e.errno === Errno.EINVAL))) throw e;
    } finally {
      this.unpin();
      this.fd.close();
    }
  }

  protected override doRelease(): void {
    this.fd.close();
  }
}

/**
 * An attachment the kernel keeps without an fd (PROG_ATTACH, netlink XDP/TC): undone by a function. Like
 * an unpinned bpf_link, `close()` detaches it, so a program's attachments never outlive the program object
 * by accident.
 */
export class CallbackLink extends Link {
  readonly description: string;
  readonly #undo: () => void;

  /** @param undo - removes the attachment and frees what it holds */
  constructor(description: string, undo: () => void) {
    super();
    this.description = description;
    this.#undo = undo;
  }

  get persistent(): boolean {
    return false;
  }

  protected doDetach(): void {
    this.#undo();
  }
}
