// Turns the per-kernel vitest JSON reports of a test-vm run into the kernel x passed/skipped/failed table.
// Usage: node test-vm/report.mjs CACHE_DIR RUN_ID KERNEL... (reads CACHE_DIR/runs/RUN_ID/KERNEL/{report.json,
// exit,seconds}, writes results.md and results.json there and to CACHE_DIR/results/). Exit status 1 when a test failed or a VM gave no
// report, else 0. The last line printed is `test-vm: N passed, N failed, N skipped`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [cache, runId, ...kernels] = process.argv.slice(2);
if (!cache || !runId || kernels.length === 0) {
  console.error("usage: node test-vm/report.mjs CACHE_DIR RUN_ID KERNEL...");
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
  const run = join(cache, "runs", runId, kernel);
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
  // Errors outside tests (a failing beforeAll, an import error) are not in vitest's JSON report: take the
  // first line after each "FAIL ... file > suite" header of the console output.
  const suiteErrors = new Map();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the ANSI colour codes vitest prints
  const out = (read(join(run, "out.log")) ?? "").replace(/\x1b\[[0-9;]*m/g, "");
  for (const m of out.matchAll(/FAIL\s+(?:\|[^|\n]*\|\s+)?(\S+)(?: \[[^\]]*\]| > ([^\n]*))?\n(\S[^\n]*)/g)) {
    if (!suiteErrors.has(m[1])) suiteErrors.set(m[1], `${m[2] ? `${m[2]}: ` : ""}${m[3]}`);
  }
  const text = read(join(run, "report.json"));
  if (!text) {
    row.status =
      row.exit === "124" ? "timeout" : `no report (VM failed: see test-vm/.cache/runs/${runId}/${kernel})`;
    row.failed = 1;
    row.failures.push(`${kernel}: ${row.status}`);
  } else {
    const report = JSON.parse(text);
    for (const file of report.testResults ?? []) {
      const name = file.name.replace(/^.*?\/(packages|tools|test-vm)\//, "$1/");
      const tests = file.assertionResults ?? [];
      if (file.status === "failed" && !tests.some((t) => t.status === "failed")) {
        row.failed++;
        const why = file.message?.split("\n")[0] || suiteErrors.get(name) || "failed outside its tests";
        row.failures.push(`${name}: ${why} (see out.log)`);
      }
      for (const t of tests) {
        if (t.status === "passed") row.passed++;
        else if (t.status === "failed") {
          row.failed++;
          row.failures.push(`${name} > ${t.fullName}: ${(t.failureMessages?.[0] ?? "").split("\n")[0]}`);
        } else {
          row.skipped++;
          const why =
            file.status === "failed" && !/\[skipped: /.test([...(t.ancestorTitles ?? []), t.title].join(" "))
              ? "not run: its suite failed first (see the failure above)"
              : skipReason(t);
          row.skips.push(`${name} > ${t.fullName.replace(/ \[skipped: .*?\]/g, "")}: ${why}`);
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
  if (r.failures.length > 0) lines.push("", `Failed on ${r.kernel}:`, ...r.failures.map((s) => `- ${s}`));
  if (r.skips.length > 0) lines.push("", `Skipped on ${r.kernel}:`, ...r.skips.map((s) => `- ${s}`));
}
const total = (key) => rows.reduce((n, r) => n + r[key], 0);
const summary = `test-vm: ${total("passed")} passed, ${total("failed")} failed, ${total("skipped")} skipped`;

const stamp = new Date().toISOString();
const md = `# test-vm results (${stamp}, run ${runId})\n\n${lines.join("\n")}\n`;
const json = `${JSON.stringify({ date: stamp, runId, rows }, null, 2)}\n`;
for (const dir of [join(cache, "runs", runId), join(cache, "results")]) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "results.md"), md);
  writeFileSync(join(dir, "results.json"), json);
}
console.log(lines.join("\n"));
console.log(`\n(written to ${join(cache, "results", "results.md")})`);
console.log(summary);
process.exit(rows.some((r) => r.failed > 0 || r.exit !== "0") ? 1 : 0);
