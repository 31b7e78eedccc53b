#!/bin/bash
# Build the lab's custom kernel: tinyconfig + custom.fragment, everything built in.
# usage: build-custom.sh <linux source tree> <objdir> <fragment> <output dir>
# Compiles through ccache (CCACHE_DIR is set by the caller); the make output goes to stdout,
# one line per compiled file, which provision.ts counts for progress.
set -euo pipefail
src=$1 obj=$2 fragment=$3 out=$4
jobs=$(nproc)
mkdir -p "$obj" "$out"
# one build per object dir, even from processes that do not share provision's lock
exec 9>"$obj.lock"
flock 9
# Fixed build identity so ccache hits across machines and runs (init/version.c aside).
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026' KBUILD_BUILD_USER=sascope KBUILD_BUILD_HOST=lab
# the same make variables for every step: a changed HOSTCC rebuilds the host tools each time
vars=(-C "$src" O="$obj" ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc")
mk() { make -s "${vars[@]}" "$@"; }
echo "== configure: tinyconfig + $(basename "$fragment")"
mk tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$fragment" >/dev/null
mk olddefconfig >/dev/null
missing=()
while IFS= read -r line; do
  [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=y$ ]] || continue
  grep -qx "${BASH_REMATCH[1]}=y" "$obj/.config" || missing+=("${BASH_REMATCH[1]}")
done < "$fragment"
if ((${#missing[@]})); then
  echo "config symbols did not survive olddefconfig: ${missing[*]}" >&2
  exit 1
fi
echo "== build: make -j$jobs bzImage (ccache)"
make "${vars[@]}" -j"$jobs" bzImage
cp "$obj/arch/x86/boot/bzImage" "$out/bzImage.tmp"
cp "$obj/.config" "$out/config"
mv "$out/bzImage.tmp" "$out/bzImage"
echo "== done: $out/bzImage ($(stat -c %s "$out/bzImage") bytes)"
