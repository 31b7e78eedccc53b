#!/bin/bash
# The full demo scenario, then sascope serving on 0.0.0.0:PORT (the host reaches it on
# 127.0.0.1:PORT through qemu's user-mode NIC). Started by `npm run lab -- demo`.
#   lab-a <-> lab-b : veth, strongSwan IKEv2 (tunnel CHILD_SA rekeying every ~25 s, transport
#                     CHILD_SA rekeying by bytes), pings through both; ovpn0 P2P with keys in both
#                     slots and pings
#   lab-zoo         : the manual SA zoo (AEAD, cbc+hmac, ESN, NAT-T, IPv6, beet, mark, if_id + xfrm
#                     interface ipsec42, 20 s/30 s lifetimes) + 2000 batch SAs
#   lab-a (too)     : (custom kernel) netdevsim1 with offloaded SAs, netdevsim2's PSP device with
#                     a key rotation every 60 s, so the dashboard (watching lab-a) shows them; AF_ALG ready
# The zoo has its own netns: its policies (10.1/24 <-> 10.2/24, priority 0) and reqids (1, 2, …) would
# take over strongSwan's traffic in lab-a; sascope watches one netns, so the dashboard does not show it.
. "$(dirname "$0")/lib.sh"
PORT=${1:-7300}
step() { echo "demo: $*"; }
step "kernel $(uname -r) ($SASCOPE_LAB_KERNEL); NIC: $(ip -br addr show eth0 2>/dev/null || echo 'none!')"
bash "$SCENARIOS/netns-pair.sh" up lab-a lab-b >/dev/null
step "strongSwan pair (rekey every ~25 s) …"
bash "$SCENARIOS/strongswan-pair.sh" up 25 lab-a lab-b >/dev/null
bash "$SCENARIOS/strongswan-pair.sh" traffic lab-a lab-b
step "ovpn pair …"
bash "$SCENARIOS/ovpn-pair.sh" up lab-a lab-b >/dev/null && bash "$SCENARIOS/ovpn-pair.sh" traffic lab-a lab-b \
  || step "ovpn pair FAILED (see above); continuing"
step "SA zoo + 2000 batch SAs in netns lab-zoo …"
ip netns del lab-zoo 2>/dev/null || true
ip netns add lab-zoo && ip -n lab-zoo link set lo up
bash "$SCENARIOS/sa-zoo.sh" add lab-zoo >/dev/null
bash "$SCENARIOS/batch-sas.sh" lab-zoo 2000 >/dev/null
if [[ -e /sys/bus/netdevsim ]]; then
  step "netdevsim1 with offloaded SAs, netdevsim2 PSP device (key rotation every 60 s), both in lab-a …"
  # Without udev every netdevsim port is born eth1 in the root netns: name netdevsim1's port nsim1 inside
  # lab-a (before its SAs: a device going down drops offloaded SAs) so netdevsim2's can follow it there.
  rename_port() {
    local ifn; ifn=$(ip netns exec lab-a ls /sys/bus/netdevsim/devices/netdevsim$1/net/ | head -1)
    ip -n lab-a link set "$ifn" down && ip -n lab-a link set "$ifn" name "nsim$1" && ip -n lab-a link set "nsim$1" up
  }
  bash "$SCENARIOS/netdevsim.sh" up 1 lab-a >/dev/null && rename_port 1 && bash "$SCENARIOS/netdevsim.sh" offload 1 lab-a 2 >/dev/null \
    || step "netdevsim offload FAILED; continuing"
  # the PSP device is visible from its port's netns only
  if nsim2=$(bash "$SCENARIOS/netdevsim.sh" up 2 lab-a) &&
    ifindex=$($PY -c "import json,sys; print(json.loads(sys.argv[1])['ifindex'])" "$nsim2") &&
    id=$(bash "$SCENARIOS/psp.sh" dev-get lab-a | $PY -c "import json,sys; print(next(d['id'] for d in json.load(sys.stdin) if d['ifindex']==$ifindex))"); then
    bash "$SCENARIOS/psp.sh" enable "$id" lab-a >/dev/null || true
    bash "$SCENARIOS/psp.sh" rotate-every 60 "$id" lab-a &
  else
    step "PSP device FAILED; continuing"
  fi
else
  step "no netdevsim/PSP on the $SASCOPE_LAB_KERNEL kernel (use --kernel custom)"
fi
want_module algif_hash algif_skcipher algif_aead algif_rng af_key
sad() { ip -n "$1" xfrm state count | awk '{print $3}'; }
step "scenario ready: $(sad lab-a) SAs in lab-a$( [[ -e /sys/bus/netdevsim ]] && echo " ($(ip -n lab-a -s xfrm state | grep -c 'crypto offload parameters' || true) of them offloaded to netdevsim1)"), $(sad lab-zoo) in lab-zoo"
if [[ ! -f server/bin.mjs ]]; then
  step "sascope is not there yet (server/bin.mjs missing); the scenario stays up — Ctrl-C to stop"
  sleep infinity
fi
# sascope watches lab-a (the strongSwan and ovpn side) and listens in the init netns, where qemu's
# user-mode NIC forwards the host's port. Requests come from the NIC, not loopback: they need a token.
DATA=/tmp/sascope-lab/demo-data
mkdir -p "$DATA"
step "starting sascope: node server/bin.mjs serve --listen 0.0.0.0:$PORT --netns lab-a → http://127.0.0.1:$PORT/ on the host"
/usr/bin/node server/bin.mjs serve --listen 0.0.0.0:"$PORT" --netns lab-a --data-dir "$DATA" &
pid=$!
t0=$SECONDS
while :; do
  kill -0 $pid 2>/dev/null || break
  if (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null; then
    step "sascope is listening on :$PORT after $((SECONDS - t0)) s (503 'starting' until the UI is up)"
    viewer=$($PY -c "import json; print(next(t['token'] for t in json.load(open('$DATA/tokens.json'))['tokens'] if t['role']=='viewer'))" 2>/dev/null)
    # ready = the health route answers 200 (Next.js start-up under TCG takes minutes)
    while kill -0 $pid 2>/dev/null; do
      code=$(curl -s -o /dev/null -m 30 -w '%{http_code}' -H "Authorization: Bearer $viewer" http://127.0.0.1:"$PORT"/api/v1/health || true)
      [[ $code == 200 ]] && break
      (( (SECONDS - t0) % 60 < 5 )) && step "waiting for sascope to be ready ($((SECONDS - t0)) s; health: HTTP $code)"
      sleep 5
    done
    kill -0 $pid 2>/dev/null && step "sascope is ready after $((SECONDS - t0)) s"
    step "open http://127.0.0.1:$PORT/?token=$viewer (viewer; a throw-away lab token) — operator token in $DATA/tokens.json inside the VM"
    break
  fi
  (( SECONDS - t0 > 0 && (SECONDS - t0) % 30 == 0 )) && step "waiting for sascope to listen ($((SECONDS - t0)) s; node under TCG is slow to start)"
  sleep 1
done
wait $pid
rc=$?
step "sascope exited with status $rc; the scenario stays up for inspection — Ctrl-C to stop"
sleep infinity
