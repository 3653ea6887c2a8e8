#!/usr/bin/env bash
# Fetches one Debian kernel (never installed on the host), unpacks it, extracts the uncompressed vmlinux for a
# PVH boot and builds a minimal initramfs. Everything lands in test-vm/.cache/kernels/<name>/:
#   root/            dpkg -x of the kernel package (boot/, lib/modules/<release>/ with depmod run)
#   vmlinux          uncompressed kernel (ELF, boots via PVH: no decompression under TCG)
#   initramfs.cpio   static busybox + /init + the virtio/9p/overlay modules in load order
#   vmlinux.btf      the kernel's raw BTF (the bytes of its /sys/kernel/btf/vmlinux), for host-side tests
#   release          the kernel release string (e.g. 5.10.0-46-amd64)
# Idempotent: a kernel already complete (its `.done` stamp matches this script's inputs) is left alone.
#
# Usage: test-vm/fetch.sh 5.10|6.1|6.12
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="$here/.cache"
name="${1:?usage: fetch.sh 5.10|6.1|6.12}"

# name -> Debian suite and meta package. The meta package resolves to the concrete, ABI-numbered image
# package (linux-image-5.10.0-NN-amd64, ...). Generic flavour only: the cloud flavour lacks 9p.
case "$name" in
5.10) suite=bullseye meta=linux-image-amd64 ;;
6.1) suite=bookworm meta=linux-image-amd64 ;;
6.12) suite=bookworm meta=linux-image-6.12-amd64 ;;
*)
  echo "fetch.sh: unknown kernel '$name' (5.10, 6.1 or 6.12)" >&2
  exit 2
  ;;
esac

dest="$cache/kernels/$name"
# One fetch per kernel at a time (several runs may start together in one tree).
mkdir -p "$cache/kernels"
exec 9>"$cache/kernels/.lock-$name"
flock 9
stamp_want="$(sha256sum "$here/fetch.sh" "$here/init.sh" | sha256sum | cut -c1-16)"
if [ -f "$dest/.done" ] && [ "$(cat "$dest/.done")" = "$stamp_want" ]; then
  exit 0
fi

# A private apt state per suite (its own sources list, lists and package cache), so nothing of the host's apt
# configuration changes and bullseye never appears in the host's sources.
aptdir="$cache/apt/$suite"
mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$aptdir/debs"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$aptdir/sources.list" <<EOF
deb [signed-by=$keyring] http://deb.debian.org/debian $suite main
deb [signed-by=$keyring] http://deb.debian.org/debian-security $suite-security main
EOF
apt_opts=(
  -o "Dir::Etc::SourceList=$aptdir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache" -o "Dir::State::status=/dev/null"
  -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
)
# Refresh the lists at most once a day (the ABI number moves with security updates).
if [ -z "$(find "$aptdir/updated" -mtime -1 2>/dev/null)" ]; then
  echo "fetch: apt-get update ($suite)" >&2
  if apt-get "${apt_opts[@]}" -qq update; then
    touch "$aptdir/updated"
  elif [ -e "$aptdir/updated" ]; then
    echo "fetch: apt-get update failed; using the lists from $(date -r "$aptdir/updated")" >&2
  else
    exit 1
  fi
fi
pkg="$(apt-cache "${apt_opts[@]}" depends "$meta" | awk '/Depends: linux-image-/ {print $2; exit}')"
[ -n "$pkg" ] || {
  echo "fetch: cannot resolve $meta in $suite" >&2
  exit 1
}
deb="$(ls "$aptdir/debs/${pkg}"_*.deb 2>/dev/null | head -1 || true)"
if [ -z "$deb" ]; then
  echo "fetch: downloading $pkg ($suite)" >&2
  (cd "$aptdir/debs" && apt-get "${apt_opts[@]}" -qq download "$pkg")
  deb="$(ls "$aptdir/debs/${pkg}"_*.deb | head -1)"
fi

tmp="$(mktemp -d "$cache/tmp.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "fetch: unpacking $(basename "$deb")" >&2
dpkg -x "$deb" "$tmp/root"
release="$(ls "$tmp/root/lib/modules" | head -1)"
depmod -b "$tmp/root" "$release"

# Uncompressed vmlinux: find the xz or zstd stream inside the bzImage and decompress it (trailing bytes after
# the stream are expected, hence the tolerated error).
vmlinuz="$tmp/root/boot/vmlinuz-$release"
extract() { # magic-as-grep-pattern decompressor
  local off
  for off in $(LC_ALL=C grep -aboP "$1" "$vmlinuz" | cut -d: -f1); do
    tail -c +$((off + 1)) "$vmlinuz" | $2 >"$tmp/vmlinux" 2>/dev/null || true
    if [ "$(head -c 4 "$tmp/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then return 0; fi
  done
  return 1
}
extract '\xFD7zXZ\x00' 'xz -dc' || extract '\x28\xB5\x2F\xFD' 'zstd -dc' || {
  echo "fetch: no xz/zstd-compressed ELF inside $vmlinuz" >&2
  exit 1
}

# Initramfs: static busybox, /init, and the modules needed to reach the 9p shares, in load order (from the
# host's modprobe reading the guest's modules.dep). .ko.xz/.ko.zst are decompressed: busybox insmod can't.
ird="$tmp/initramfs"
mkdir -p "$ird"/{bin,dev,proc,sys,mnt,newroot,lib/modules}
cp "$(command -v busybox)" "$ird/bin/busybox"
file "$ird/bin/busybox" 2>/dev/null | grep -q 'statically linked' || ldd "$ird/bin/busybox" 2>&1 | grep -q 'not a dynamic' || {
  echo "fetch: busybox is not static (apt-get install busybox-static)" >&2
  exit 1
}
cp "$here/init.sh" "$ird/init"
chmod +x "$ird/init"
: >"$ird/modules.order"
for m in virtio_pci 9pnet_virtio 9p overlay; do
  modprobe -d "$tmp/root" -S "$release" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
  base="$(basename "$ko")"
  case "$base" in
  *.ko.xz) xz -dc "$ko" >"$ird/lib/modules/${base%.xz}" && base="${base%.xz}" ;;
  *.ko.zst) zstd -qdc "$ko" >"$ird/lib/modules/${base%.zst}" && base="${base%.zst}" ;;
  *) cp "$ko" "$ird/lib/modules/$base" ;;
  esac
  echo "$base" >>"$ird/modules.order"
done
echo "fetch: initramfs modules: $(tr '\n' ' ' <"$ird/modules.order")" >&2
(cd "$ird" && find . | cpio -o -H newc --quiet) >"$tmp/initramfs.cpio"

# The kernel's BTF as a raw blob (what /sys/kernel/btf/vmlinux gives in that guest): host-side fixtures for
# BTF sanitization and CO-RE tests against three kernels' types, no VM needed.
objcopy -O binary --only-section=.BTF "$tmp/vmlinux" "$tmp/vmlinux.btf"
[ "$(head -c 2 "$tmp/vmlinux.btf" | od -An -tx1 | tr -d ' ')" = 9feb ] || {
  echo "fetch: no .BTF section in vmlinux" >&2
  exit 1
}

echo "$release" >"$tmp/release"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mkdir "$dest"
mv "$tmp/root" "$tmp/vmlinux" "$tmp/vmlinux.btf" "$tmp/initramfs.cpio" "$tmp/release" "$dest/"
echo "$stamp_want" >"$dest/.done"
echo "fetch: $name ready: $release" >&2
