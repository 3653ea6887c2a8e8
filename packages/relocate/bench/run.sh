#!/usr/bin/env bash
# One interleaved run of our relocation benchmark and libbpf's open+load (user CPU time) on the same
# object; prints `name median min max unit` like ../shared/anchors/perf/run.sh. RUNS (default 3) processes
# of each, ITERS (default 10) samples per process.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/build"
ITERS=1 node "$here/relocate.bench.mjs" >/dev/null # compiles build/core.bpf.o if needed
gcc -O2 -o "$here/build/libbpf_userspace" "$here/libbpf_userspace.c" -lbpf
export BPF_OBJ_DIR=${BPF_OBJ_DIR:-$here/build}
raw="$here/build/raw.txt"
: >"$raw"
for ((r = 1; r <= ${RUNS:-3}; r++)); do
	"$here/build/libbpf_userspace" >>"$raw"
	node "$here/relocate.bench.mjs" >>"$raw"
done
echo "# name median min max unit"
sort -k1,1 -k2,2g "$raw" | awk '
function flush() {
	if (n == 0) return
	if (n % 2) med = v[(n + 1) / 2]; else med = (v[n / 2] + v[n / 2 + 1]) / 2
	printf "%s %.4g %.4g %.4g %s\n", name, med, v[1], v[n], unit
}
{ if ($1 != name) { flush(); name = $1; unit = $3; n = 0 } v[++n] = $2 }
END { flush() }'
