#!/usr/bin/env bash
# Sets up a fresh machine (Debian, root) for building and testing: apt packages for the BPF test programs
# (clang, llvm, bpftool, libbpf-dev for bpf_helpers.h: test-time only, never a runtime dependency of the
# library), iproute2 for network tests, pnpm, the workspace's packages, and the kernel mounts.
#
#   bash tools/setup.sh           # enough for the demo and development
#   bash tools/setup.sh --tests   # also QEMU and the Debian 5.10/6.1/6.12 kernels of test-vm: their BTF is a
#                                 # fixture of host tests, and `pnpm test:all` boots them
set -euo pipefail
cd "$(dirname "$0")/.."
for_tests=0
[ "${1:-}" = "--tests" ] && for_tests=1

need_apt=()
for tool in clang llvm-strip bpftool ip; do command -v "$tool" >/dev/null 2>&1 || need_apt+=("$tool"); done
[ -f /usr/include/bpf/bpf_helpers.h ] || need_apt+=(libbpf-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing apt packages (missing: ${need_apt[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends clang llvm bpftool libbpf-dev iproute2 >/dev/null
fi

if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version)" != 10.* ]]; then
  echo "setup: installing pnpm 10 with npm (corepack fails on this machine)"
  npm install -g pnpm@10.34.9 >/dev/null
fi

if [ "${CI:-}" = "true" ]; then
  pnpm install --frozen-lockfile
else
  pnpm install
fi

# Kernel tests and the demo need these; the test helper mounts them too.
grep -qs ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf || true
grep -qs ' /sys/kernel/tracing tracefs ' /proc/mounts || mount -t tracefs tracefs /sys/kernel/tracing || true
if [ "$for_tests" = 1 ]; then
  bash test-vm/setup.sh
  for k in 5.10 6.1 6.12; do bash test-vm/fetch.sh "$k"; done
fi
echo "setup: done"
