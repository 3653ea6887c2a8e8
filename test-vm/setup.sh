#!/usr/bin/env bash
# Installs what test-vm needs on the host (Debian, root): QEMU, a static busybox for the initramfs, the
# decompressors for kernels and modules, cpio, and kmod (depmod/modprobe to order the initramfs modules).
# A no-op when everything is there.
set -euo pipefail
need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
{ [ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx insmod &&
  ! ldd /bin/busybox >/dev/null 2>&1; } || need+=(busybox-static)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
command -v zstd >/dev/null 2>&1 || need+=(zstd)
command -v cpio >/dev/null 2>&1 || need+=(cpio)
command -v depmod >/dev/null 2>&1 || need+=(kmod)
command -v node >/dev/null 2>&1 || {
  echo "test-vm setup: node is missing (run tools/setup.sh)" >&2
  exit 1
}
if [ ${#need[@]} -gt 0 ]; then
  echo "test-vm setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ -d "$(dirname "$0")/../node_modules/vitest" ] || {
  echo "test-vm setup: node_modules missing (run tools/setup.sh)" >&2
  exit 1
}
