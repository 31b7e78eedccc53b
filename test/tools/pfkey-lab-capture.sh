#!/bin/bash
# PF_KEY capture recipe for the lab VM (Debian kernel, af_key): builds the SA zoo in the current netns,
# then prints the raw PF_KEY datagrams the fixtures under test/fixtures/pfkey/ come from, each block
# introduced by "=== name" and followed by the independent views (ip -s xfrm state / policy).
#   npm run lab -- run --kernel debian 'bash test/tools/pfkey-lab-capture.sh'
set -euo pipefail
cd "$(dirname "$0")/../.."
CAP="/usr/bin/node --import tsx test/tools/capture-pfkey.ts"
part=${1:-all}
if [[ $part == all || $part == dumps ]]; then
echo "=== zoo"
bash test/lab/scenarios/sa-zoo.sh add "" 
ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 0x2001 reqid 5 mode transport auth-trunc 'hmac(sha1)' 0x$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n') 96
ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto comp spi 0x2002 mode tunnel comp deflate
ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2003 reqid 6 mode transport enc 'cbc(aes)' 0x$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n') auth-trunc 'hmac(sha1)' 0x$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n') 96 encap espinudp 4500 4501 0.0.0.0 limit byte-soft 100000 limit byte-hard 200000 limit packet-soft 1000 limit packet-hard 2000
echo "=== ip -s xfrm state"
ip -s xfrm state
echo "=== ip xfrm policy"
ip xfrm policy
echo "=== dump"
$CAP --request dump
echo "=== spddump"
$CAP --request spddump
fi
if [[ $part == all || $part == events ]]; then
# REGISTER runs xfrm_probe_algs(), which loads every algorithm's module: slow under TCG.
for t in 3 2 9 0; do echo "=== register $t"; $CAP --request register --satype $t --timeout 120000; done
echo "=== promisc: ip xfrm state add (netlink)"
$CAP --promisc --run "ip xfrm state add src 10.0.0.1 dst 10.0.0.3 proto esp spi 0x3001 reqid 9 mode tunnel enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff auth-trunc 'hmac(sha256)' 0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff 128"
echo "=== promisc: PF_KEY SADB_ADD from another process"
$CAP --promisc --settle 600 --run "$CAP --add '{\"spi\":12290,\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.4\",\"encrypt\":12,\"auth\":5,\"reqid\":12,\"mode\":2,\"encryptKeyHex\":\"000102030405060708090a0b0c0d0e0f\",\"authKeyHex\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"}'"
echo "=== ip xfrm state get 0x3002"
ip -s xfrm state get src 10.0.0.1 dst 10.0.0.4 proto esp spi 0x3002 || true
echo "=== promisc: PF_KEY ADD duplicate (EEXIST)"
$CAP --promisc --settle 600 --run "$CAP --add '{\"spi\":12290,\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.4\",\"encrypt\":12,\"auth\":5,\"reqid\":12,\"mode\":2,\"encryptKeyHex\":\"000102030405060708090a0b0c0d0e0f\",\"authKeyHex\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"}' || true"
echo "=== promisc: ip xfrm policy add + delete, state delete, expire"
$CAP --promisc --settle 4500 --run "ip xfrm policy add src 10.5.0.0/24 dst 10.6.0.0/24 dir out tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 3 mode tunnel; ip xfrm policy delete src 10.5.0.0/24 dst 10.6.0.0/24 dir out; ip xfrm state delete src 10.0.0.1 dst 10.0.0.3 proto esp spi 0x3001; ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x3003 mode transport enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff limit time-soft 1 limit time-hard 3"
echo "=== promisc: PF_KEY SADB_FLUSH by another process"
$CAP --promisc --settle 600 --run "$CAP --request flush"
fi
echo "=== end"
