# Shared shell helpers for the lab scenarios (sourced). Only meaningful inside the lab VM.
set -euo pipefail
if [[ ${SASCOPE_LAB_VM:-} != 1 || ! -e /run/sascope-lab-guest ]]; then
  echo "$(basename "$0"): must run inside the lab VM (npm run lab -- run '…')" >&2
  exit 2
fi
SCENARIOS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# scratch: the guest's /tmp is a fresh tmpfs, never the repo
LAB_RUN=${LAB_RUN:-/tmp/sascope-lab}
mkdir -p "$LAB_RUN"
PY=/usr/bin/python3
YNL_PATH=${SASCOPE_LAB_SRC:-}/tools/net/ynl/pyynl

# hex string of n random bytes
randhex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
# load a module when the kernel has modules; built-ins (custom kernel) need nothing
want_module() { for m in "$@"; do modprobe -q "$m" 2>/dev/null || true; done; }
# run in a netns ("" = current)
in_ns() { local ns=$1; shift; if [[ -n $ns ]]; then ip netns exec "$ns" "$@"; else "$@"; fi; }
log() { echo "[$(basename "$0" .sh)] $*" >&2; }
