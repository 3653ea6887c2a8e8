import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let counter = 0;

/** A veth pair: `host` stays in this namespace, `peer` lives in a new network namespace `ns`. */
export interface VethPair extends Disposable {
  ns: string;
  host: string;
  peer: string;
  hostIp: string;
  peerIp: string;
  hostIfindex: number;
  /** Sends `count` UDP datagrams from the namespace to the host side. */
  sendFromPeer(count: number): void;
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" }).toString();

/** Creates a netns and a veth pair into it; dispose removes both (also after a failed test). */
export function createVethPair(): VethPair {
  const n = counter++;
  const tag = `${process.pid % 100000}${n}`;
  const ns = `ebpfp${tag}`;
  const host = `vh${tag}`;
  const peer = `vp${tag}`;
  const subnet = `10.${100 + (process.pid % 100)}.${n % 250}`;
  const hostIp = `${subnet}.1`;
  const peerIp = `${subnet}.2`;
  const cleanup = () => {
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
    cleanup();
    throw e;
  }
  const hostIfindex = Number(readFileSync(`/sys/class/net/${host}/ifindex`, "utf8").trim());
  return {
    ns,
    host,
    peer,
    hostIp,
    peerIp,
    hostIfindex,
    sendFromPeer(count: number) {
      const script = `const s=require("dgram").createSocket("udp4");let i=0;const f=()=>{if(i++>=${count})return s.close();s.send("x",9,"${hostIp}",f)};f();`;
      execFileSync("ip", ["netns", "exec", ns, process.execPath, "-e", script], { stdio: "pipe" });
    },
    [Symbol.dispose]: cleanup,
  };
}

/** Whether a link/netns by that name still exists (for leak checks). */
export function netnsExists(ns: string): boolean {
  return ip("netns", "list")
    .split("\n")
    .some((l) => l.split(" ")[0] === ns);
}

/** The qdiscs on a device, as `tc qdisc show` prints them. */
export function qdiscs(dev: string): string {
  return execFileSync("tc", ["qdisc", "show", "dev", dev], { stdio: "pipe" }).toString();
}
