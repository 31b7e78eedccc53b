#!/bin/bash
# The manual SA zoo: one SA of each interesting kind, made with `ip xfrm` in a netns.
#   sa-zoo.sh add [NS]                 (NS default lab-a; "" = the current netns)
#   sa-zoo.sh expiring [NS] SOFT HARD  one SA with tiny time lifetimes (soft then hard EXPIRE)
#   sa-zoo.sh expiring-bytes [NS] SOFT HARD  one outbound transport SA 10.0.0.1 → 10.0.0.2 with tiny byte
#                                      lifetimes and an ICMP policy using it: pings make soft then hard EXPIRE
#   sa-zoo.sh flush [NS]
# Prints a JSON array: [{name, src, dst, spi, proto, mode, family, algs:{…}, keys:[hex…], …}],
# the keys in lowercase hex without 0x, so key-leak tests can grep for them.
. "$(dirname "$0")/lib.sh"
action=${1:-add}; NS=${2-lab-a}
want_module xfrm_user esp4 esp6 xfrm_interface
x() { in_ns "$NS" ip xfrm "$@"; }
json=()
# sa NAME SPI SRC DST MODE KEYS(space-separated) -- ip xfrm state arguments after "mode X"
sa() {
  local name=$1 spi=$2 src=$3 dst=$4 mode=$5 keys=$6 extra=$7; shift 7
  x state add src "$src" dst "$dst" proto esp spi "$spi" reqid "$((spi & 0xfff))" mode "$mode" "$@"
  local fam=4; [[ $src == *:* ]] && fam=6
  local k ks=()
  for k in $keys; do ks+=("\"$k\""); done
  json+=("{\"name\":\"$name\",\"src\":\"$src\",\"dst\":\"$dst\",\"spi\":\"$(printf '0x%08x' "$spi")\",\"proto\":\"esp\",\"mode\":\"$mode\",\"family\":$fam,\"keys\":[$(IFS=,; echo "${ks[*]}")]${extra:+,$extra}}")
}
emit() { (IFS=,; echo "[${json[*]}]"); }

case $action in
add)
  A=10.0.0.1 B=10.0.0.2
  k=$(randhex 20); sa aead128-transport 0x1001 $A $B transport "$k" '"aead":"rfc4106(gcm(aes))","keyBits":128' \
    aead 'rfc4106(gcm(aes))' 0x$k 128
  k=$(randhex 20); sa aead128-transport-in 0x1101 $B $A transport "$k" '"aead":"rfc4106(gcm(aes))","keyBits":128,"dir":"in"' \
    aead 'rfc4106(gcm(aes))' 0x$k 128
  k=$(randhex 36); sa aead256-tunnel 0x1002 $A $B tunnel "$k" '"aead":"rfc4106(gcm(aes))","keyBits":256' \
    aead 'rfc4106(gcm(aes))' 0x$k 128
  e=$(randhex 16) a=$(randhex 32); sa cbc-hmac-tunnel 0x1003 $A $B tunnel "$e $a" '"enc":"cbc(aes)","auth":"hmac(sha256)"' \
    enc 'cbc(aes)' 0x$e auth-trunc 'hmac(sha256)' 0x$a 128
  k=$(randhex 20); sa esn-bigwindow 0x1004 $A $B tunnel "$k" '"aead":"rfc4106(gcm(aes))","esn":true,"replayWindow":4096' \
    aead 'rfc4106(gcm(aes))' 0x$k 128 replay-window 4096 flag esn
  k=$(randhex 20); sa natt-udp 0x1005 $A $B tunnel "$k" '"aead":"rfc4106(gcm(aes))","encap":{"type":"espinudp","sport":4500,"dport":4500}' \
    aead 'rfc4106(gcm(aes))' 0x$k 128 encap espinudp 4500 4500 0.0.0.0
  k=$(randhex 20); sa ipv6-transport 0x1006 fd00::1 fd00::2 transport "$k" '"aead":"rfc4106(gcm(aes))"' \
    aead 'rfc4106(gcm(aes))' 0x$k 128
  e=$(randhex 32) a=$(randhex 32); sa ipv6-tunnel-cbc 0x1106 fd00::1 fd00::2 tunnel "$e $a" '"enc":"cbc(aes)","auth":"hmac(sha256)"' \
    enc 'cbc(aes)' 0x$e auth-trunc 'hmac(sha256)' 0x$a 128
  k=$(randhex 20); sa beet 0x1007 $A $B beet "$k" '"aead":"rfc4106(gcm(aes))","inner":{"src":"10.9.0.1","dst":"10.9.0.2"}' \
    aead 'rfc4106(gcm(aes))' 0x$k 128 sel src 10.9.0.1 dst 10.9.0.2
  k=$(randhex 20); sa marked 0x1008 $A $B tunnel "$k" '"aead":"rfc4106(gcm(aes))","mark":{"value":16,"mask":255}' \
    aead 'rfc4106(gcm(aes))' 0x$k 128 mark 0x10 mask 0xff
  in_ns "$NS" ip link del ipsec42 2>/dev/null || true
  in_ns "$NS" ip link add ipsec42 type xfrm if_id 42
  in_ns "$NS" ip link set ipsec42 up
  k=$(randhex 20); sa if-id 0x1009 $A $B tunnel "$k" '"aead":"rfc4106(gcm(aes))","ifId":42,"xfrmInterface":"ipsec42"' \
    aead 'rfc4106(gcm(aes))' 0x$k 128 if_id 42
  x policy add src 10.1.0.0/24 dst 10.42.0.0/24 dir out if_id 42 tmpl src $A dst $B proto esp reqid $((0x1009 & 0xfff)) mode tunnel
  k=$(randhex 36); sa chacha20poly1305 0x100b $A $B transport "$k" '"aead":"rfc7539esp(chacha20,poly1305)"' \
    aead 'rfc7539esp(chacha20,poly1305)' 0x$k 128
  k=$(randhex 20); sa short-lived 0x100a $A $B transport "$k" '"aead":"rfc4106(gcm(aes))","lifetime":{"softSeconds":20,"hardSeconds":30}' \
    aead 'rfc4106(gcm(aes))' 0x$k 128 limit time-soft 20 limit time-hard 30
  x policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out tmpl src $A dst $B proto esp reqid $((0x1002 & 0xfff)) mode tunnel
  x policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir in tmpl src $B dst $A proto esp reqid $((0x1002 & 0xfff)) mode tunnel
  emit
  ;;
expiring)
  soft=${3:-3} hard=${4:-5}
  k=$(randhex 20); sa expiring 0x1fff 10.0.0.1 10.0.0.2 transport "$k" "\"lifetime\":{\"softSeconds\":$soft,\"hardSeconds\":$hard}" \
    aead 'rfc4106(gcm(aes))' 0x$k 128 limit time-soft "$soft" limit time-hard "$hard"
  emit
  ;;
expiring-bytes)
  soft=${3:-300} hard=${4:-1200}
  k=$(randhex 20); sa expiring-bytes 0x1ffe 10.0.0.1 10.0.0.2 transport "$k" "\"lifetime\":{\"softBytes\":$soft,\"hardBytes\":$hard}" \
    aead 'rfc4106(gcm(aes))' 0x$k 128 limit byte-soft "$soft" limit byte-hard "$hard"
  x policy add src 10.0.0.1/32 dst 10.0.0.2/32 proto icmp dir out priority 1 \
    tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid $((0x1ffe & 0xfff)) mode transport
  emit
  ;;
flush)
  x state flush; x policy flush
  in_ns "$NS" ip link del ipsec42 2>/dev/null || true
  ;;
*) echo "usage: $0 add|expiring|expiring-bytes|flush [NS]" >&2; exit 2 ;;
esac
