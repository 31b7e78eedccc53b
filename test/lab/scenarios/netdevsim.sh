#!/bin/bash
# A netdevsim device (custom kernel: NETDEVSIM built in) with XFRM crypto-offloaded SAs. Every
# netdevsim port also registers a PSP device (INET_PSP), visible from the port's netns.
#   netdevsim.sh up [ID] [NS]     device ID (default 1) with one port; moved into NS if given
#   netdevsim.sh offload [ID] [NS] [N]   N (default 2) offloaded SA pairs (dir out + dir in)
#   netdevsim.sh down [ID]
# netdevsim accepts only rfc4106(gcm(aes)), 128-bit key, ICV 128, crypto (not packet) offload; it
# models the control plane only (never encrypts).
. "$(dirname "$0")/lib.sh"
action=${1:-up}; ID=${2:-1}; NS=${3:-}
want_module netdevsim
sys=/sys/bus/netdevsim
ifname_of() { ls "$sys/devices/netdevsim$ID/net/" 2>/dev/null | head -1 || true; }
find_if() { # the port netdev, wherever it lives
  local n; n=$(ifname_of)
  [[ -n $n ]] && { echo "$n"; return; }
  # moved into a netns: sysfs net/ only lists devices of our netns; ask inside
  [[ -n $NS ]] && in_ns "$NS" ls "$sys/devices/netdevsim$ID/net/" 2>/dev/null | head -1
}
case $action in
up)
  [[ -e $sys/devices/netdevsim$ID ]] || echo "$ID 1" > $sys/new_device
  for _ in $(seq 50); do [[ -n $(ifname_of) ]] && break; sleep 0.1; done
  IF=$(ifname_of)
  [[ -n $IF ]] || { log "netdevsim$ID has no netdev"; exit 1; }
  if [[ -n $NS ]]; then ip link set "$IF" netns "$NS"; fi
  in_ns "$NS" ip link set "$IF" up
  in_ns "$NS" ip addr add 192.168.77.$ID/24 dev "$IF" 2>/dev/null || true
  ifindex=$(in_ns "$NS" cat /sys/class/net/$IF/ifindex)
  printf '{"id":%d,"ifname":"%s","ifindex":%d,"netns":"%s","debugfs":"/sys/kernel/debug/netdevsim/netdevsim%d/ports/0"}\n' \
    "$ID" "$IF" "$ifindex" "$NS" "$ID"
  ;;
offload)
  N=${4:-2}
  IF=$(find_if)
  json=()
  for ((i = 0; i < N; i++)); do
    for dir in out in; do
      spi=$((0x5000 + i * 2))
      [[ $dir == in ]] && spi=$((spi + 1))
      k=$(randhex 20)
      src=192.168.77.$ID dst=192.168.77.$((100 + i))
      [[ $dir == in ]] && { t=$src; src=$dst; dst=$t; }
      in_ns "$NS" ip xfrm state add src "$src" dst "$dst" proto esp spi "$spi" mode transport \
        aead 'rfc4106(gcm(aes))' 0x$k 128 offload dev "$IF" dir $dir
      json+=("{\"spi\":\"$(printf '0x%08x' $spi)\",\"src\":\"$src\",\"dst\":\"$dst\",\"dir\":\"$dir\",\"dev\":\"$IF\",\"keys\":[\"$k\"]}")
    done
  done
  (IFS=,; echo "[${json[*]}]")
  ;;
down)
  [[ -e $sys/devices/netdevsim$ID ]] && echo "$ID" > $sys/del_device
  ;;
*) echo "usage: $0 up|offload|down [ID] [NS]" >&2; exit 2 ;;
esac
