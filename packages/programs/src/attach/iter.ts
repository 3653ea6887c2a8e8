/** BPF iterators (`iter/<target>`): a link whose output is read like a file, once per open. */
import { readSync } from "node:fs";
import { Readable } from "node:stream";
import { BpfAttachType, BpfProgType, type Fd, type Syscalls } from "@ebpf/sys";
import { FdLink } from "../link.js";
import { Program } from "../program.js";

/** Options of {@link Iter.attach}. */
export interface IterAttachOptions {
  /** For map element iterators (`iter/bpf_map_elem`, `iter/bpf_sk_storage_map`...): the map's fd. */
  mapFd?: Fd;
  /** `union bpf_iter_link_info` as raw bytes, for other parameterised targets (task, cgroup). */
  linkInfo?: Uint8Array;
}

/**
 * An iterator program (`iter/task`, `iter/bpf_map`, `iter/bpf_map_elem`...).
 *
 * @example
 * ```ts
 * using prog = Iter.load(spec);            // spec.attachTo = "task"
 * using link = prog.attach();
 * console.log(link.readText());            // whatever the program bpf_seq_printf()s
 * for await (const chunk of link.stream()) process.stdout.write(chunk);
 * ```
 */
export class Iter extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.TRACING];

  /** Creates the iterator link. */
  attach(options: IterAttachOptions = {}): IterLink {
    let info = options.linkInfo;
    if (!info && options.mapFd) {
      info = new Uint8Array(8);
      new DataView(info.buffer).setUint32(0, options.mapFd.raw, true);
    }
    const fd = this.sys.linkCreate({
      progFd: this.fd,
      attachType: BpfAttachType.TRACE_ITER,
      iterInfo: info,
    });
    return this.adopt(new IterLink(fd, `iter ${this.attachTo ?? ""} "${this.name}"`, this.sys));
  }
}

const CHUNK = 64 * 1024;

/** An iterator link: every {@link IterLink.open} starts a new pass over the iterated objects. */
export class IterLink extends FdLink {
  readonly #sysRef: Syscalls;

  constructor(fd: Fd, description: string, sys: Syscalls) {
    super(fd, description, sys);
    this.#sysRef = sys;
  }

  /** A new read fd for one pass (BPF_ITER_CREATE). The caller closes it. */
  open(): Fd {
    return this.#sysRef.iterCreate(this.fd);
  }

  /** Reads one whole pass, chunk by chunk, synchronously. */
  *chunks(): Generator<Uint8Array> {
    using fd = this.open();
    for (;;) {
      const buf = new Uint8Array(CHUNK);
      const n = readSync(fd.raw, buf, 0, CHUNK, null);
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  }

  /** Reads one whole pass into bytes. */
  read(): Uint8Array {
    const parts = [...this.chunks()];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** Reads one whole pass as UTF-8 text. */
  readText(): string {
    return new TextDecoder().decode(this.read());
  }

  /** One pass as a Node.js readable stream of byte chunks (also an async iterable). */
  stream(): Readable {
    return Readable.from(this.chunks(), { objectMode: false });
  }
}
