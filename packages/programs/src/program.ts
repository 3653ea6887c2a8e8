/**
 * The loaded program: an fd plus what it is. Typed subclasses (`Xdp`, `SchedClassifier`, `TracePoint`...)
 * add their attach API; this base has what every type shares: load, pin, open from a pin or id, info,
 * test run, close.
 */
import { unlinkSync } from "node:fs";
import {
  BpfProgType,
  Errno,
  type Fd,
  kernelSyscalls,
  type ProgInfo,
  SyscallError,
  type Syscalls,
} from "@ebpf/sys";
import { resolveAttachTarget } from "./attach-target.js";
import { AttachError } from "./errors.js";
import type { Link } from "./link.js";
import { loadProgramFd, progTypeName, type VerifierLogOptions } from "./load.js";
import type { ProgramLoadSpec } from "./spec.js";

/** What a {@link Program} knows about itself besides its fd. */
export interface ProgramMeta {
  /** The program's name (as given at load, or as the kernel reports it). */
  name: string;
  /** A `BpfProgType` value. */
  type: number;
  /** A `BpfAttachType` value, when known. */
  expectedAttachType?: number;
  /** The attach target the program was loaded for (tracing, iter, lsm, ext). */
  attachTo?: string;
}

/** Options of {@link Program.load}. */
export interface ProgramLoadOptions {
  /** The kernel seam (a fake in unit tests). */
  sys?: Syscalls;
  /** Verifier log level and first buffer size, used when the load fails. */
  verifierLog?: VerifierLogOptions;
}

/** Options of {@link Program.testRun}. */
export interface TestRunOptions {
  /** Packet or input data (skb, xdp, flow dissector...). */
  data?: Uint8Array;
  /** The context struct (`struct __sk_buff`, `struct xdp_md`, a syscall program's args...). */
  ctx?: Uint8Array;
  /** Run this many times and report the average duration. Default 1. */
  repeat?: number;
  /** `BPF_F_TEST_RUN_ON_CPU`, `BPF_F_TEST_XDP_LIVE_FRAMES`. */
  flags?: number;
  /** With BPF_F_TEST_RUN_ON_CPU: which CPU. */
  cpu?: number;
  /** Room for the output packet; default `data.length + 256` (programs may grow the packet). */
  dataOutSize?: number;
}

/** Result of {@link Program.testRun}. */
export interface TestRunResult {
  /** The program's return value (e.g. an XDP action). */
  retval: number;
  /** Average run time per repetition, in nanoseconds. */
  duration: number;
  /** The packet after the run (empty when no data was given). */
  dataOut: Uint8Array;
  /** The context after the run, when a context was given. */
  ctxOut: Uint8Array | undefined;
}

/** A class of {@link Program}, for the typed `load`/`fromPin` statics. */
export interface ProgramClass<T extends Program> {
  new (fd: Fd, meta: ProgramMeta, sys: Syscalls): T;
  /** The `BpfProgType` values this class accepts (undefined: any). */
  readonly programTypes?: readonly number[];
}

/**
 * A program loaded in the kernel. Closing it closes the fd and detaches every unpinned link it made;
 * pinned links (and a pinned program) stay in the kernel.
 *
 * @example
 * ```ts
 * using prog = Program.load({ name: "ret2", type: BpfProgType.XDP, license: "GPL",
 *   instructions: [mov64Imm(0, 2), exit()] });
 * const { retval } = prog.testRun({ data: new Uint8Array(64) }); // 2 (XDP_PASS)
 * ```
 */
export class Program implements Disposable {
  /** The program fd. */
  readonly fd: Fd;
  /** The program's name. */
  readonly name: string;
  /** A `BpfProgType` value. */
  readonly type: number;
  /** A `BpfAttachType` value, when known. */
  readonly expectedAttachType: number | undefined;
  /** The attach target given at load (tracing, iter, lsm, ext). */
  readonly attachTo: string | undefined;
  /** The kernel seam this program was loaded through (the real kernel unless a fake was given). */
  readonly sys: Syscalls;
  readonly #links = new Set<Link>();
  #pinnedAt: string | undefined;

  /** Wraps an fd this object will own. Prefer {@link Program.load} and the `from*` statics. */
  constructor(fd: Fd, meta: ProgramMeta, sys: Syscalls = kernelSyscalls) {
    this.fd = fd;
    this.name = meta.name;
    this.type = meta.type;
    this.expectedAttachType = meta.expectedAttachType;
    this.attachTo = meta.attachTo;
    this.sys = sys;
  }

  /**
   * Loads a program. On a typed class (`Xdp.load(spec)`) the spec's type must be one the class accepts.
   *
   * @throws VerifierError when the verifier rejects it; the kernel's LoadError otherwise
   */
  static load<T extends Program>(
    this: ProgramClass<T>,
    spec: ProgramLoadSpec,
    options: ProgramLoadOptions = {},
  ): T {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the typed subclass being loaded
    checkType(this, spec.type, spec.name);
    const sys = options.sys ?? kernelSyscalls;
    const target = resolveAttachTarget(spec, sys);
    let fd: Fd;
    try {
      fd = loadProgramFd(spec, target, sys, options.verifierLog);
    } finally {
      target.attachBtfObjFd?.close();
    }
    return new this(
      fd,
      {
        name: spec.name,
        type: spec.type,
        expectedAttachType: spec.expectedAttachType,
        attachTo: spec.attachTo,
      },
      sys,
    );
  }

  /** Opens a pinned program. */
  static fromPin<T extends Program>(
    this: ProgramClass<T>,
    path: string,
    options: ProgramLoadOptions = {},
  ): T {
    const sys = options.sys ?? kernelSyscalls;
    const fd = sys.objGet(path, 0, "prog");
    // biome-ignore lint/complexity/noThisInStatic: `this` is the typed subclass being loaded
    const p = wrap(this, fd, sys);
    p.#pinnedAt = path;
    return p;
  }

  /** Opens a program by its kernel id (see {@link listPrograms}). */
  static fromId<T extends Program>(this: ProgramClass<T>, id: number, options: ProgramLoadOptions = {}): T {
    const sys = options.sys ?? kernelSyscalls;
    // biome-ignore lint/complexity/noThisInStatic: `this` is the typed subclass being loaded
    return wrap(this, sys.getFdById("prog", id), sys);
  }

  /** Wraps a program fd this object will own (e.g. received from another process), typed by its info. */
  static fromFd<T extends Program>(this: ProgramClass<T>, fd: Fd, options: ProgramLoadOptions = {}): T {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the typed subclass being opened
    return wrap(this, fd, options.sys ?? kernelSyscalls);
  }

  /** The kernel's information on the program: id, tag, run count and time (with stats enabled)... */
  info(): ProgInfo & { typeName: string } {
    const i = this.sys.progInfo(this.fd);
    return { ...i, typeName: progTypeName(i.type) };
  }

  /** Pins the program on bpffs: it stays loaded until the pin is removed. */
  pin(path: string): void {
    this.sys.objPin(this.fd, path);
    this.#pinnedAt = path;
  }

  /** Removes the pin made by {@link Program.pin} (or opened by {@link Program.fromPin}). */
  unpin(): void {
    if (this.#pinnedAt === undefined) return;
    unlinkSync(this.#pinnedAt);
    this.#pinnedAt = undefined;
  }

  /** Where this program is pinned, if it is (by this object). */
  get pinnedAt(): string | undefined {
    return this.#pinnedAt;
  }

  /** The links this program made that are still attached. */
  get links(): readonly Link[] {
    return [...this.#links];
  }

  /**
   * Runs the program in the kernel on the given input (BPF_PROG_TEST_RUN) without attaching it: the way
   * to unit-test BPF programs, e.g. from vitest.
   *
   * @example
   * ```ts
   * const r = prog.testRun({ data: packet, repeat: 1000 });
   * expect(r.retval).toBe(XdpAction.DROP);
   * ```
   */
  testRun(options: TestRunOptions = {}): TestRunResult {
    if (this.type === BpfProgType.SYSCALL) return this.#runSyscall(options);
    const data = options.data;
    let outSize = options.dataOutSize ?? (data ? data.byteLength + 256 : 0);
    const ctxOut = options.ctx ? new Uint8Array(options.ctx.byteLength) : undefined;
    for (let attempt = 0; ; attempt++) {
      const dataOut = new Uint8Array(outSize);
      try {
        const r = this.sys.progTestRun({
          progFd: this.fd,
          dataIn: data,
          dataOut: outSize > 0 ? dataOut : undefined,
          ctxIn: options.ctx,
          ctxOut,
          repeat: options.repeat,
          flags: options.flags,
          cpu: options.cpu,
        });
        return {
          retval: r.retval | 0,
          duration: r.duration,
          dataOut: dataOut.subarray(0, Math.min(r.dataSizeOut, outSize)),
          ctxOut: ctxOut?.subarray(0, Math.min(r.ctxSizeOut, ctxOut.byteLength)),
        };
      } catch (e) {
        // The output did not fit: the kernel needs more room than we guessed. Grow once.
        if (attempt === 0 && e instanceof SyscallError && e.errno === Errno.ENOSPC) {
          outSize = Math.max(outSize * 2, 4096);
          continue;
        }
        if (e instanceof SyscallError)
          throw new SyscallError({
            syscall: e.syscall,
            command: e.command,
            errno: e.errno,
            context: `test run of program "${this.name}" (${progTypeName(this.type)})`,
            cause: e,
          });
        throw e;
      }
    }
  }

  /** Syscall programs take only a context, which the kernel writes back in place (no ctx_out, no repeat). */
  #runSyscall(options: TestRunOptions): TestRunResult {
    const ctx = options.ctx ? options.ctx.slice() : undefined;
    const r = this.sys.progTestRun({ progFd: this.fd, ctxIn: ctx, flags: options.flags, cpu: options.cpu });
    return { retval: r.retval | 0, duration: r.duration, dataOut: new Uint8Array(0), ctxOut: ctx };
  }

  /** @internal Registers a link made by this program, closed with it. */
  protected adopt<L extends Link>(link: L): L {
    this.#links.add(link);
    return link.ownedBy(this);
  }

  /** @internal Called by a link when it is detached or closed. */
  forgetLink(link: Link): void {
    this.#links.delete(link);
  }

  /** True once closed. */
  get closed(): boolean {
    return this.fd.closed;
  }

  /**
   * Closes the fd and every link of this program that is not pinned (detaching it). Pinned links and a
   * pinned program stay in the kernel.
   */
  close(): void {
    const errors: unknown[] = [];
    for (const l of [...this.#links]) {
      try {
        l.close();
      } catch (e) {
        errors.push(e);
      }
    }
    this.fd.close();
    if (errors.length > 0) throw errors[0];
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return `${progTypeName(this.type)} program "${this.name}"`;
  }
}

function checkType(cls: ProgramClass<Program>, type: number, name: string): void {
  const ok = cls.programTypes;
  if (ok && !ok.includes(type))
    throw new AttachError(
      `program "${name}" is a ${progTypeName(type)} program, not ${ok.map(progTypeName).join(" or ")}`,
      { code: "ERR_EBPF_PROGRAM_TYPE" },
    );
}

function wrap<T extends Program>(cls: ProgramClass<T>, fd: Fd, sys: Syscalls): T {
  try {
    const info = sys.progInfo(fd);
    checkType(cls, info.type, info.name);
    return new cls(fd, { name: info.name, type: info.type }, sys);
  } catch (e) {
    fd.close();
    throw e;
  }
}
