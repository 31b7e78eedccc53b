#!/bin/bash
# Inside the lab VM for the UI test: a strongSwan pair rekeying every ~20 s with traffic in lab-a/lab-b,
# sascope watching lab-a (and its charon over VICI) and serving on 0.0.0.0:PORT (forwarded to the host), and
# the control channel on CTL. The VM lives until the host ends it (kills the sleep below: this script then ends
# and the VM powers off with its exit status); sascope may be stopped by the test.
. "$(dirname "$0")/../scenarios/lib.sh"
PORT=${1:-7300}
CTL=${2:-7301}
bash "$SCENARIOS/netns-pair.sh" up lab-a lab-b >/dev/null
bash "$SCENARIOS/strongswan-pair.sh" up 20 lab-a lab-b >/dev/null
bash "$SCENARIOS/strongswan-pair.sh" traffic lab-a lab-b
echo "lab-ui: $(ip netns exec lab-a ip xfrm state count | tr -d '\t') in lab-a"
DATA=/tmp/sascope-lab/ui-data
mkdir -p "$DATA"
# lab-a's charon over VICI (the strongSwan page, tunnels named by strongSwan, the console's actions)
printf '{"vici": {"socket": "%s"}}\n' "$LAB_RUN/strongswan/lab-a/run/charon.vici" > "$DATA/config.json"
$PY "$(dirname "$0")/control.py" "$CTL" &
echo "lab-ui: control channel on :$CTL"
/usr/bin/node server/bin.mjs serve --listen 0.0.0.0:"$PORT" --netns lab-a --data-dir "$DATA" 2>&1 | grep -v '"level":30' &
echo "lab-ui: sascope starting on :$PORT"
sleep infinity &
echo $! > /tmp/lab-ui.sleep
wait $!
exit 0
