/**
 * Uprobes on a program this example builds and starts: every call of its function
 * `int compute(int a, int b)` is seen by a uprobe (arguments) and a uretprobe (result).
 *
 *   node examples/dist/uprobe.js [--calls N]
 *
 * It compiles a tiny C program with gcc into a temporary directory, attaches both probes to
 * `compute` by symbol (the library finds its file offset in the ELF symbol table), runs the program,
 * and compares what the probes summed with what the program printed. The directory is removed at the end.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Ebpf, UProbe, URetProbe } from "ebpf";
import { exampleObject } from "./objects.js";

const execFileAsync = promisify(execFile);

/** Source of the traced program: calls compute(i, 3) for i in 0..n-1 and prints the sums it got. */
export const TARGET_SOURCE = `#include <stdio.h>
#include <stdlib.h>

/* noinline: the call must stay a call for the probe to see it. */
__attribute__((noinline)) int compute(int a, int b)
{
  __asm__ volatile("" ::: "memory");
  return a * b + 1;
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 10;
  long sum_a = 0, sum_ret = 0;
  for (int i = 0; i < n; i++) {
    sum_a += i;
    sum_ret += compute(i, 3);
  }
  printf("%d %ld %ld\\n", n, sum_a, sum_ret);
  return 0;
}
`;

/** A compiled copy of {@link TARGET_SOURCE}; dispose removes its directory. */
export interface TargetProgram extends Disposable {
  /** Absolute path of the executable. */
  readonly path: string;
  /** Runs it with `n` calls; resolves with what it printed and its pid. */
  run(n: number): Promise<{ pid: number; calls: number; sumA: number; sumRet: number }>;
}

/** Compiles the target program with gcc (`-O2`, symbols kept) into a fresh temporary directory. */
export function buildTarget(): TargetProgram {
  const dir = mkdtempSync(join(tmpdir(), "ebpf-uprobe-"));
  try {
    writeFileSync(join(dir, "target.c"), TARGET_SOURCE);
    const path = join(dir, "target");
    execFileSync(process.env.CC ?? "gcc", ["-O2", "-o", path, join(dir, "target.c")], { stdio: "pipe" });
    return {
      path,
      async run(n) {
        const child = execFileAsync(path, [String(n)]);
        const pid = child.child.pid ?? 0;
        const { stdout } = await child;
        const [calls, sumA, sumRet] = stdout.trim().split(" ").map(Number);
        return { pid, calls, sumA, sumRet };
      },
      [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** What the probes summed (their `.bss` counters). */
export interface ProbeCounters {
  calls: bigint;
  sumA: bigint;
  sumB: bigint;
  returns: bigint;
  sumRet: bigint;
  lastPid: number;
}

/** Both probes attached to `compute` of a binary. Close to detach. */
export class ComputeProbes implements Disposable {
  readonly #bpf: Ebpf;
  /** Kernel ids of the uprobe and uretprobe programs. */
  readonly programIds: number[];

  private constructor(bpf: Ebpf, programIds: number[]) {
    this.#bpf = bpf;
    this.programIds = programIds;
  }

  /** Attaches to `symbol` of the executable at `path` (absolute); `pid` limits to one process. */
  static attach(path: string, options: { symbol?: string; pid?: number } = {}): ComputeProbes {
    const symbol = options.symbol ?? "compute";
    const bpf = Ebpf.loadFile(exampleObject("uprobe_counter"));
    try {
      const entry = bpf.program("on_compute", UProbe);
      entry.load();
      entry.attach(path, { symbol, pid: options.pid });
      const exit = bpf.program("on_compute_return", URetProbe);
      exit.load();
      exit.attach(path, { symbol, pid: options.pid });
      return new ComputeProbes(bpf, [entry.info().id, exit.info().id]);
    } catch (e) {
      bpf.close();
      throw e;
    }
  }

  /** The counters, read live from `.bss`. */
  counters(): ProbeCounters {
    const g = this.#bpf.globals;
    return {
      calls: g.get("calls") as bigint,
      sumA: g.get("sum_a") as bigint,
      sumB: g.get("sum_b") as bigint,
      returns: g.get("returns") as bigint,
      sumRet: g.get("sum_ret") as bigint,
      lastPid: g.get("last_pid") as number,
    };
  }

  /** Detaches both probes. */
  close(): void {
    this.#bpf.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const i = args.indexOf("--calls");
  const n = i >= 0 ? Number(args[i + 1]) : 10;
  using target = buildTarget();
  process.stdout.write(`Built ${target.path} with gcc; attaching to compute()\n`);
  using probes = ComputeProbes.attach(target.path);
  const printed = await target.run(n);
  const c = probes.counters();
  process.stdout.write(
    `the program (pid ${printed.pid}) printed: ${printed.calls} calls, sum of a = ${printed.sumA}, sum of results = ${printed.sumRet}\n` +
      `the probes saw (pid ${c.lastPid}):         ${c.calls} calls, sum of a = ${c.sumA}, sum of b = ${c.sumB}, ` +
      `${c.returns} returns, sum of results = ${c.sumRet}\n`,
  );
  const same =
    BigInt(printed.calls) === c.calls &&
    BigInt(printed.sumA) === c.sumA &&
    BigInt(printed.sumRet) === c.sumRet;
  process.stdout.write(same ? "They agree.\n" : "They DISAGREE.\n");
  if (!same) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
    process.exit(1);
  });
}
