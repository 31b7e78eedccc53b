#!/bin/bash
# Host packages the lab needs (Debian bookworm). Idempotent: installs only what is missing,
# running `apt-get update` first only in that case. Prints the missing list with --check.
set -euo pipefail
packages=(
  # VM: qemu (TCG), busybox-static stage-1 initramfs, cpio/gzip to pack it, kmod for depmod/modprobe,
  # xz to decompress Debian's modules, dpkg-deb (dpkg) to unpack the kernel packages.
  qemu-system-x86 busybox-static cpio kmod xz-utils dpkg debian-archive-keyring
  # custom kernel build
  build-essential flex bison bc libelf-dev libssl-dev ccache
  # scenarios inside the VM (the guest runs the host's userland over 9p)
  iproute2 strongswan-charon strongswan-swanctl libstrongswan-standard-plugins
  iputils-ping tcpdump python3 python3-yaml procps util-linux
)
missing=()
for p in "${packages[@]}"; do
  [[ $p == \#* ]] && continue
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "host-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [[ ${1:-} == --check ]]; then
  echo "host-deps: missing: ${missing[*]}"
  exit 1
fi
echo "host-deps: installing ${missing[*]}"
sudo=; ((EUID == 0)) || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
