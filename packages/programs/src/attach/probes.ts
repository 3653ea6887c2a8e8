/**
 * kprobes and uprobes: a perf event on the kprobe/uprobe PMU (the probe exists as long as the event fd),
 * or on older kernels a probe event created in tracefs (`kprobe_events`, `uprobe_events`) that the
 * attachment removes on detach.
 */
import { existsSync } from "node:fs";
import {
  BpfAttachType,
  BpfFlags,
  BpfProgType,
  Errno,
  type Fd,
  haveKprobeMultiLink,
  kernelSyscalls,
  kprobeMultiLinkCreate,
  kprobeMultiNotSupported,
  NotSupportedError,
  PerfTypeId,
  perfEventOpenProbe,
  probePmu,
  SyscallError,
  uprobeMultiLinkCreate,
} from "@ebpf/sys";
import { AttachError } from "../errors.js";
import { CallbackLink, FdLink, type Link } from "../link.js";
import { Program } from "../program.js";
import { symbolOffset } from "./elf-symbols.js";
import { KERNEL_FUNCTION_NAME, kernelFunctionsMatching } from "./kprobe-multi.js";
import { attachPerfEvent } from "./perf-link.js";
import { createProbeEvent, tracefsRoot } from "./tracefs.js";

/** Options of {@link KProbe.attach}. */
export interface KProbeAttachOptions {
  /** Byte offset into the function (kprobes only). */
  offset?: number;
  /** Attach at return (a kretprobe); default: what the program was loaded as. */
  retprobe?: boolean;
  /** bpf_get_attach_cookie() value (5.15+). */
  cookie?: bigint | number;
}

/** Options of {@link KProbe.attachMulti}. */
export interface KProbeMultiAttachOptions {
  /** Attach at return (kretprobe.multi); default: what the program was loaded as (a {@link KRetProbe}). */
  retprobe?: boolean;
  /** bpf_get_attach_cookie() values, one per function of a symbol list, in its order (not with a pattern). */
  cookies?: readonly (bigint | number)[];
}

/** Whether this kernel has kprobes (CONFIG_KPROBES): the PMU or the tracefs interface. */
export function haveKprobes(): boolean {
  if (probePmu("kprobe")) return true;
  try {
    return existsSync(`${tracefsRoot()}/kprobe_events`);
  } catch {
    return false;
  }
}

/** A kprobe or kretprobe program (`kprobe/<func>`, `kretprobe/<func>`). */
export class KProbe extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.KPROBE];

  /**
   * Attaches to kernel function `func`.
   * @throws NotSupportedError when the kernel was built without kprobes
   */
  attach(func: string, options: KProbeAttachOptions = {}): Link {
    if (!haveKprobes())
      throw new NotSupportedError({ feature: "kprobes (CONFIG_KPROBES: no kprobe PMU, no kprobe_events)" });
    if (!/^[A-Za-z0-9_.]+$/.test(func))
      throw new AttachError(`invalid kernel function name ${JSON.stringify(func)}`, {
        code: "ERR_EBPF_ATTACH_TARGET",
      });
    const ret = options.retprobe ?? this instanceof KRetProbe;
    const target = options.offset ? `${func}+${options.offset}` : func;
    const what = `${ret ? "kretprobe" : "kprobe"} ${target} "${this.name}"`;
    if (probePmu("kprobe")) {
      const event = perfEventOpenProbe({
        kind: "kprobe",
        target: func,
        offset: options.offset ?? 0,
        retprobe: ret,
      });
      return this.adopt(attachPerfEvent(this.sys, this.fd, event, what, { cookie: options.cookie }));
    }
    const probe = createProbeEvent("kprobe", ret, target);
    return this.adopt(attachProbe(this, probe, what, -1, options.cookie));
  }

  /**
   * Attaches to many kernel functions under one kprobe_multi link (5.18+, fprobe: CONFIG_FPROBE), like
   * libbpf's `bpf_program__attach_kprobe_multi_opts`. `target` is a glob (`*`, `?`) expanded against
   * `available_filter_functions` ({@link kernelFunctionsMatching}), or a list of function names; without
   * one, the pattern of the program's `kprobe.multi/<pattern>` section (its `attachTo`). The program must
   * be loaded for it (expected attach type TRACE_KPROBE_MULTI, as `kprobe.multi`/`kretprobe.multi`
   * sections are).
   *
   * @example
   * ```ts
   * using link = prog.attachMulti("__x64_sys_getp*");
   * using two = prog.attachMulti(["do_sys_openat2", "vfs_read"], { cookies: [1n, 2n] });
   * ```
   * @throws NotSupportedError (minKernel 5.18) when the kernel has no kprobe_multi links, naming
   *   CONFIG_FPROBE when that is what is missing (a kernel without kprobes has no fprobe either)
   * @throws AttachError ERR_EBPF_ATTACH_TARGET when the pattern matches no function or the kernel cannot
   *   find or trace one of them; ERR_EBPF_ATTACH_TYPE when the program was not loaded for kprobe.multi
   */
  attachMulti(target?: string | readonly string[], options: KProbeMultiAttachOptions = {}): Link {
    const ret = options.retprobe ?? this instanceof KRetProbe;
    const kind = `${ret ? "kretprobe" : "kprobe"}.multi`;
    if (this.expectedAttachType !== BpfAttachType.TRACE_KPROBE_MULTI)
      throw new AttachError(
        `program "${this.name}" was not loaded for ${kind} (expected attach type TRACE_KPROBE_MULTI: a kprobe.multi/ or kretprobe.multi/ section)`,
        { code: "ERR_EBPF_ATTACH_TYPE" },
      );
    // Ask the real kernel first, so that a kernel without the link type says so before any pattern work.
    if (this.sys === kernelSyscalls && !haveKprobeMultiLink()) throw kprobeMultiNotSupported();
    const pattern = target ?? this.attachTo;
    if (pattern === undefined || pattern.length === 0)
      throw new AttachError(`${kind} "${this.name}": no functions (give a pattern or names)`, {
        code: "ERR_EBPF_ATTACH_TARGET",
      });
    let symbols: readonly string[];
    let what: string;
    if (typeof pattern === "string") {
      if (options.cookies)
        throw new AttachError(`${kind}: cookies need a list of functions, not the pattern "${pattern}"`, {
          code: "ERR_EBPF_ATTACH_TARGET",
        });
      symbols = kernelFunctionsMatching(pattern);
      if (symbols.length === 0)
        throw new AttachError(`${kind} pattern "${pattern}" matches no traceable kernel function`, {
          code: "ERR_EBPF_ATTACH_TARGET",
        });
      what = `${kind} ${pattern} (${symbols.length} functions) "${this.name}"`;
    } else {
      const bad = pattern.find((s) => !KERNEL_FUNCTION_NAME.test(s));
      if (bad !== undefined)
        throw new AttachError(`invalid kernel function name ${JSON.stringify(bad)}`, {
          code: "ERR_EBPF_ATTACH_TARGET",
        });
      symbols = pattern;
      const shown = symbols.length > 4 ? `${symbols.slice(0, 4).join(", ")}, ...` : symbols.join(", ");
      what = `${kind} [${shown}] (${symbols.length} functions) "${this.name}"`;
    }
    let fd: Fd;
    try {
      fd = kprobeMultiLinkCreate(
        { progFd: this.fd, symbols, cookies: options.cookies, retprobe: ret },
        this.sys,
      );
    } catch (e) {
      if (e instanceof SyscallError && e.errno === Errno.ESRCH)
        throw new AttachError(
          `${what}: a function is not in kallsyms or cannot be traced (not in available_filter_functions)`,
          { code: "ERR_EBPF_ATTACH_TARGET", cause: e },
        );
      throw e;
    }
    return this.adopt(new FdLink(fd, what, this.sys));
  }
}

/** A kretprobe program. */
export class KRetProbe extends KProbe {}

/** Options of {@link UProbe.attach}. */
export interface UProbeAttachOptions {
  /** Function symbol to probe (from `.symtab`, else `.dynsym`). */
  symbol?: string;
  /** File offset to probe; with `symbol`, an offset into that function. */
  offset?: number;
  /** Only fire for this process (default: every process running the binary). */
  pid?: number;
  /** Attach at return (a uretprobe); default: what the program was loaded as. */
  retprobe?: boolean;
  /** bpf_get_attach_cookie() value (5.15+). */
  cookie?: bigint | number;
}

/**
 * A uprobe or uretprobe program (`uprobe/...`, `uretprobe/...`).
 *
 * @example
 * ```ts
 * using prog = UProbe.load(spec);
 * using link = prog.attach("/usr/lib/x86_64-linux-gnu/libc.so.6", { symbol: "malloc", pid: 1234 });
 * ```
 */
export class UProbe extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.KPROBE];

  /** Attaches to a function of the binary or library at `path`. */
  attach(path: string, options: UProbeAttachOptions = {}): Link {
    if (!path.startsWith("/") || /\s/.test(path))
      throw new AttachError(`uprobe path must be absolute without spaces: ${JSON.stringify(path)}`, {
        code: "ERR_EBPF_ATTACH_TARGET",
      });
    if (options.symbol === undefined && options.offset === undefined)
      throw new AttachError("uprobe needs a symbol or an offset", { code: "ERR_EBPF_ATTACH_TARGET" });
    const offset =
      options.symbol !== undefined
        ? symbolOffset(path, options.symbol, options.offset ?? 0)
        : (options.offset ?? 0);
    const ret = options.retprobe ?? this instanceof URetProbe;
    const what = `${ret ? "uretprobe" : "uprobe"} ${path}:${options.symbol ?? ""}+0x${offset.toString(16)}`;
    if (probePmu("uprobe")) {
      // The PMU probe lives and dies with the perf event fd: nothing is left in tracefs.
      const event = perfEventOpenProbe({
        kind: "uprobe",
        target: path,
        offset,
        retprobe: ret,
        pid: options.pid,
      });
      const desc = `${what}${options.pid ? ` pid ${options.pid}` : ""} "${this.name}"`;
      return this.adopt(attachPerfEvent(this.sys, this.fd, event, desc, { cookie: options.cookie }));
    }
    const probe = createProbeEvent("uprobe", ret, `${path}:0x${offset.toString(16)}`);
    return this.adopt(
      attachProbe(
        this,
        probe,
        `${what}${options.pid ? ` pid ${options.pid}` : ""} "${this.name}"`,
        options.pid ?? -1,
        options.cookie,
      ),
    );
  }

  /**
   * Attaches to several functions of one binary under one link: a uprobe_multi link (6.6+) when the
   * program was loaded for it (`uprobe.multi` sections: expected attach type TRACE_UPROBE_MULTI), else
   * one uprobe per symbol grouped together.
   */
  attachMulti(
    path: string,
    symbols: readonly string[],
    options: Omit<UProbeAttachOptions, "symbol" | "offset" | "cookie"> & { cookies?: readonly bigint[] } = {},
  ): Link {
    const ret = options.retprobe ?? this instanceof URetProbe;
    const what = `${ret ? "uretprobe" : "uprobe"}.multi ${path} [${symbols.join(", ")}] "${this.name}"`;
    const offsets = symbols.map((s) => symbolOffset(path, s));
    if (this.expectedAttachType === BpfAttachType.TRACE_UPROBE_MULTI) {
      const fd = uprobeMultiLinkCreate({
        progFd: this.fd,
        path,
        offsets,
        cookies: options.cookies,
        flags: ret ? BpfFlags.BPF_F_UPROBE_MULTI_RETURN : 0,
        pid: options.pid,
      });
      return this.adopt(new FdLink(fd, `${what} (link)`, this.sys));
    }
    const links: Link[] = [];
    try {
      symbols.forEach((symbol, i) => {
        links.push(
          this.attach(path, { symbol, pid: options.pid, retprobe: ret, cookie: options.cookies?.[i] }),
        );
      });
    } catch (e) {
      for (const l of links) l.detach();
      throw e;
    }
    for (const l of links) this.forgetLink(l);
    return this.adopt(
      new CallbackLink(`${what} (one uprobe each)`, () => {
        for (const l of links) l.detach();
      }),
    );
  }
}

/** A uretprobe program. */
export class URetProbe extends UProbe {}

function attachProbe(
  prog: Program,
  probe: { id: number; remove: () => void },
  description: string,
  pid: number,
  cookie?: bigint | number,
): Link {
  let event: Fd;
  try {
    event = prog.sys.perfEventOpen({
      attr: { type: PerfTypeId.TRACEPOINT, config: probe.id, sample_period: 1, wakeup_events: 1 },
      pid,
      cpu: pid === -1 ? 0 : -1,
    });
  } catch (e) {
    probe.remove();
    throw e;
  }
  return attachPerfEvent(prog.sys, prog.fd, event, description, { cookie, cleanup: probe.remove });
}
