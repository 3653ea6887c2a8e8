#!/bin/busybox sh
# /init of the test-vm initramfs (PID 1 in the guest). Loads the virtio/9p/overlay modules, builds the guest
# root (the host's / over 9p read-only + a tmpfs overlay), mounts the checkout read-write at the same path as on
# the host and the control share at /run/test-vm, runs /run/test-vm/cmd.sh as root in that root, writes its
# exit status to /run/test-vm/rc, and powers off. Parameters come from the kernel command line:
#   testvm.checkout=/abs/path   (the host checkout, shared as 9p tag "checkout")
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "test-vm: $*" >/dev/console; }
die() {
  say "FATAL: $*"
  [ -d /newroot/run/test-vm ] && echo 125 >/newroot/run/test-vm/rc
  sync
  poweroff -f
}

for m in $(cat /modules.order); do
  insmod "/lib/modules/$m" || die "insmod $m failed"
done

checkout=""
for arg in $(cat /proc/cmdline); do
  case "$arg" in testvm.checkout=*) checkout="${arg#testvm.checkout=}" ;; esac
done
[ -n "$checkout" ] || die "no testvm.checkout= on the kernel command line"

p9="trans=virtio,version=9p2000.L,msize=512000"
mkdir -p /mnt/lower /mnt/rw
# The host's root never changes during a run: cache it loosely (much faster lookups under TCG).
mount -t 9p -o "$p9,ro,cache=loose" hostroot /mnt/lower || die "mount hostroot"
mount -t tmpfs -o size=75% tmpfs /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /newroot ||
  die "mount overlay"

# Kernel file systems of the guest inside its root (the host's own /proc, /sys... are only 9p files).
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
mount -t tmpfs tmpfs /newroot/tmp
mount -t tmpfs tmpfs /newroot/run/lock 2>/dev/null
mount -t bpf bpf /newroot/sys/fs/bpf 2>/dev/null
mount -t tracefs tracefs /newroot/sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /newroot/sys/kernel/debug 2>/dev/null
mount -t securityfs securityfs /newroot/sys/kernel/security 2>/dev/null
# After the tmpfs mounts above, so that a checkout under /tmp (or /run) is not hidden by them.
mkdir -p "/newroot$checkout" /newroot/run/test-vm
# Loose caching of the checkout (smoke test 59 s -> 13 s under TCG): the guest never revalidates, so a file
# edited on the host during a run may be read with its old size (truncated). run.sh warns when that happened.
mount -t 9p -o "$p9,cache=loose" checkout "/newroot$checkout" || die "mount checkout"
mount -t 9p -o "$p9" ctl /newroot/run/test-vm || die "mount ctl"

# cgroup v2 where the host has it (tests may look there), /sys/fs/cgroup by default.
cg="$(cat /newroot/run/test-vm/cgroup2-path 2>/dev/null)"
[ -n "$cg" ] || cg=/sys/fs/cgroup
[ "$cg" = /sys/fs/cgroup ] || mount -t tmpfs -o mode=755 tmpfs /newroot/sys/fs/cgroup
mkdir -p "/newroot$cg"
mount -t cgroup2 cgroup2 "/newroot$cg" 2>/dev/null

# The guest kernel's own modules (inside the shared cache) at /lib/modules/<release>, and module autoload
# (veth, sch_clsact, ...) through the real root's modprobe.
release="$(uname -r)"
kdir="$(cat /newroot/run/test-vm/kernel-dir 2>/dev/null)"
if [ -n "$kdir" ] && [ -d "/newroot$kdir/lib/modules/$release" ]; then
  mkdir -p "/newroot/lib/modules/$release"
  mount --bind "/newroot$kdir/lib/modules/$release" "/newroot/lib/modules/$release"
  # Debian kernels have no /proc/config.gz: loaders (libbpf too) read /boot/config-<release>, as installed.
  mkdir -p /newroot/boot
  cp "/newroot$kdir/boot/config-$release" "/newroot$kdir/boot/System.map-$release" /newroot/boot/ 2>/dev/null
fi
cat >/sbin/modprobe-chroot <<'EOF'
#!/bin/busybox sh
/bin/busybox chroot /newroot /sbin/modprobe "$@" && exit 0
rc=$?
echo "test-vm: modprobe $* failed ($rc)" >/dev/kmsg
exit $rc
EOF
chmod +x /sbin/modprobe-chroot
echo /sbin/modprobe-chroot >/proc/sys/kernel/modprobe

hostname test-vm
/bin/busybox chroot /newroot /sbin/ip link set lo up 2>/dev/null

say "running cmd.sh on $release"
# The command's output goes to the console and to /run/test-vm/out.log; its exit status to /run/test-vm/rc.
(
  chroot /newroot /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TEST_VM_KERNEL="$release" \
    /bin/sh -c "cd '$checkout' && exec /bin/sh /run/test-vm/cmd.sh" </dev/null 2>&1
  echo $? >/newroot/run/test-vm/rc.tmp
) | tee /newroot/run/test-vm/out.log >/dev/console
mv /newroot/run/test-vm/rc.tmp /newroot/run/test-vm/rc
sync
umount /newroot/run/test-vm 2>/dev/null
poweroff -f
