#!/usr/bin/env bash
# Boots one fetched kernel under QEMU and runs a shell script in it as root, in a guest whose root is the host's
# / (read-only 9p + tmpfs overlay) and whose checkout is this one, read-write at the same path.
#
# Usage: test-vm/boot.sh KERNEL SCRIPT [RUNDIR]
#   KERNEL   5.10 | 6.1 | 6.12 (fetched by fetch.sh into test-vm/.cache/kernels/KERNEL)
#   SCRIPT   shell script run by /bin/sh in the guest, cwd = the checkout
#   RUNDIR   control directory (default: a fresh one under test-vm/.cache/runs/); after the run it holds
#            out.log (the script's output), console.log (the whole serial console) and rc
# The guest boots with the BPF LSM enabled (lsm=...,bpf; Debian's kernels build it but leave it off), so LSM
# programs attach for real.
# Environment: TEST_VM_SMP (default 2: per-CPU maps and perf events on "other" CPUs need more than one), TEST_VM_MEM (default 2G), TEST_VM_TIMEOUT seconds (default 900).
# Exit status: the script's, or 124 on timeout, 125 when the guest died before reporting one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
checkout="$(cd "$here/.." && pwd)"
cache="$here/.cache"
name="${1:?usage: boot.sh KERNEL SCRIPT [RUNDIR]}"
script="${2:?usage: boot.sh KERNEL SCRIPT [RUNDIR]}"
kdir="$cache/kernels/$name"
bash "$here/fetch.sh" "$name" # a no-op when cached and current

mkdir -p "$cache/runs"
ctl="${3:-$(mktemp -d "$cache/runs/$name.XXXXXX")}"
mkdir -p "$ctl"
rm -f "$ctl/rc" "$ctl/rc.tmp" "$ctl/out.log" "$ctl/console.log"
cp "$script" "$ctl/cmd.sh"
echo "$kdir/root" >"$ctl/kernel-dir"
awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts >"$ctl/cgroup2-path"

# KVM only where it really works: /dev/kvm here can be PVM, under which stock kernels crash or crawl.
if [ -w /dev/kvm ] && grep -qE '^(kvm_intel|kvm_amd) ' /proc/modules 2>/dev/null; then
  accel=(-accel kvm -cpu host)
else
  accel=(-accel tcg,thread=multi -cpu max)
fi

qemu_pid=""
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid" 2>/dev/null || true
    sleep 1
    kill -9 "$qemu_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

timeout_s="${TEST_VM_TIMEOUT:-900}"
# QEMU's own exit status says nothing about the guest: the result comes back through the ctl share.
qemu-system-x86_64 "${accel[@]}" -smp "${TEST_VM_SMP:-2}" -m "${TEST_VM_MEM:-2G}" \
  -nodefaults -no-user-config -display none -no-reboot -monitor none \
  -serial "file:$ctl/console.log" \
  -kernel "$kdir/vmlinux" -initrd "$kdir/initramfs.cpio" \
  -append "console=ttyS0 panic=-1 quiet loglevel=4 mitigations=off lsm=lockdown,capability,yama,bpf testvm.checkout=$checkout" \
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
  -virtfs "local,path=$checkout,mount_tag=checkout,security_model=none,multidevs=remap" \
  -virtfs "local,path=$ctl,mount_tag=ctl,security_model=none" \
  </dev/null >"$ctl/qemu.log" 2>&1 &
qemu_pid=$!
start=$(date +%s)
while kill -0 "$qemu_pid" 2>/dev/null; do
  if [ $(($(date +%s) - start)) -ge "$timeout_s" ]; then
    echo "boot.sh: $name: timeout after ${timeout_s}s" >&2
    cleanup
    echo 124 >"$ctl/rc"
    break
  fi
  sleep 0.5
done
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=""
echo "$(($(date +%s) - start))" >"$ctl/seconds"

if [ -s "$ctl/rc" ]; then
  rc="$(cat "$ctl/rc")"
else
  echo "boot.sh: $name: the guest reported no exit status; console tail:" >&2
  tail -n 30 "$ctl/console.log" >&2 || true
  cat "$ctl/qemu.log" >&2 || true
  rc=125
fi
exit "$rc"
