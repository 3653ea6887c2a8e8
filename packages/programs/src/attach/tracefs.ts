/** tracefs: tracepoint ids and (legacy) kprobe/uprobe events created through `*_events` files. */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { AttachError } from "../errors.js";

const ROOTS = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/** The tracefs mount, or throws. */
export function tracefsRoot(): string {
  const r = ROOTS.find((p) => existsSync(`${p}/events`));
  if (!r)
    throw new AttachError("tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing)", {
      code: "ERR_EBPF_NO_TRACEFS",
    });
  return r;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** The id of tracepoint `category/name` (its perf event config). */
export function tracepointId(category: string, name: string): number {
  if (!NAME.test(category) || !NAME.test(name))
    throw new AttachError(`invalid tracepoint name ${category}/${name}`, { code: "ERR_EBPF_ATTACH_TARGET" });
  const path = `${tracefsRoot()}/events/${category}/${name}/id`;
  try {
    return Number(readFileSync(path, "utf8").trim());
  } catch (cause) {
    throw new AttachError(`no tracepoint ${category}/${name} (${path})`, {
      code: "ERR_EBPF_ATTACH_TARGET",
      cause,
    });
  }
}

let seq = 0;

/**
 * Creates a probe event (`p:`/`r:` line) in `uprobe_events` or `kprobe_events` under a group unique to
 * this process; returns its tracepoint id and a function removing it.
 */
export function createProbeEvent(
  kind: "uprobe" | "kprobe",
  retprobe: boolean,
  target: string,
): { id: number; remove: () => void } {
  const root = tracefsRoot();
  const file = `${root}/${kind}_events`;
  if (!existsSync(file)) throw new AttachError(`${file} is missing`, { code: "ERR_EBPF_NOT_SUPPORTED" });
  const group = `ebpf_${process.pid}`;
  const event = `${retprobe ? "r" : "p"}_${seq++}`;
  appendFileSync(file, `${retprobe ? "r" : "p"}:${group}/${event} ${target}\n`);
  const remove = () => {
    try {
      appendFileSync(file, `-:${group}/${event}\n`);
    } catch {
      // already gone (e.g. the target binary was removed)
    }
  };
  try {
    return { id: tracepointId(group, event), remove };
  } catch (e) {
    remove();
    throw e;
  }
}
