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
    # IPv6 DAD would delay the addresses by seconds
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  done
  ip link add vA netns "$A" type veth peer name vB netns "$B"
  # one ip process per netns (process start-up is what costs under TCG)
  side() { # veth addr4 addr6 inner4 inner6 peer4 peer6 peer-inner4 peer-inner6
    cat <<BATCH
link set lo up
addr add $2/24 dev $1
addr add $3/64 dev $1 nodad
link add inner type dummy
addr add $4/24 dev inner
addr add $5/64 dev inner nodad
link set $1 up
link set inner up
route add $8/24 via $6 src $4
route add $9/64 via $7 src $5
BATCH
  }
  side vA 10.0.0.1 fd00::1 10.1.0.1 fd01::1 10.0.0.2 fd00::2 10.2.0.0 fd02:: | ip -n "$A" -batch -
  side vB 10.0.0.2 fd00::2 10.2.0.1 fd02::1 10.0.0.1 fd00::1 10.1.0.0 fd01:: | ip -n "$B" -batch -
  printf '{"a":"%s","b":"%s","aAddr":"10.0.0.1","bAddr":"10.0.0.2","aAddr6":"fd00::1","bAddr6":"fd00::2","aInner":"10.1.0.1","bInner":"10.2.0.1"}\n' "$A" "$B"
  ;;
down)
  for ns in "$A" "$B"; do ip netns del "$ns" 2>/dev/null || true; done
  ;;
*) echo "usage: $0 up|down [A B]" >&2; exit 2 ;;
esac
