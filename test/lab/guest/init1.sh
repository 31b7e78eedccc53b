#!/bin/busybox sh
# Stage 1 of the lab VM: /init of the busybox-static initramfs.
# Mounts the host root (9p, read-only) under a tmpfs overlay and changes root *in PID 1*, so the
# kernel's request_module helper (which runs in kthreadd's root, shared with PID 1) finds modprobe.
# The kernel passes unknown "name=value" command-line parameters to us as environment variables:
# labinit2 is the stage-2 script on the host filesystem.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /lower /rw /newroot
mount -t devtmpfs devtmpfs /dev
exec 0<>/dev/console 1>&0 2>&0
mount -t proc proc /proc
mount -t sysfs sysfs /sys
fail() { echo "lab stage 1: $*"; echo "SASCOPE-LAB-FAIL"; poweroff -f; sleep 5; }
for m in netfs 9pnet 9pnet_virtio 9p overlay; do
  [ -f /modules/$m.ko ] && { insmod /modules/$m.ko || fail "insmod $m failed"; }
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower \
  || fail "cannot mount the host root over 9p"
mount -t tmpfs -o mode=755 tmpfs /rw && mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot \
  || fail "cannot mount the overlay"
for d in dev proc sys; do mount --move /$d /newroot/$d; done
[ -x "/newroot$labinit2" ] || fail "stage 2 not found: $labinit2"
exec switch_root /newroot "$labinit2"
