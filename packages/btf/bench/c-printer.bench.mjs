// Benchmark of formatC (the C printer): prints `metric value unit` lines. One untimed warm-up, then ITERS
// timed iterations, each printing one sample per metric (the shape of ../shared/anchors/perf).
//
//   node packages/btf/bench/c-printer.bench.mjs
//
// ts.format_c_ms: vmlinux BTF (already parsed) → vmlinux.h string. bpftool.btf_dump_c_ms, when bpftool is
// installed, times `bpftool btf dump file <vmlinux> format c > /dev/null` as a process (start + read +
// parse + print), the reference to compare with ts.parse_format_c_ms (read + parse + print, in process).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { formatC, parseBtf } from "../dist/index.js";

const path = process.env.VMLINUX_BTF ?? "/sys/kernel/btf/vmlinux";
const iters = Number(process.env.ITERS ?? 10);
const now = () => performance.now();
const out = (metric, value, unit) => process.stdout.write(`${metric} ${value.toFixed(3)} ${unit}\n`);

if (!existsSync(path)) {
  process.stderr.write(`c-printer bench: no BTF at ${path} (set VMLINUX_BTF)\n`);
  process.exit(0);
}

let hasBpftool = true;
try {
  execFileSync("bpftool", ["version"], { stdio: "ignore" });
} catch {
  hasBpftool = false;
}

for (let it = -1; it < iters; it++) {
  const t0 = now();
  const btf = parseBtf(readFileSync(path));
  const t1 = now();
  const header = formatC(btf);
  const t2 = now();
  let t3 = t2;
  let t4 = t2;
  if (hasBpftool) {
    t3 = now();
    // Output to /dev/null, as bpftool writes a file: piping 2.8 MB into node would be timed too.
    execFileSync("sh", ["-c", 'bpftool btf dump file "$0" format c > /dev/null', path]);
    t4 = now();
  }
  if (it < 0) {
    process.stderr.write(
      `format_c: ${btf.count - 1} types → ${header.length} chars, ${header.split("\n").length} lines\n`,
    );
    continue;
  }
  out("ts.format_c_ms", t2 - t1, "ms");
  out("ts.parse_format_c_ms", t2 - t0, "ms");
  if (hasBpftool) out("bpftool.btf_dump_c_ms", t4 - t3, "ms");
}
