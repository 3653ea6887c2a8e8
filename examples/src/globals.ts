/**
 * Global variables from user space, all three kinds, on a tracepoint program that runs on every
 * `getppid()` of one process:
 *
 *   node examples/dist/globals.js [--pid N] [--seconds N]
 *
 * - `.rodata` — `target_tgid`, the process to watch, set with the `globals` load option (a constant for
 *   the verifier; read-only after load);
 * - `.bss` — counters the program keeps, read live through the mmapped section (`bpf.globals.get`);
 * - `.data` — `step` and `note`, changed while the program runs (`bpf.globals.set`), and seen by it on
 *   its next run.
 *
 * By default it watches itself and calls `getppid()` (`process.ppid`) a few times a second.
 */
import { fileURLToPath } from "node:url";
import { Ebpf, TracePoint } from "ebpf";
import { exampleObject } from "./objects.js";

/** What the program has seen so far (its `.bss`). */
export interface GetppidStats {
  /** getppid() calls of the watched process. */
  calls: bigint;
  /** Sum of `step` over those calls. */
  total: bigint;
  /** Process of the last call counted. */
  lastTgid: number;
  /** `note` as the program read it on the last call. */
  lastNote: string;
}

/** Options of {@link GetppidWatch.attach}. */
export interface WatchOptions {
  /** Process to watch (`.rodata`, fixed at load); 0 watches every process. Default: this one. */
  targetTgid?: number;
  /** Initial `.data` step (default 1). */
  step?: bigint;
  /** Initial `.data` note (default "initial", at most 15 characters). */
  note?: string;
}

/** The attached program and typed access to its globals. Close it to detach. */
export class GetppidWatch implements Disposable {
  /** The loaded object: `bpf.globals` is the generic way in. */
  readonly bpf: Ebpf;

  private constructor(bpf: Ebpf) {
    this.bpf = bpf;
  }

  /** Loads the object with its initial globals and attaches to `syscalls:sys_enter_getppid`. */
  static attach(options: WatchOptions = {}): GetppidWatch {
    const globals: Record<string, unknown> = { target_tgid: options.targetTgid ?? process.pid };
    if (options.step !== undefined) globals.step = options.step;
    if (options.note !== undefined) globals.note = options.note;
    const bpf = Ebpf.loadFile(exampleObject("globals"), { globals });
    try {
      const prog = bpf.program("on_getppid", TracePoint);
      prog.load();
      prog.attach("syscalls", "sys_enter_getppid");
      return new GetppidWatch(bpf);
    } catch (e) {
      bpf.close();
      throw e;
    }
  }

  /** The `.rodata` target, read back from the frozen section. */
  get targetTgid(): number {
    return this.bpf.globals.get("target_tgid") as number;
  }

  /** Reads the `.bss` counters, live: no syscall, just memory shared with the kernel. */
  stats(): GetppidStats {
    const g = this.bpf.globals;
    return {
      calls: g.get("calls") as bigint,
      total: g.get("total") as bigint,
      lastTgid: g.get("last_tgid") as number,
      lastNote: g.get("last_note") as string,
    };
  }

  /** Changes the `.data` step; the program uses the new value from its next run. */
  setStep(step: bigint): void {
    this.bpf.globals.set("step", step);
  }

  /** Changes the `.data` note (at most 15 characters). */
  setNote(note: string): void {
    this.bpf.globals.set("note", note);
  }

  /** Detaches the program. */
  close(): void {
    this.bpf.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const pid = at("--pid");
  const seconds = at("--seconds") ?? 4;
  using watch = GetppidWatch.attach({ targetTgid: pid ?? process.pid });
  const self = pid === undefined || pid === process.pid;
  process.stdout.write(
    `Watching getppid() of pid ${watch.targetTgid} (.rodata target_tgid) for ${seconds}s; ` +
      `${self ? "calling it 5 times a second" : "call it from that process"}\n\n`,
  );
  const line = () => {
    const s = watch.stats();
    const step = watch.bpf.globals.get("step") as bigint;
    const note = watch.bpf.globals.get("note") as string;
    process.stdout.write(
      `.data step=${String(step).padEnd(4)} note=${note.padEnd(10)} | .bss calls=${String(s.calls).padEnd(4)} total=${String(s.total).padEnd(6)} last_note=${s.lastNote}\n`,
    );
  };
  const ticks = seconds * 5;
  for (let i = 0; i < ticks; i++) {
    if (i === Math.floor(ticks / 2)) {
      watch.setStep(100n);
      watch.setNote("changed");
      process.stdout.write("-- bpf.globals.set: step = 100, note = changed --\n");
    }
    if (self) void process.ppid; // one getppid() syscall
    line();
    await new Promise((r) => setTimeout(r, 200));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
    process.exit(1);
  });
}
