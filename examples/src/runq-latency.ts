/**
 * Run-queue latency histogram: how long runnable tasks wait for a CPU, as a log2 histogram drawn in the
 * terminal and refreshed.
 *
 *   node examples/dist/runq-latency.js [--interval S] [--count N] [--pid N] [--load]
 *
 * Three BTF tracepoint programs (`sched_wakeup`, `sched_wakeup_new`, `sched_switch`) time each wait in
 * the kernel and count it in an array map of 32 log2 slots of microseconds; this process reads the map
 * every interval, draws it, and clears it. `--load` starts a few busy processes (more than the CPUs) so
 * waits get long; `--pid` measures only one process's threads.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { ArrayMap, BtfTracePoint, Ebpf } from "ebpf";
import { exampleObject } from "./objects.js";

/** Number of histogram slots (see bpf/runq_latency.bpf.c). */
export const SLOTS = 32;

/** The attached programs and their histogram. Close to detach. */
export class RunqLatency implements Disposable {
  readonly #bpf: Ebpf;
  readonly #hist: ArrayMap<bigint>;
  /** Kernel ids of the three programs. */
  readonly programIds: number[];

  private constructor(bpf: Ebpf, programIds: number[]) {
    this.#bpf = bpf;
    this.programIds = programIds;
    this.#hist = bpf.map("hist", ArrayMap<bigint>);
  }

  /** Loads and attaches; `targetTgid` (`.rodata`) limits the measure to one process's threads. */
  static attach(options: { targetTgid?: number } = {}): RunqLatency {
    const bpf = Ebpf.loadFile(exampleObject("runq_latency"), {
      globals: { target_tgid: options.targetTgid ?? 0 },
    });
    try {
      const ids = ["on_wakeup", "on_wakeup_new", "on_switch"].map((name) => {
        const prog = bpf.program(name, BtfTracePoint);
        prog.load();
        prog.attach();
        return prog.info().id;
      });
      return new RunqLatency(bpf, ids);
    } catch (e) {
      bpf.close();
      throw e;
    }
  }

  /** The histogram: element i counts waits of [2^i, 2^(i+1)) µs (0 µs included in slot 0). */
  histogram(): bigint[] {
    const out: bigint[] = [];
    for (let i = 0; i < SLOTS; i++) out.push(this.#hist.get(i) ?? 0n);
    return out;
  }

  /** Zeroes the histogram (waits counted while this runs may be lost: fine for a display). */
  reset(): void {
    for (let i = 0; i < SLOTS; i++) this.#hist.set(i, 0n);
  }

  /** Detaches the programs. */
  close(): void {
    this.#bpf.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Draws a log2 histogram as text: one line per slot from 0 to the last non-empty one, with its range,
 * its count and a bar scaled to the largest count (`width` characters).
 */
export function renderHistogram(slots: readonly bigint[], unit = "usecs", width = 40): string {
  let last = -1;
  let max = 0n;
  slots.forEach((c, i) => {
    if (c > 0n) last = i;
    if (c > max) max = c;
  });
  if (last < 0) return `(no ${unit} counted)`;
  const lines = [`${unit.padStart(24)}: ${"count".padEnd(10)} distribution`];
  for (let i = 0; i <= last; i++) {
    const low = i === 0 ? 0 : 2 ** i;
    const high = 2 ** (i + 1) - 1;
    const bar = "*".repeat(Number((slots[i] * BigInt(width)) / max));
    lines.push(
      `${String(low).padStart(10)} -> ${String(high).padEnd(10)}: ${String(slots[i]).padEnd(10)} |${bar.padEnd(width)}|`,
    );
  }
  return lines.join("\n");
}

/** Starts `n` busy-looping processes (to make tasks wait for a CPU); returns them for killing. */
function startLoad(n: number, seconds: number): ChildProcess[] {
  const spin = `const end = Date.now() + ${seconds * 1000}; while (Date.now() < end) {}`;
  return Array.from({ length: n }, () =>
    spawn(process.execPath, ["-e", spin], { stdio: "ignore" }).on("error", () => {}),
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const interval = at("--interval") ?? 1;
  const count = at("--count") ?? 5;
  const pid = at("--pid");
  const load = args.includes("--load") ? startLoad(availableParallelism() + 2, interval * count + 1) : [];
  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  try {
    using runq = RunqLatency.attach({ targetTgid: pid });
    const clear = process.stdout.isTTY ? "\x1b[2J\x1b[H" : "\n";
    for (let i = 0; i < count && !stop.signal.aborted; i++) {
      await new Promise((r) => setTimeout(r, interval * 1000));
      const slots = runq.histogram();
      runq.reset();
      const total = slots.reduce((a, b) => a + b, 0n);
      process.stdout.write(
        `${clear}Run-queue latency${pid ? ` of pid ${pid}` : ""}, last ${interval}s (${i + 1}/${count}), ${total} waits${load.length ? `, ${load.length} busy processes running` : ""}\n\n${renderHistogram(slots)}\n`,
      );
    }
  } finally {
    for (const p of load) p.kill();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
    process.exit(1);
  });
}
