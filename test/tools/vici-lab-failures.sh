#!/bin/bash
# VICI failure capture for the lab VM (Debian, strongSwan 5.9.8): on the strongSwan pair, A gets four more
# connections that fail, each in its own way, and charon's `log` stream over VICI is captured while each is
# initiated: badpsk (A's PSK for its id differs from B's: B's MAC check fails, A gets AUTHENTICATION_FAILED),
# badts (a remote_ts B does not have: TS_UNACCEPTABLE), badprop (an IKE proposal B does not accept:
# NO_PROPOSAL_CHOSEN), nopeer (nobody at 10.0.0.99: retransmits, then peer not responding). Blocks start
# with "=== name"; each is a test/fixtures/vici/log-5.9.8-<name>.jsonl.
#   npm run lab -- run --kernel debian 'bash test/tools/vici-lab-failures.sh'
# VICI_CAPTURE=packets: each block is test/tools/capture-vici.ts's hex packets instead (6.x: its alert events,
# for test/tools/make-fixture.ts --decoder vici).
set -euo pipefail
cd "$(dirname "$0")/../.."
pair=$(bash test/lab/scenarios/strongswan-pair.sh up 300)
sock=$(echo "$pair" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["vici"]["a"][len("unix://"):])')
sockb=$(echo "$pair" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["vici"]["b"][len("unix://"):])')
psk=$(echo "$pair" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["psk"])')
bad=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
conf=$(mktemp /tmp/vici-fail-XXXX.conf)
confb=$(mktemp /tmp/vici-fail-b-XXXX.conf)
# conn NAME LOCAL_ADDR REMOTE_ADDR PROPOSALS LOCAL_ID REMOTE_ID CHILD LOCAL_TS REMOTE_TS: one swanctl connection
conn() {
  cat <<CONF
  $1 { version = 2
    local_addrs = $2
    remote_addrs = $3
    proposals = $4
    local { auth = psk
      id = $5 }
    remote { auth = psk
      id = $6 }
    children { $7 { local_ts = $8
      remote_ts = $9
      esp_proposals = aes128gcm16 } } }
CONF
}
x25519=aes128-sha256-x25519
{
  echo 'connections {'
  conn badpsk 10.0.0.1 10.0.0.2 $x25519 badpsk-a@lab 10.0.0.2 net 10.1.0.0/24 10.2.0.0/24
  conn badts 10.0.0.1 10.0.0.2 $x25519 10.0.0.1 10.0.0.2 odd 10.1.0.0/24 10.9.0.0/24
  conn badprop 10.0.0.1 10.0.0.2 aes256-sha512-modp3072 10.0.0.1 10.0.0.2 net 10.1.0.0/24 10.2.0.0/24
  conn nopeer 10.0.0.1 10.0.0.99 $x25519 10.0.0.1 10.0.0.99 net 10.1.0.0/24 10.3.0.0/24
  cat <<CONF
}
secrets {
  ike-badpsk { id-a = badpsk-a@lab
    id-b = 10.0.0.99
    secret = 0x$bad }
  ike-nopeer { id = 10.0.0.99
    secret = 0x$bad }
}
CONF
} > "$conf"
# B accepts badpsk-a@lab with another secret than A's: B's MAC check fails
{
  echo 'connections {'
  conn badpsk 10.0.0.2 10.0.0.1 $x25519 10.0.0.2 badpsk-a@lab net 10.2.0.0/24 10.1.0.0/24
  cat <<CONF
}
secrets {
  ike-badpsk { id-a = badpsk-a@lab
    id-b = 10.0.0.2
    secret = 0x$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n') }
}
CONF
} > "$confb"
# --load-all unloads what its file lacks: the pair's own lab connection and secrets stay in (include)
runa=$(echo "$pair" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["runDirs"]["a"])')
runb=$(echo "$pair" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["runDirs"]["b"])')
printf 'include %s\ninclude %s\n' "$runa/swanctl.conf" "$conf" > "$conf.all"
printf 'include %s\ninclude %s\n' "$runb/swanctl.conf" "$confb" > "$confb.all"
swanctl --load-all --file "$conf.all" --uri "unix://$sock" >/dev/null 2>&1
swanctl --load-all --file "$confb.all" --uri "unix://$sockb" >/dev/null 2>&1
out=$(mktemp -d /tmp/vici-fail-out-XXXX)
tool=test/tools/capture-vici-log.ts
[[ ${VICI_CAPTURE:-} == packets ]] && tool=test/tools/capture-vici.ts
for c in badpsk:net badts:odd badprop:net nopeer:net; do
  name=${c%%:*} child=${c##*:}
  # B's stream beside A's: registered before A initiates
  /usr/bin/node --import tsx $tool --socket "$sockb" --events-ms 0 --run "sleep 14" > "$out/$name-b" &
  sleep 2
  /usr/bin/node --import tsx $tool --socket "$sock" --events-ms 2000 \
    --run "swanctl --initiate --ike $name --child $child --timeout 60 --uri unix://$sock" > "$out/$name-a"
  wait
  echo "=== $name"; cat "$out/$name-a"
  echo "=== $name responder"; cat "$out/$name-b"
done
# nothing captured may hold a secret
if grep -rqi -e "$psk" -e "$bad" "$out"; then echo "=== SECRET FOUND"; exit 1; fi
rm -f "$conf" "$confb" "$conf.all" "$confb.all"
bash test/lab/scenarios/strongswan-pair.sh down >/dev/null
echo "=== end"
