/**
 * Task iterator: lists every process on the machine from a BPF iterator (`iter/task`), like a tiny `ps`.
 *
 *   node examples/dist/task-iter.js [--threads] [--comm NAME] [--pid N]
 *
 * The program writes one text line per task into the iterator's seq_file; each read pass over the link
 * (`link.readText()`, or `link.stream()` for large outputs) walks the whole task list again, in the
 * kernel, and reads it to the end.
 */
import { fileURLToPath } from "node:url";
import { Ebpf, Iter } from "ebpf";
import { exampleObject } from "./objects.js";

/** One line of the iterator's output. */
export interface TaskRow {
  tgid: number;
  tid: number;
  ppid: number;
  threads: number;
  comm: string;
}

/** The loaded iterator; every {@link TaskIterator.read} is a new pass over the tasks. */
export class TaskIterator implements Disposable {
  readonly #bpf: Ebpf;
  readonly #link: ReturnType<Iter["attach"]>;

  private constructor(bpf: Ebpf, link: ReturnType<Iter["attach"]>) {
    this.#bpf = bpf;
    this.#link = link;
  }

  /**
   * Loads the iterator. With `includeThreads` (a `.rodata` constant) it lists every thread; with `pid`
   * the kernel walks only that process's threads (and the program lists them all).
   */
  static open(options: { includeThreads?: boolean; pid?: number } = {}): TaskIterator {
    const bpf = Ebpf.loadFile(exampleObject("task_iter"), {
      globals: { include_threads: options.includeThreads ?? options.pid !== undefined },
    });
    try {
      const prog = bpf.program("list_tasks", Iter);
      prog.load();
      let linkInfo: Uint8Array | undefined;
      if (options.pid !== undefined) {
        // union bpf_iter_link_info, task member: { __u32 tid; __u32 pid; __u32 pid_fd; }
        linkInfo = new Uint8Array(12);
        new DataView(linkInfo.buffer).setUint32(4, options.pid, true);
      }
      return new TaskIterator(bpf, prog.attach({ linkInfo }));
    } catch (e) {
      bpf.close();
      throw e;
    }
  }

  /** One pass, read to the end, as the program wrote it (a header line, then one line per task). */
  readText(): string {
    return this.#link.readText();
  }

  /** One pass, parsed. */
  read(): TaskRow[] {
    return parseTasks(this.readText());
  }

  /** Unloads the iterator. */
  close(): void {
    this.#bpf.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Parses the iterator's text (the header line is skipped). Command names may contain spaces. */
export function parseTasks(text: string): TaskRow[] {
  const rows: TaskRow[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+) (.*)$/.exec(line);
    if (!m) continue;
    rows.push({ tgid: +m[1], tid: +m[2], ppid: +m[3], threads: +m[4], comm: m[5] });
  }
  return rows;
}

function main(): void {
  const args = process.argv.slice(2);
  const at = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const comm = at("--comm");
  const pid = at("--pid");
  using tasks = TaskIterator.open({
    includeThreads: args.includes("--threads"),
    pid: pid === undefined ? undefined : Number(pid),
  });
  const text = tasks.readText();
  const lines = text.split("\n").filter((l) => l !== "");
  const shown =
    comm === undefined ? lines : [lines[0], ...lines.slice(1).filter((l) => l.endsWith(` ${comm}`))];
  process.stdout.write(`${shown.join("\n")}\n`);
  process.stdout.write(
    `\n${lines.length - 1} tasks, ${text.length} bytes read from the iterator in one pass.\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
    process.exit(1);
  }
}
