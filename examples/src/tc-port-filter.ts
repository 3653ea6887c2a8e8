/**
 * TC egress filter: drops UDP packets to one port as they leave an interface, with proof.
 *
 *   node examples/dist/tc-port-filter.js [--port N]
 *
 * It builds a lab (a network namespace and a veth pair into it), starts a UDP receiver inside the
 * namespace, and sends a datagram to it from here three times: before the filter is attached (it
 * arrives), while a tcx egress program on the host end drops that port (it does not), and after the
 * filter is closed (it arrives again). Then it deletes the lab.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ArrayMap, Ebpf, SchedClassifier } from "ebpf";
import { createVethLab, type VethLab } from "./netns.js";
import { exampleObject } from "./objects.js";

/** Verdicts the filter counted: packets it let through and packets it dropped. */
export interface FilterVerdicts {
  passed: bigint;
  dropped: bigint;
}

/** The TC program attached to an interface, dropping UDP to one port. Close it to detach. */
export class PortFilter implements Disposable {
  readonly #bpf: Ebpf;
  readonly #verdicts: ArrayMap<bigint>;
  /** Kernel id of the TC program. */
  readonly programId: number;

  private constructor(bpf: Ebpf, programId: number) {
    this.#bpf = bpf;
    this.programId = programId;
    this.#verdicts = bpf.map("verdicts", ArrayMap<bigint>);
  }

  /**
   * Loads the filter with `port` as its `.rodata` constant and attaches it to `iface` with a tcx link
   * (on kernels before 6.6 the library falls back to a clsact filter through netlink).
   */
  static attach(iface: string, port: number, direction: "ingress" | "egress" = "egress"): PortFilter {
    const bpf = Ebpf.loadFile(exampleObject("tc_port_filter"), { globals: { blocked_port: port } });
    try {
      const prog = bpf.program("drop_udp_port", SchedClassifier);
      prog.load();
      prog.attach(iface, { direction });
      return new PortFilter(bpf, prog.info().id);
    } catch (e) {
      bpf.close();
      throw e;
    }
  }

  /** The program's counters, read from its array map. */
  verdicts(): FilterVerdicts {
    return { passed: this.#verdicts.get(0) ?? 0n, dropped: this.#verdicts.get(1) ?? 0n };
  }

  /** Detaches the program. */
  close(): void {
    this.#bpf.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A UDP receiver running inside the lab's namespace; dispose kills it. */
export interface NamespaceReceiver extends Disposable {
  /** The port it listens on (at the namespace end's address). */
  readonly port: number;
  /** A second port it listens on, for control datagrams. */
  readonly controlPort: number;
  /** The receiver's process id. */
  readonly pid: number;
  /**
   * Sends `message` from this namespace to the receiver's `port` (default {@link NamespaceReceiver.port});
   * true if it arrived within `timeoutMs`. Messages must be unique.
   */
  probe(message: string, options?: { port?: number; timeoutMs?: number }): Promise<boolean>;
}

/** Starts a Node.js UDP receiver in the lab's namespace on `port` (0: any free port). */
export async function startReceiver(lab: VethLab, port = 0): Promise<NamespaceReceiver> {
  // Two sockets: `port` (the one to filter) and a control port that the filter must leave alone.
  const script = `
    const dgram = require("node:dgram");
    const open = (p, cb) => {
      const s = dgram.createSocket("udp4");
      s.on("message", (m) => process.stdout.write("got " + m + "\\n"));
      s.bind(p, "${lab.peerIp}", () => cb(s.address().port));
    };
    open(${port}, (a) => open(0, (b) => process.stdout.write("ports " + a + " " + b + "\\n")));
    process.stdin.on("end", () => process.exit(0)).resume();`;
  const child: ChildProcess = spawn("ip", ["netns", "exec", lab.ns, process.execPath, "-e", script], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const received = new Set<string>();
  const waiters = new Set<() => void>();
  const lines = createInterface({ input: child.stdout! });
  const kill = () => {
    lines.close();
    child.stdin?.end(); // the receiver exits when its stdin closes
    child.kill();
  };
  try {
    const [boundPort, controlPort] = await new Promise<number[]>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`receiver exited with ${code}`)));
      lines.on("line", (line) => {
        if (line.startsWith("ports ")) resolve(line.slice(6).split(" ").map(Number));
        if (line.startsWith("got ")) {
          received.add(line.slice(4));
          for (const w of waiters) w();
        }
      });
    });
    const sender = createSocket("udp4");
    return {
      port: boundPort,
      controlPort,
      pid: child.pid ?? 0,
      async probe(message, { port = boundPort, timeoutMs = 300 } = {}) {
        sender.send(message, port, lab.peerIp);
        const deadline = Date.now() + timeoutMs;
        while (!received.has(message) && Date.now() < deadline) {
          await new Promise<void>((r) => {
            const t = setTimeout(r, deadline - Date.now());
            waiters.add(() => {
              clearTimeout(t);
              r();
            });
          });
          waiters.clear();
        }
        return received.has(message);
      },
      [Symbol.dispose]() {
        sender.close();
        kill();
      },
    };
  } catch (e) {
    kill();
    throw e;
  }
}

/** Whether a process still exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const i = args.indexOf("--port");
  const wanted = i >= 0 ? Number(args[i + 1]) : 5353;
  const lab = createVethLab();
  try {
    using receiver = await startReceiver(lab, wanted);
    const port = receiver.port;
    const show = (label: string, ok: boolean) =>
      process.stdout.write(
        `${label.padEnd(34)} UDP to ${lab.peerIp}:${port} ${ok ? "arrived" : "did NOT arrive"}\n`,
      );
    process.stdout.write(`Receiver in netns ${lab.ns}; sending from here through ${lab.host}\n\n`);
    show("before the filter:", await receiver.probe("before"));
    const filter = PortFilter.attach(lab.host, port);
    let verdicts: FilterVerdicts;
    try {
      show(`filter ${filter.programId} on ${lab.host} egress:`, await receiver.probe("during"));
      const other = await receiver.probe("control", { port: receiver.controlPort });
      process.stdout.write(
        `${"".padEnd(34)} UDP to ${lab.peerIp}:${receiver.controlPort} ${other ? "arrived" : "did NOT arrive"}\n`,
      );
      verdicts = filter.verdicts();
    } finally {
      filter.close();
    }
    show("after closing the filter:", await receiver.probe("after"));
    process.stdout.write(
      `\nThe program counted ${verdicts.dropped} dropped and ${verdicts.passed} passed packets.\n`,
    );
  } finally {
    lab[Symbol.dispose]();
  }
  process.stdout.write(`Deleted netns ${lab.ns} and veth ${lab.host}.\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
    process.exit(1);
  });
}
