// @ebpf/programs benchmarks: program load, VerifierError construction, test run (call overhead and the
// kernel-measured run time). Prints "ts.<metric> <value> <unit>" lines, ITERS timed rounds after warm-up.
// Needs root and the built packages (pnpm build, or npx tsc -b packages/programs).

import { Program, Xdp } from "@ebpf/programs";
import { exit, ldx, mov64Imm, Size } from "@ebpf/relocate";
import { BpfProgType, XdpAction } from "@ebpf/sys";

const iters = Number(process.env.ITERS ?? 5);
const now = () => process.hrtime.bigint();
const sample = (metric, value, unit) =>
  process.stdout.write(`ts.${metric} ${Number(value.toPrecision(6))} ${unit}\n`);

const pass = {
  name: "bench_pass",
  type: BpfProgType.XDP,
  license: "GPL",
  instructions: [mov64Imm(0, XdpAction.PASS), exit()],
};
const broken = {
  ...pass,
  name: "bench_broken",
  instructions: [mov64Imm(0, 1), ldx(Size.W, 2, 1, 400), exit()],
};

function round(timed) {
  const loads = 200;
  let t = now();
  for (let i = 0; i < loads; i++) Xdp.load(pass).close();
  if (timed) sample("prog_load_us", Number(now() - t) / loads / 1e3, "us");

  t = now();
  for (let i = 0; i < loads; i++) {
    try {
      Program.load(broken);
    } catch {
      // VerifierError expected
    }
  }
  if (timed) sample("verifier_error_us", Number(now() - t) / loads / 1e3, "us");

  const prog = Xdp.load(pass);
  try {
    const data = new Uint8Array(64);
    const runs = 20000;
    t = now();
    for (let i = 0; i < runs; i++) prog.testRun({ data });
    if (timed) sample("test_run_call_us", Number(now() - t) / runs / 1e3, "us");
    if (timed) sample("test_run_kernel_ns", prog.testRun({ data, repeat: 1_000_000 }).duration, "ns");
  } finally {
    prog.close();
  }
}

round(false);
for (let i = 0; i < iters; i++) round(true);
