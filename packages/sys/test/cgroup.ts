// Where cgroup v2 is mounted (the host has it at /sys/fs/cgroup/unified, test VMs elsewhere).
import { readFileSync } from "node:fs";

export function cgroup2Root(): string {
  const line = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .find((l) => l.split(" ")[2] === "cgroup2");
  if (!line) throw new Error("cgroup2 is not mounted");
  return line.split(" ")[1];
}

/** Requirement for describeKernel: cgroup v2 mounted. */
export const needsCgroup2 = (): string | undefined => {
  try {
    cgroup2Root();
    return undefined;
  } catch {
    return "cgroup v2 is not mounted";
  }
};
