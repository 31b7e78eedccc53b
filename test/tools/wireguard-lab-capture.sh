#!/bin/bash
# WireGuard capture recipe for the lab VM (Debian 7.2 has the module; `wg` is not needed): two wireguard
# links made in the root netns (their UDP sockets stay there, on loopback) and moved into netns wga and wgb,
# configured by capture-wireguard.ts (set-device), a ping through the tunnel (one handshake, rx/tx bytes),
# a third peer on wga with persistent keepalive that never answers, and a device wgm in wgb whose one peer
# has 1500 allowed IPs (the reply spans several messages). Then get-device dumps of each, in hex. The keys
# are throw-away test keys, printed so the fixtures' tests can check that none reaches a decoded row.
# Blocks start with "=== name".
#   npm run lab -- run --kernel debian 'bash test/tools/wireguard-lab-capture.sh'
set -euo pipefail
cd "$(dirname "$0")/../.."
wgt() { /usr/bin/node --import tsx test/tools/capture-wireguard.ts "$@"; }
privA=$(printf 'a1%.0s' {1..32}); privB=$(printf 'b2%.0s' {1..32}); privM=$(printf 'c3%.0s' {1..32})
psk=$(printf '5e%.0s' {1..32}); pubC=$(printf '7c%.0s' {1..32}); pubX=$(printf '9d%.0s' {1..32})
pubA=$(wgt pubkey "$privA"); pubB=$(wgt pubkey "$privB")
echo "=== keys"; echo "privA=$privA privB=$privB privM=$privM psk=$psk pubA=$pubA pubB=$pubB pubC=$pubC pubX=$pubX"
ip netns add wga; ip netns add wgb
ip link add wga type wireguard; ip link add wgb type wireguard; ip link add wgm type wireguard
wgt set wga "$privA" 51820 0 "pub=$pubB,psk=$psk,endpoint=127.0.0.1:51821,allowed=10.9.0.2/32+fd09::2/128" "pub=$pubC,endpoint=[::1]:51999,keepalive=25,allowed=10.9.0.3/32"
wgt set wgb "$privB" 51821 66 "pub=$pubA,psk=$psk,endpoint=127.0.0.1:51820,allowed=10.9.0.1/32"
many=$(for i in $(seq 0 1499); do printf '10.%d.%d.0/24+' $((20 + i / 256)) $((i % 256)); done)
wgt set wgm "$privM" 51830 0 "pub=$pubX,keepalive=5,allowed=${many%+}"
ip link set wga netns wga; ip link set wgb netns wgb; ip link set wgm netns wgb
ip -n wga addr add 10.9.0.1/24 dev wga; ip -n wga link set wga up
ip -n wgb addr add 10.9.0.2/24 dev wgb; ip -n wgb link set wgb up; ip -n wgb link set wgm up
echo "=== ping"; ip netns exec wga ping -c 3 -i 0.3 10.9.0.2 | tail -2
for d in wga:wga wgb:wgb wgb:wgm; do echo "=== get ${d#*:}"; ip netns exec "${d%:*}" /usr/bin/node --import tsx test/tools/capture-wireguard.ts get "${d#*:}"; done
echo "=== ip -d link"; ip -n wga -d link show wga; ip -n wgb -d link show wgm
echo "=== end"
