// Turns the per-kernel vitest JSON reports of a test-vm run into the kernel x passed/skipped/failed table.
// Usage: node test-vm/report.mjs CACHE_DIR KERNEL... (reads CACHE_DIR/runs/KERNEL/{report.json,exit,seconds},
// writes CACHE_DIR/results/results.md and results.json). Exit status 1 when a test failed or a VM gave no
// report, else 0. The last line printed is `test-vm: N passed, N failed, N skipped`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [cache, ...kernels] = process.argv.slice(2);
if (!cache || kernels.length === 0) {
  console.error("usage: node test-vm/report.mjs CACHE_DIR KERNEL...");
  process.exit(2);
}

const read = (path) => (existsSync(path) ? readFileSync(path, "utf8").trim() : undefined);
const skipReason = (t) => {
  // describeKernel/itKernel put the reason in the title: "name [skipped: reason]".
  const titles = [...(t.ancestorTitles ?? []), t.title ?? ""];
  for (const title of titles) {
    const m = /\[skipped: (.*)\]$/.exec(title);
    if (m) return m[1];
  }
  return "(no reason given: use describeKernel/itKernel with a Requirement that names the feature)";
};

const rows = [];
for (const kernel of kernels) {
  const run = join(cache, "runs", kernel);
  const row = {
    kernel,
    release: read(join(cache, "kernels", kernel, "release")) ?? "?",
    passed: 0,
    skipped: 0,
    failed: 0,
    seconds: Number(read(join(run, "seconds")) ?? Number.NaN),
    exit: read(join(run, "exit")) ?? read(join(run, "rc")) ?? "?",
    status: "ok",
    skips: [],
    failures: [],
  };
  const text = read(join(run, "report.json"));
  if (!text) {
    row.status = row.exit === "124" ? "timeout" : `no report (VM failed: see test-vm/.cache/runs/${kernel})`;
    row.failed = 1;
    row.failures.push(`${kernel}: ${row.status}`);
  } else {
    const report = JSON.parse(text);
    for (const file of report.testResults ?? []) {
      const name = file.name.replace(/^.*?\/(packages|tools|test-vm)\//, "$1/");
      const tests = file.assertionResults ?? [];
      if (tests.length === 0 && file.status === "failed") {
        row.failed++;
        row.failures.push(`${name}: ${(file.message ?? "failed to load").split("\n")[0]}`);
      }
      for (const t of tests) {
        if (t.status === "passed") row.passed++;
        else if (t.status === "failed") {
          row.failed++;
          row.failures.push(`${name} > ${t.fullName}: ${(t.failureMessages?.[0] ?? "").split("\n")[0]}`);
        } else {
          row.skipped++;
          row.skips.push(`${name} > ${t.fullName.replace(/ \[skipped: .*?\]/g, "")}: ${skipReason(t)}`);
        }
      }
    }
    if (row.failed > 0) row.status = "FAILED";
    else if (row.exit !== "0") row.status = `vitest exit ${row.exit}`;
  }
  rows.push(row);
}

const lines = [
  "| kernel | release | passed | skipped | failed | seconds | status |",
  "|---|---|---:|---:|---:|---:|---|",
  ...rows.map(
    (r) =>
      `| ${r.kernel} | ${r.release} | ${r.passed} | ${r.skipped} | ${r.failed} | ${Number.isNaN(r.seconds) ? "?" : r.seconds} | ${r.status} |`,
  ),
];
for (const r of rows) {
  if (r.skips.length > 0) lines.push("", `Skipped on ${r.kernel}:`, ...r.skips.map((s) => `- ${s}`));
  if (r.failures.length > 0) lines.push("", `Failed on ${r.kernel}:`, ...r.failures.map((s) => `- ${s}`));
}
const total = (key) => rows.reduce((n, r) => n + r[key], 0);
const summary = `test-vm: ${total("passed")} passed, ${total("failed")} failed, ${total("skipped")} skipped`;

mkdirSync(join(cache, "results"), { recursive: true });
const stamp = new Date().toISOString();
writeFileSync(join(cache, "results", "results.md"), `# test-vm results (${stamp})\n\n${lines.join("\n")}\n`);
writeFileSync(join(cache, "results", "results.json"), `${JSON.stringify({ date: stamp, rows }, null, 2)}\n`);
console.log(lines.join("\n"));
console.log(`\n(written to ${join(cache, "results", "results.md")})`);
console.log(summary);
process.exit(rows.some((r) => r.failed > 0 || r.exit !== "0") ? 1 : 0);
