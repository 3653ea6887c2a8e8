/**
 * Process tracer: every exec and every process exit on the machine, live, through a BPF ring buffer.
 *
 *   node examples/dist/process-tracer.js [--seconds N] [--min-duration-ms N] [--quiet-activity]
 *
 * Two tracepoint programs (`sched_process_exec`, `sched_process_exit`) fill a ring buffer; this process
 * reads it on the event loop, decodes each record through the object's BTF (`struct event`), and prints
 * a table. Counters kept by the BPF code in `.bss` are read live through mmapped memory. It starts a few
 * short processes of its own so there is always something to see, and leaves nothing in the kernel.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { btf as btfApi, Ebpf, RingBuf, sys, TracePoint } from "ebpf";

/** A decoded `struct event` (see bpf/process_tracer.bpf.c). */
export interface ProcessEvent {
  kind: number;
  pid: number;
  ppid: number;
  exit_code: number;
  duration_ns: bigint;
  comm: string;
  filename: string;
}

/** Options of {@link traceProcesses}. */
export interface TraceOptions {
  /** Stop after this many milliseconds (default: until the signal aborts). */
  durationMs?: number;
  /** Do not report exits of processes younger than this (a `.rodata` setting, fixed at load). */
  minDurationNs?: bigint;
  /** Stops the tracer. */
  signal?: AbortSignal;
  /** Called for each event. */
  onEvent(event: ProcessEvent): void;
}

/** Counters the BPF programs keep in `.bss`, and the kernel ids of the programs that ran. */
export interface TraceCounters {
  execs: bigint;
  exits: bigint;
  programIds: number[];
}

// Same path from src/ (tests) and dist/ (the compiled example): the object is built into dist/bpf.
const objectFile = fileURLToPath(new URL("../dist/bpf/process_tracer.bpf.o", import.meta.url));

/**
 * Loads the tracer, attaches both programs, and streams decoded events to `onEvent` until the duration
 * passes or the signal aborts. Returns the `.bss` counters read at the end. Everything is released on
 * return, also on error.
 */
export async function traceProcesses(options: TraceOptions): Promise<TraceCounters> {
  using bpf = Ebpf.loadFile(objectFile, { globals: { min_duration_ns: options.minDurationNs ?? 0n } });
  const exec = bpf.program("handle_exec", TracePoint);
  exec.load();
  exec.attach("sched", "sched_process_exec");
  const exit = bpf.program("handle_exit", TracePoint);
  exit.load();
  exit.attach("sched", "sched_process_exit");

  const objectBtf = bpf.btf!;
  const eventType = objectBtf.findByName("event", btfApi.BtfKind.Struct);
  if (!eventType) throw new Error("struct event is missing from the object's BTF");
  const decode = btfApi.createCodec<ProcessEvent>(objectBtf, eventType.id, {
    chars: "string",
    int64: "bigint",
  });

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = options.durationMs === undefined ? undefined : setTimeout(onAbort, options.durationMs);
  try {
    const events = bpf.map("events", RingBuf);
    const reader = events.reader({ signal: stop.signal });
    for await (const record of reader) options.onEvent(decode.decode(record));
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
  return {
    execs: bpf.globals.get("exec_count") as bigint,
    exits: bpf.globals.get("exit_count") as bigint,
    programIds: [exec.info().id, exit.info().id],
  };
}

/**
 * The ids among `ids` that still name a BPF program in the kernel. The kernel frees a closed program
 * after an RCU grace period, so this waits up to `waitMs` for them to go.
 */
export async function programsStillLoaded(ids: readonly number[], waitMs = 2000): Promise<number[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const alive = ids.filter((id) => {
      try {
        sys.getFdById("prog", id).close();
        return true;
      } catch {
        return false;
      }
    });
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a few short processes now and then, so the tracer has something to show. */
function makeActivity(signal: AbortSignal): void {
  const commands: [string, string[]][] = [
    ["sh", ["-c", "sleep 0.2; exit 3"]],
    ["ls", ["/"]],
    ["uname", ["-r"]],
    ["sh", ["-c", "true"]],
  ];
  let i = 0;
  const tick = setInterval(() => {
    const [cmd, args] = commands[i++ % commands.length];
    spawn(cmd, args, { stdio: "ignore" }).on("error", () => {});
  }, 400);
  signal.addEventListener("abort", () => clearInterval(tick), { once: true });
}

function pad(s: string | number | bigint, n: number): string {
  return String(s).padEnd(n).slice(0, n);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const seconds = arg("--seconds", 5);
  const minMs = arg("--min-duration-ms", 0);
  const started = process.hrtime.bigint();
  const activity = new AbortController();
  if (!args.includes("--quiet-activity")) makeActivity(activity.signal);
  const ctrlC = new AbortController();
  process.once("SIGINT", () => ctrlC.abort());

  process.stdout.write(
    `Tracing exec and exit of every process for ${seconds}s (Ctrl-C to stop)${minMs ? `, exits of processes older than ${minMs} ms` : ""}\n\n`,
  );
  process.stdout.write(
    `${pad("TIME(s)", 8)} ${pad("EVENT", 5)} ${pad("PID", 7)} ${pad("PPID", 7)} ${pad("COMM", 16)} DETAIL\n`,
  );
  let shown = 0;
  const counters = await traceProcesses({
    durationMs: seconds * 1000,
    minDurationNs: BigInt(minMs) * 1_000_000n,
    signal: ctrlC.signal,
    onEvent(e) {
      shown++;
      const t = (Number(process.hrtime.bigint() - started) / 1e9).toFixed(3);
      const detail =
        e.kind === 0
          ? e.filename
          : `exit code ${e.exit_code}${e.duration_ns ? `, ran ${(Number(e.duration_ns) / 1e6).toFixed(1)} ms` : ""}`;
      process.stdout.write(
        `${pad(t, 8)} ${pad(e.kind === 0 ? "EXEC" : "EXIT", 5)} ${pad(e.pid, 7)} ${pad(e.ppid, 7)} ${pad(e.comm, 16)} ${detail}\n`,
      );
    },
  });
  activity.abort();
  process.stdout.write(
    `\n${shown} events shown; the BPF programs counted ${counters.execs} execs and ${counters.exits} exits (read live from .bss).\n`,
  );
  const left = await programsStillLoaded(counters.programIds);
  if (left.length > 0) {
    process.stdout.write(`programs ${left.join(", ")} are still in the kernel after close\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(
      `Detached and closed: programs ${counters.programIds.join(", ")} are gone from the kernel.\n`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
    process.exit(1);
  });
}
