#!/bin/bash
# The VICI captures again, from a strongSwan 6.x built outside the tree (Debian's orig tarball, ./configure
# --prefix=PREFIX; test/fixtures/vici/README.md has the line): the strongSwan pair runs that charon and swanctl,
# then vici-lab-capture.sh (its packets) and vici-lab-failures.sh with VICI_CAPTURE=packets (each failure's
# packets, alert events included). Blocks start with "=== name", as theirs do.
#   npm run lab -- run --kernel debian 'bash test/tools/vici-lab-6x.sh /tmp/ss6/inst [capture|failures]'
set -euo pipefail
cd "$(dirname "$0")/../.."
prefix=${1:?usage: vici-lab-6x.sh PREFIX}
# The guest's /tmp is a tmpfs over the host's; a plain (non-recursive) bind of / has no submounts, so the
# host's /tmp shows through it.
if [[ ! -x $prefix/libexec/ipsec/charon && $prefix == /tmp/* ]]; then
  mkdir -p /mnt/lab-host-root "$prefix"
  mount --bind / /mnt/lab-host-root
  mount --bind "/mnt/lab-host-root$prefix" "$prefix"
fi
export LAB_SS_CHARON=$prefix/libexec/ipsec/charon LAB_SS_BASECONF=$prefix/etc/strongswan.conf PATH=$prefix/sbin:$PATH
echo "=== charon $("$LAB_SS_CHARON" --version 2>&1 | head -n 1)"
[[ ${2:-failures} == failures ]] || bash test/tools/vici-lab-capture.sh
[[ ${2:-capture} == capture ]] || VICI_CAPTURE=packets bash test/tools/vici-lab-failures.sh
