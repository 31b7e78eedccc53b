#!/usr/bin/env bash
# Run a command inside a fresh network namespace (loopback up), deleted afterwards. Needs root.
# Tests use it so the XFRM policies they add never touch the host's own.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then echo "netns-run: needs root (ip netns add)" >&2; exit 1; fi
ns="sascope-test-$$-$RANDOM"
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip netns exec "$ns" ip link set lo up
SASCOPE_TEST_NETNS="$ns" ip netns exec "$ns" "$@"
