import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync } from "node:fs";

const ROOT = "/sys/fs/cgroup/unified";
let counter = 0;

/** A child cgroup (v2) removed on dispose; `run` executes a shell command inside it. */
export interface TestCgroup extends Disposable {
  path: string;
  /** Runs `sh -c script` as a process inside the cgroup; returns its stdout. */
  run(script: string): string;
  /** Runs a Node.js script inside the cgroup. */
  node(script: string): string;
}

export function createCgroup(): TestCgroup {
  const path = `${ROOT}/ebpf-programs-${process.pid}-${counter++}`;
  mkdirSync(path);
  const run = (script: string) =>
    execFileSync("sh", ["-c", `echo $$ > ${path}/cgroup.procs && ${script}`], { stdio: "pipe" }).toString();
  return {
    path,
    run,
    node: (script: string) => run(`exec ${JSON.stringify(process.execPath)} -e ${JSON.stringify(script)}`),
    [Symbol.dispose]() {
      // Children have exited by now (execFileSync waits); the cgroup is empty and can go.
      if (existsSync(path)) {
        const procs = readFileSync(`${path}/cgroup.procs`, "utf8").trim();
        if (procs !== "") throw new Error(`cgroup ${path} still has processes: ${procs}`);
        rmdirSync(path);
      }
    },
  };
}

export const cgroupRootAvailable = (): string | undefined =>
  existsSync(`${ROOT}/cgroup.procs`) ? undefined : `no cgroup v2 hierarchy at ${ROOT}`;
