#!/bin/bash
# VICI capture recipe for the lab VM (Debian, strongSwan 5.9.8): the strongSwan pair (two charons, IKEv2 PSK,
# children net and host), swanctl's own view of it, then the packets the fixtures under test/fixtures/vici/
# come from: version, CMD_UNKNOWN, event registrations, list-conns, list-sas, and the events of a CHILD rekey,
# a CHILD terminate and initiate and an IKE rekey. Blocks start with "=== name".
#   npm run lab -- run --kernel debian 'bash test/tools/vici-lab-capture.sh'
set -euo pipefail
cd "$(dirname "$0")/../.."
pair=$(bash test/lab/scenarios/strongswan-pair.sh up 300)
sock=$(echo "$pair" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["vici"]["a"][len("unix://"):])')
psk=$(echo "$pair" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["psk"])')
sw() { swanctl "$@" --uri "unix://$sock"; }
echo "=== swanctl --version"; sw --version 2>/dev/null || true
echo "=== swanctl --list-conns"; sw --list-conns 2>/dev/null
echo "=== swanctl --list-sas"; sw --list-sas 2>/dev/null
echo "=== capture"
/usr/bin/node --import tsx test/tools/capture-vici.ts --socket "$sock" --events-ms 6000 \
  --run "swanctl --rekey --child net --uri unix://$sock >/dev/null 2>&1; sleep 3; swanctl --terminate --child host --uri unix://$sock >/dev/null 2>&1; sleep 2; swanctl --initiate --child host --uri unix://$sock >/dev/null 2>&1; sleep 2; swanctl --rekey --ike lab --uri unix://$sock >/dev/null 2>&1" > /tmp/vici-capture.txt
cat /tmp/vici-capture.txt
echo "=== swanctl --list-sas after"; sw --list-sas 2>/dev/null
# the PSK must not be in anything charon said over VICI
if grep -qi "$psk" /tmp/vici-capture.txt; then echo "=== PSK FOUND IN CAPTURE"; exit 1; fi
echo "=== psk not in capture"
bash test/lab/scenarios/strongswan-pair.sh down >/dev/null
echo "=== end"
