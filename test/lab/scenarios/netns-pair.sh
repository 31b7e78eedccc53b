#!/bin/bash
# Two network namespaces joined by a veth pair.
#   netns-pair.sh up [A B]    A: 10.0.0.1/24 fd00::1/64 (veth "vA")  B: 10.0.0.2/24 fd00::2/64 ("vB")
#                             plus a dummy "inner" per side: A 10.1.0.1/24 fd01::1, B 10.2.0.1/24 fd02::1
#   netns-pair.sh down [A B]
# Prints one JSON line describing the pair.
. "$(dirname "$0")/lib.sh"
action=${1:-up}; A=${2:-lab-a}; B=${3:-lab-b}
case $action in
up)
  want_module veth dummy
  for ns in "$A" "$B"; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # IPv6 DAD would delay the addresses by seconds
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  done
  ip link add vA netns "$A" type veth peer name vB netns "$B"
  ip -n "$A" addr add 10.0.0.1/24 dev vA; ip -n "$A" addr add fd00::1/64 dev vA nodad
  ip -n "$B" addr add 10.0.0.2/24 dev vB; ip -n "$B" addr add fd00::2/64 dev vB nodad
  ip -n "$A" link add inner type dummy; ip -n "$A" addr add 10.1.0.1/24 dev inner; ip -n "$A" addr add fd01::1/64 dev inner nodad
  ip -n "$B" link add inner type dummy; ip -n "$B" addr add 10.2.0.1/24 dev inner; ip -n "$B" addr add fd02::1/64 dev inner nodad
  for ns in "$A" "$B"; do ip -n "$ns" link set vA up 2>/dev/null || ip -n "$ns" link set vB up; ip -n "$ns" link set inner up; done
  ip -n "$A" route add 10.2.0.0/24 via 10.0.0.2 src 10.1.0.1
  ip -n "$B" route add 10.1.0.0/24 via 10.0.0.1 src 10.2.0.1
  ip -n "$A" -6 route add fd02::/64 via fd00::2 src fd01::1
  ip -n "$B" -6 route add fd01::/64 via fd00::1 src fd02::1
  printf '{"a":"%s","b":"%s","aAddr":"10.0.0.1","bAddr":"10.0.0.2","aAddr6":"fd00::1","bAddr6":"fd00::2","aInner":"10.1.0.1","bInner":"10.2.0.1"}\n' "$A" "$B"
  ;;
down)
  for ns in "$A" "$B"; do ip netns del "$ns" 2>/dev/null || true; done
  ;;
*) echo "usage: $0 up|down [A B]" >&2; exit 2 ;;
esac
