#!/bin/bash
# An ovpn tunnel over the netns pair: device "ovpn0" (P2P) in each netns, one peer each, keys in both
# slots (primary key-id 1, secondary key-id 2, aes-gcm), tunnel 10.8.0.1 (A) <-> 10.8.0.2 (B).
# A python helper per side holds the UDP socket (10.0.0.x:1194) the peer lives on.
#   ovpn-pair.sh up [A B]        prints {"a":…,"b":…,"ifname":"ovpn0","keys":{…hex…},"holders":{…}}
#   ovpn-pair.sh traffic [A B]   background ping A -> B through the tunnel
#   ovpn-pair.sh down [A B]
. "$(dirname "$0")/lib.sh"
action=${1:-up}; A=${2:-lab-a}; B=${3:-lab-b}
dir=$LAB_RUN/ovpn
HELPER=$SCENARIOS/ovpn_helper.py

make_link() { # ns
  want_module ovpn
  # bookworm's ip knows no ovpn options but sends the kind (P2P is the default mode);
  # fall back to rtnetlink through ynl
  ip -n "$1" link add ovpn0 type ovpn 2>/dev/null || ip netns exec "$1" $PY "$HELPER" link ovpn0 p2p >/dev/null
}

side_conf() { # local remote enc_key enc_nonce dec_key dec_nonce enc2 encn2 dec2 decn2
  cat <<JSON
{"ifname":"ovpn0","local":"$1","port":1194,"peers":[{"id":1,"remote":"$2","remotePort":1194,"keys":[
 {"slot":"primary","keyId":1,"alg":"aes-gcm","encKey":"$3","encNonce":"$4","decKey":"$5","decNonce":"$6"},
 {"slot":"secondary","keyId":2,"alg":"aes-gcm","encKey":"$7","encNonce":"$8","decKey":"$9","decNonce":"${10}"}]}]}
JSON
}

stop() {
  for s in a b; do
    [[ -f $dir/holder-$s.pid ]] && { kill "$(cat "$dir/holder-$s.pid")" 2>/dev/null || true; rm -f "$dir/holder-$s.pid"; }
  done
  [[ -f $dir/ping.pid ]] && { kill "$(cat "$dir/ping.pid")" 2>/dev/null || true; rm -f "$dir/ping.pid"; }
  for ns in "$A" "$B"; do ip -n "$ns" link del ovpn0 2>/dev/null || true; done
}

case $action in
up)
  [[ -e /run/netns/$A && -e /run/netns/$B ]] || bash "$SCENARIOS/netns-pair.sh" up "$A" "$B" >/dev/null
  mkdir -p "$dir"; stop
  # k1/k2: primary A->B / B->A, k3/k4: secondary; n*: 8-byte nonce tails
  k1=$(randhex 16) k2=$(randhex 16) k3=$(randhex 32) k4=$(randhex 32)
  n1=$(randhex 8) n2=$(randhex 8) n3=$(randhex 8) n4=$(randhex 8)
  side_conf 10.0.0.1 10.0.0.2 "$k1" "$n1" "$k2" "$n2" "$k3" "$n3" "$k4" "$n4" > "$dir/a.json"
  side_conf 10.0.0.2 10.0.0.1 "$k2" "$n2" "$k1" "$n1" "$k4" "$n4" "$k3" "$n3" > "$dir/b.json"
  for s in a b; do
    ns=$A addr=10.8.0.1/24; [[ $s == b ]] && ns=$B addr=10.8.0.2/24
    make_link "$ns"
    ip -n "$ns" addr add $addr dev ovpn0
    ip -n "$ns" link set ovpn0 up
    rm -f "$dir/ready-$s"
    ip netns exec "$ns" $PY "$HELPER" hold "$dir/$s.json" "$dir/ready-$s" > "$dir/holder-$s.log" 2>&1 &
    echo $! > "$dir/holder-$s.pid"
  done
  for s in a b; do
    for _ in $(seq 300); do [[ -f $dir/ready-$s || ! -e /proc/$(cat "$dir/holder-$s.pid") ]] && break; sleep 0.1; done
    [[ -f $dir/ready-$s ]] || { log "ovpn helper $s failed:"; cat "$dir/holder-$s.log" >&2; exit 1; }
  done
  printf '{"a":"%s","b":"%s","ifname":"ovpn0","peerId":1,"tunnel":{"a":"10.8.0.1","b":"10.8.0.2"},' "$A" "$B"
  printf '"keys":{"primaryAtoB":"%s","primaryBtoA":"%s","secondaryAtoB":"%s","secondaryBtoA":"%s","nonces":["%s","%s","%s","%s"]},' \
    "$k1" "$k2" "$k3" "$k4" "$n1" "$n2" "$n3" "$n4"
  printf '"holders":{"a":%s,"b":%s}}\n' "$(cat "$dir/holder-a.pid")" "$(cat "$dir/holder-b.pid")"
  ;;
traffic)
  ip netns exec "$A" ping -q -i 0.2 -s 300 10.8.0.2 > "$dir/ping.log" 2>&1 &
  echo $! > "$dir/ping.pid"
  ;;
down) stop ;;
*) echo "usage: $0 up|traffic|down [A B]" >&2; exit 2 ;;
esac
