#!/usr/bin/env node
// The `ebpf` command: see `ebpf help`.
import { EbpfError } from "@ebpf/errors";
import { run, UsageError, usage } from "./commands.js";

// `ebpf btf dump | head`: a closed pipe ends the command quietly, as for any Unix tool.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

try {
  process.stdout.write(`${run(process.argv.slice(2))}\n`);
} catch (e) {
  if (e instanceof UsageError) {
    process.stderr.write(`ebpf: ${e.message}\n\n${usage}`);
    process.exit(2);
  }
  // Library errors carry a stable code and a message that says what to do: print those, not a stack.
  if (e instanceof EbpfError) {
    process.stderr.write(`ebpf: ${e.message} [${e.code}]\n`);
    process.exit(1);
  }
  throw e;
}
