/**
 * XDP per-protocol packet counter: counts the frames arriving on an interface by IP protocol, in a
 * per-CPU array, and prints a table refreshed every second.
 *
 *   node examples/dist/xdp-counter.js [--seconds N] [--iface DEV]
 *
 * Without `--iface` it builds its own lab: a network namespace and a veth pair into it, attaches the XDP
 * program to the host end, and sends UDP, TCP and ICMP through the pair; on exit it deletes both.
 */
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { Ebpf, PerCpuArray, Xdp, type XdpMode } from "ebpf";
import { createVethLab, type VethLab } from "./netns.js";
import { exampleObject } from "./objects.js";

/** Slot of the counter map for frames that are not IPv4/IPv6 (see bpf/xdp_counter.bpf.c). */
export const NOT_IP = 256;

const PROTOCOL_NAMES: Record<number, string> = {
  0: "HOPOPT", // IPv6 hop-by-hop options, e.g. the MLD reports a new interface sends
  1: "ICMP",
  2: "IGMP",
  6: "TCP",
  17: "UDP",
  47: "GRE",
  58: "ICMPv6",
  132: "SCTP",
  [NOT_IP]: "not IP",
};

/** Name of an IP protocol number (or of {@link NOT_IP}). */
export function protocolName(protocol: number): string {
  return PROTOCOL_NAMES[protocol] ?? `proto ${protocol}`;
}

/** The totals of one protocol, summed over CPUs. */
export interface ProtocolCount {
  /** IP protocol number (IPv4 protocol / IPv6 next header), or {@link NOT_IP}. */
  protocol: number;
  name: string;
  packets: bigint;
  bytes: bigint;
}

interface Counter {
  packets: bigint;
  bytes: bigint;
}

/** The XDP program attached to one interface, and its counters. Close it to detach. */
export class ProtocolCounter implements Disposable {
  readonly #bpf: Ebpf;
  readonly #counts: PerCpuArray<Counter>;
  /** Kernel id of the XDP program. */
  readonly programId: number;

  private constructor(bpf: Ebpf, programId: number) {
    this.#bpf = bpf;
    this.programId = programId;
    this.#counts = bpf.map("protocols", PerCpuArray<Counter>);
  }

  /** Loads the program and attaches it to `iface` (the kernel picks native or generic XDP by default). */
  static attach(iface: string, options: { mode?: XdpMode } = {}): ProtocolCounter {
    const bpf = Ebpf.loadFile(exampleObject("xdp_counter"));
    try {
      const prog = bpf.program("count_protocols", Xdp);
      prog.load();
      prog.attach(iface, { mode: options.mode });
      return new ProtocolCounter(bpf, prog.info().id);
    } catch (e) {
      bpf.close();
      throw e;
    }
  }

  /** Current totals of every protocol seen so far, most packets first. */
  read(): ProtocolCount[] {
    const out: ProtocolCount[] = [];
    for (const [protocol, perCpu] of this.#counts.entries()) {
      let packets = 0n;
      let bytes = 0n;
      for (const c of perCpu) {
        packets += c.packets;
        bytes += c.bytes;
      }
      if (packets > 0n) out.push({ protocol, name: protocolName(protocol), packets, bytes });
    }
    return out.sort((a, b) =>
      a.packets === b.packets ? a.protocol - b.protocol : a.packets > b.packets ? -1 : 1,
    );
  }

  /** Detaches the program and frees the map. */
  close(): void {
    this.#bpf.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** How much traffic {@link sendTraffic} makes. */
export interface TrafficPlan {
  /** UDP datagrams from the namespace to the host end. */
  udp: number;
  /** TCP connections from the namespace to a server on the host end (each sends one message). */
  tcp: number;
  /** UDP datagrams from the host to a closed port in the namespace: each comes back as ICMP unreachable. */
  icmp: number;
}

/** Payload of each UDP datagram {@link sendTraffic} sends from the namespace. */
export const UDP_PAYLOAD = "ping";

/**
 * Sends traffic through the lab's veth pair so that the host end receives UDP, TCP, ICMP (port
 * unreachable, rate-limited by the kernel to a few per second) and ARP.
 */
export async function sendTraffic(lab: VethLab, plan: TrafficPlan): Promise<void> {
  const server = createServer((socket) => {
    socket.resume();
    socket.on("error", () => {});
    socket.on("end", () => socket.end());
  });
  server.listen(0, lab.hostIp);
  await once(server, "listening");
  const udpSink = createSocket("udp4");
  udpSink.bind(0, lab.hostIp);
  await once(udpSink, "listening");
  const icmpSource = createSocket("udp4");
  icmpSource.on("error", () => {}); // ICMP unreachable surfaces as ECONNREFUSED on some paths
  try {
    const tcpPort = (server.address() as { port: number }).port;
    const udpPort = udpSink.address().port;
    const script = `
      const dgram = require("node:dgram"), net = require("node:net");
      (async () => {
        const s = dgram.createSocket("udp4");
        for (let i = 0; i < ${plan.udp}; i++)
          await new Promise((r) => s.send(${JSON.stringify(UDP_PAYLOAD)}, ${udpPort}, "${lab.hostIp}", r));
        s.close();
        for (let i = 0; i < ${plan.tcp}; i++)
          await new Promise((r, j) => {
            const c = net.connect(${tcpPort}, "${lab.hostIp}", () => c.end("hello"));
            c.on("close", r).on("error", j).resume();
          });
      })().catch((e) => { console.error(e); process.exit(1); });`;
    await lab.runInNamespace(script);
    for (let i = 0; i < plan.icmp; i++) {
      await new Promise<void>((r) => icmpSource.send("x", 9, lab.peerIp, () => r()));
    }
    // Let the unreachables come back before the caller reads the counters.
    await new Promise((r) => setTimeout(r, plan.icmp > 0 ? 200 : 0));
  } finally {
    icmpSource.close();
    udpSink.close();
    server.close();
  }
}

function table(counts: ProtocolCount[]): string {
  const rows = counts.map(
    (c) => `${c.name.padEnd(10)} ${String(c.packets).padStart(10)} ${String(c.bytes).padStart(12)}`,
  );
  return [`${"PROTOCOL".padEnd(10)} ${"PACKETS".padStart(10)} ${"BYTES".padStart(12)}`, ...rows].join("\n");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const seconds = Number(at("--seconds") ?? 5);
  const iface = at("--iface");
  const lab = iface === undefined ? createVethLab() : undefined;
  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  try {
    const dev = iface ?? lab!.host;
    using counter = ProtocolCounter.attach(dev);
    process.stdout.write(
      `XDP program ${counter.programId} counting packets arriving on ${dev}${lab ? ` (veth into netns ${lab.ns})` : ""} for ${seconds}s\n`,
    );
    const clear = process.stdout.isTTY ? "\x1b[2J\x1b[H" : "\n";
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end && !stop.signal.aborted) {
      const tick = new Promise((r) => setTimeout(r, 1000));
      if (lab) await sendTraffic(lab, { udp: 20, tcp: 2, icmp: 3 });
      await tick;
      process.stdout.write(
        `${clear}${dev}, ${Math.ceil((end - Date.now()) / 1000)}s left\n${table(counter.read())}\n`,
      );
    }
  } finally {
    lab?.[Symbol.dispose]();
  }
  process.stdout.write(lab ? `Detached; deleted netns ${lab.ns} and veth ${lab.host}.\n` : "Detached.\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
    process.exit(1);
  });
}
