#!/bin/bash
# Stage 2 of the lab VM: PID 1 on the overlaid host root. Sets up the guest, runs the command
# the host left in the lab share (mounted at /run/sascope-lab), reports its exit status there
# and powers off. Kept small on purpose: scenarios live in test/lab/scenarios.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
unset labinit2
# The fresh tmpfs on /run and /tmp hide the host's: keep the host's view of both under /.lab-host until
# the directories the guest needs from there (a project cloned under /tmp, a lab cache) are bound back.
for d in /run /tmp; do mkdir -p /.lab-host$d && mount --bind $d /.lab-host$d; done
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /dev/shm /dev/pts /run/sascope-lab
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t devpts -o mode=620,ptmxmode=666 devpts /dev/pts
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
share=/run/sascope-lab
bye() { sync; /bin/busybox poweroff -f; sleep 10; }
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 labout $share; then
  echo "lab stage 2: cannot mount the lab share"; echo "SASCOPE-LAB-FAIL"; bye
fi
# LAB_KERNEL LAB_MODE LAB_PROJECT LAB_CWD LAB_TIMEOUT LAB_MODULES LAB_NET LAB_COLS LAB_ROWS LAB_CACHE
. $share/env
# parents sort before their children (C order), so a nested directory is bound inside its parent's mount
printf '%s\n' "$LAB_PROJECT" "$LAB_CACHE" "$LAB_CWD" | LC_ALL=C sort -u | while read -r d; do
  case $d in /run/*|/tmp/*) [ -d "/.lab-host$d" ] && mkdir -p "$d" && mount --bind "/.lab-host$d" "$d" ;; esac
done
for d in /run /tmp; do umount -l /.lab-host$d; done
rmdir /.lab-host/run /.lab-host/tmp /.lab-host
export SASCOPE_LAB_VM=1 SASCOPE_LAB_KERNEL=$LAB_KERNEL SASCOPE_LAB_CACHE=$LAB_CACHE
export SASCOPE_LAB_SRC=$LAB_CACHE/src/linux-7.2
touch /run/sascope-lab-guest
release=$(uname -r)
mkdir -p /usr/lib/modules/$release
if [ -n "$LAB_MODULES" ]; then
  mount --bind "$LAB_MODULES" /usr/lib/modules/$release
fi
hostname sascope-lab
ip link set lo up
if [ "$LAB_NET" = 1 ]; then
  # qemu user-mode network (slirp): guest 10.0.2.15, gateway 10.0.2.2
  modprobe -q virtio_net 2>/dev/null
  for i in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
  ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2
fi
cd "$LAB_CWD" || { echo "lab stage 2: no such directory $LAB_CWD"; echo "SASCOPE-LAB-FAIL"; echo 125 > $share/rc; bye; }
if [ "$LAB_MODE" = shell ]; then
  exec 0<>/dev/ttyS0 1>&0 2>&0
  stty sane; stty cols "${LAB_COLS:-80}" rows "${LAB_ROWS:-24}"
  export TERM=${LAB_TERM:-linux} PS1='\[\e[1;33m\]lab-$SASCOPE_LAB_KERNEL\[\e[0m\] \w# '
  echo "SASCOPE-LAB-BEGIN"
  echo "lab: root shell on $release ($LAB_KERNEL kernel); exit or Ctrl-D powers off"
  setsid -c bash --norc -i
  echo $? > $share/rc
  bye
fi
# Non-interactive: keep the console clean (kernel messages go to $share/dmesg) and raw.
dmesg -n 1
stty -onlcr -F /dev/console 2>/dev/null
cp $share/cmd /run/lab-cmd.sh
echo "SASCOPE-LAB-BEGIN"
start=$(date +%s)
timeout -k 5 "$LAB_TIMEOUT" bash /run/lab-cmd.sh </dev/null
rc=$?
if { [ $rc = 124 ] || [ $rc = 137 ]; } && (( $(date +%s) - start >= LAB_TIMEOUT )); then
  echo "lab: command timed out after ${LAB_TIMEOUT} s, killed" >&2
  touch $share/timedout
  rc=124
fi
echo "SASCOPE-LAB-END"
dmesg > $share/dmesg 2>/dev/null
echo $rc > $share/rc
bye
