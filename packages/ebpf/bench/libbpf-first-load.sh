#!/bin/sh
# libbpf.obj_load_first_ms: the first open+load+close in a fresh libbpf process (the anchor's untimed
# warm-up, which it reports on stderr), as one sample, to compare with ts.obj_load_first_ms.
# Usage (from ../shared/anchors/perf): ./run.sh ... --cmd "sh /work/main/packages/ebpf/bench/libbpf-first-load.sh"
# Needs ANCHORS_BUILD (or the anchors' default build dir) with the built obj_load binary.
set -eu
build="${ANCHORS_BUILD:-$(dirname "$0")/../../../../shared/anchors/perf/build}"
BPF_OBJ_DIR="${BPF_OBJ_DIR:-$build/bpf}" ITERS=0 "$build/obj_load" 2>&1 >/dev/null | sed -n 's/.*first load \([0-9.]*\) ms.*/libbpf.obj_load_first_ms \1 ms/p'
