#!/bin/bash
# More connections on a running strongSwan pair (strongswan-pair.sh up), the console's cases (issue 21):
#   strongswan-conns.sh up [A B]
#   badpsk  A⟷B PSK, each side another secret for the same ids: A's initiate fails (AUTHENTICATION_FAILED);
#           left for the test to initiate
#   cert    A⟷B public keys: a lab CA (30 days) and a certificate per side valid 3 days (an expiring
#           certificate), made here with openssl (EC P-256); initiated here
#   rw      A a remote-access gateway with a pool (10.9.0.0/28); B's rw-client asks for a virtual IP as
#           alice@lab; initiated here (by B)
# Each side's swanctl.conf is the pair's own plus these (include: --load-all unloads what its file lacks).
# Prints {"secrets":{"badpskA","badpskB","rw"},"keys":{"a","b"}} (the secrets in hex, the private key files).
. "$(dirname "$0")/lib.sh"
A=${2:-lab-a}; B=${3:-lab-b}
base=$LAB_RUN/strongswan
[[ ${1:-} == up ]] || { echo "usage: $0 up [A B]" >&2; exit 2; }
pki=$base/pki
mkdir -p "$pki"
ossl() { openssl "$@" 2>>"$pki/openssl.log" >/dev/null; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 30 -subj '/CN=lab CA'
for side in a b; do
  ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/$side.key"
  ossl req -new -key "$pki/$side.key" -subj "/CN=$side.lab" -out "$pki/$side.csr"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nsubjectAltName=DNS:%s.lab\n' "$side" > "$pki/$side.ext"
  ossl x509 -req -in "$pki/$side.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 3 -extfile "$pki/$side.ext" -out "$pki/$side.crt"
done
BAD_A=$(randhex 16) BAD_B=$(randhex 16) RW=$(randhex 16)

# site NAME N LOCAL_AUTH REMOTE_AUTH (inside conns): a site-to-site connection, child net MY_NET.N.0/24 ⟷ PEER_NET.N.0/24
site() {
  cat <<CONF
  $1 {
    version = 2
    local_addrs = $me
    remote_addrs = $peer
    proposals = aes128-sha256-x25519
    local { $3 }
    remote { $4 }
    children { net { local_ts = ${mine}$2.0/24
      remote_ts = ${theirs}$2.0/24
      esp_proposals = aes128gcm16 } }
  }
CONF
}
# conns SIDE ME PEER MY_NET PEER_NET BADPSK_SECRET
conns() {
  local side=$1 me=$2 peer=$3 mine=$4 theirs=$5 bad=$6 other
  [[ $side == a ]] && other=b || other=a
  echo 'connections {'
  site badpsk 1 "auth = psk
      id = badpsk-$side@lab" "auth = psk
      id = badpsk-$other@lab"
  site cert 2 "auth = pubkey
      certs = $pki/$side.crt
      id = $side.lab" "auth = pubkey
      cacerts = $pki/ca.crt
      id = $other.lab"
  if [[ $side == a ]]; then
    cat <<CONF
  rw {
    version = 2
    local_addrs = $me
    pools = rw-pool
    proposals = aes128-sha256-x25519
    local { auth = psk
      id = gw.lab }
    remote { auth = psk
      id = alice@lab }
    children { net { local_ts = 10.1.3.0/24
      esp_proposals = aes128gcm16 } }
  }
}
pools { rw-pool { addrs = 10.9.0.0/28 } }
CONF
  else
    cat <<CONF
  rw-client {
    version = 2
    local_addrs = $me
    remote_addrs = $peer
    vips = 0.0.0.0
    proposals = aes128-sha256-x25519
    local { auth = psk
      id = alice@lab }
    remote { auth = psk
      id = gw.lab }
    children { net { remote_ts = 10.1.3.0/24
      esp_proposals = aes128gcm16 } }
  }
}
CONF
  fi
  cat <<CONF
authorities { lab-ca { cacert = $pki/ca.crt } }
secrets {
  ike-badpsk { id-a = badpsk-a@lab
    id-b = badpsk-b@lab
    secret = 0x$bad }
  ike-rw { id-a = gw.lab
    id-b = alice@lab
    secret = 0x$RW }
}
CONF
}
conns a 10.0.0.1 10.0.0.2 10.1. 10.2. "$BAD_A" > "$base/$A/conns.conf"
conns b 10.0.0.2 10.0.0.1 10.2. 10.1. "$BAD_B" > "$base/$B/conns.conf"
# swanctl reads private keys from the private/ folder beside the file it loads (not from secrets)
mkdir -p "$base/$A/private" "$base/$B/private"
cp "$pki/a.key" "$base/$A/private/"
cp "$pki/b.key" "$base/$B/private/"
for ns in "$A" "$B"; do
  printf 'include %s\ninclude %s\n' "$base/$ns/swanctl.conf" "$base/$ns/conns.conf" > "$base/$ns/swanctl-all.conf"
  swanctl --load-all --file "$base/$ns/swanctl-all.conf" --uri "unix://$base/$ns/run/charon.vici" >> "$base/$ns/swanctl.log" 2>&1 \
    || { log "swanctl --load-all in $ns failed"; tail -n 30 "$base/$ns/swanctl.log" >&2; exit 1; }
done
initiate() { # NS IKE CHILD
  swanctl --initiate --ike "$2" --child "$3" --timeout 60 --uri "unix://$base/$1/run/charon.vici" >> "$base/$1/swanctl.log" 2>&1 \
    || { log "initiate $2/$3 in $1 failed"; tail -n 30 "$base/$1/swanctl.log" "$base/$1/run/charon.log" >&2; exit 1; }
}
initiate "$A" cert net
initiate "$B" rw-client net
printf '{"secrets":{"badpskA":"%s","badpskB":"%s","rw":"%s"},"keys":{"a":"%s","b":"%s"}}\n' "$BAD_A" "$BAD_B" "$RW" "$pki/a.key" "$pki/b.key"
