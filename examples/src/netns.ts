/**
 * A throwaway network lab for the networking examples: a network namespace and a veth pair between it and
 * this namespace, with IPv4 addresses on both ends. `dispose` deletes both (deleting the host end deletes
 * the pair), and the examples call it in `finally`, so nothing is left behind even when they fail.
 */
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
let counter = 0;

/** A network namespace `ns` holding `peer`, the other end of the veth `host` that stays here. */
export interface VethLab extends Disposable {
  /** Name of the network namespace (under /run/netns). */
  readonly ns: string;
  /** The veth end in this (the caller's) namespace. */
  readonly host: string;
  /** The veth end inside `ns`. */
  readonly peer: string;
  /** IPv4 address of `host`. */
  readonly hostIp: string;
  /** IPv4 address of `peer`. */
  readonly peerIp: string;
  /** Runs a Node.js script inside the namespace and resolves with its standard output. */
  runInNamespace(script: string): Promise<string>;
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" }).toString();

/** Whether a network namespace of that name exists. */
export function netnsExists(ns: string): boolean {
  return ip("netns", "list")
    .split("\n")
    .some((l) => l.split(" ")[0] === ns);
}

/** Whether a network device of that name exists in this namespace. */
export function linkExists(dev: string): boolean {
  try {
    readFileSync(`/sys/class/net/${dev}/ifindex`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates the namespace and the veth pair (names unique per process: `exns<pid><n>`, `exh…`, `exp…`),
 * addresses 10.<x>.<y>.1 (host) and .2 (peer) in a /24 derived from the pid, both ends up.
 */
export function createVethLab(prefix = "ex"): VethLab {
  const n = counter++;
  const tag = `${process.pid % 100000}${n}`;
  const ns = `${prefix}ns${tag}`;
  const host = `${prefix}h${tag}`.slice(0, 15);
  const peer = `${prefix}p${tag}`.slice(0, 15);
  // Distinct per process (tests run in parallel workers): two veths with the same subnet would clash.
  const subnet = `10.${200 + (process.pid % 50)}.${(Math.floor(process.pid / 50) + n) % 250}`;
  const hostIp = `${subnet}.1`;
  const peerIp = `${subnet}.2`;
  const dispose = () => {
    try {
      ip("link", "del", host);
    } catch {}
    try {
      ip("netns", "del", ns);
    } catch {}
  };
  try {
    ip("netns", "add", ns);
    ip("link", "add", host, "type", "veth", "peer", "name", peer);
    ip("link", "set", peer, "netns", ns);
    ip("addr", "add", `${hostIp}/24`, "dev", host);
    ip("link", "set", host, "up");
    ip("-n", ns, "addr", "add", `${peerIp}/24`, "dev", peer);
    ip("-n", ns, "link", "set", peer, "up");
    ip("-n", ns, "link", "set", "lo", "up");
  } catch (e) {
    dispose();
    throw e;
  }
  return {
    ns,
    host,
    peer,
    hostIp,
    peerIp,
    async runInNamespace(script: string) {
      const { stdout } = await execFileAsync("ip", ["netns", "exec", ns, process.execPath, "-e", script], {
        timeout: 10_000,
      });
      return stdout;
    },
    [Symbol.dispose]: dispose,
  };
}
