#!/bin/bash
# Capture real XFRM kernel bytes for sascope's fixtures (test/fixtures/xfrm/): a GETSA dump of the SA zoo,
# GETSADINFO/GETSPDINFO replies, and the events of every group while SAs are added, updated, used
# (aevents), expired (soft, hard), acquired, deleted and flushed. Prints sections "=== name" with the
# capture tool's output, plus `ip -s xfrm state`/`policy` as the independent view to check them against.
#   npm run lab -- run --kernel debian 'bash test/lab/scenarios/xfrm-capture.sh'
. "$(dirname "$0")/lib.sh"
CAP="node --import tsx test/tools/capture.ts"
A=10.0.0.1 B=10.0.0.2
bash "$SCENARIOS/netns-pair.sh" up lab-a lab-b >/dev/null
want_module xfrm_user esp4 esp6
# every XFRM group: ACQUIRE 1, EXPIRE 2, SA 3, POLICY 4, AEVENTS 5, REPORT 6, MIGRATE 7, MAPPING 8
ip netns exec lab-a $CAP --proto xfrm --monitor 1,2,3,5,6,8 --count 100000 > "$LAB_RUN/events.txt" 2>"$LAB_RUN/events.err" &
MON=$!
sleep 4
echo "=== zoo"
bash "$SCENARIOS/sa-zoo.sh" add lab-a
# a used pair with anti-replay state: aevents
gk=$(randhex 20) hk=$(randhex 20)
for ns in lab-a lab-b; do
  ip -n $ns xfrm state add src $A dst $B proto esp spi 0x2001 reqid 0x201 mode transport replay-window 32 aead 'rfc4106(gcm(aes))' 0x$gk 128
  ip -n $ns xfrm state add src $B dst $A proto esp spi 0x2002 reqid 0x202 mode transport replay-window 32 aead 'rfc4106(gcm(aes))' 0x$hk 128
done
ip -n lab-a xfrm policy add src $A dst $B proto icmp dir out tmpl proto esp reqid 0x201 mode transport
ip -n lab-a xfrm policy add src $B dst $A proto icmp dir in tmpl proto esp reqid 0x202 mode transport
ip -n lab-b xfrm policy add src $B dst $A proto icmp dir out tmpl proto esp reqid 0x202 mode transport
ip -n lab-b xfrm policy add src $A dst $B proto icmp dir in tmpl proto esp reqid 0x201 mode transport
echo "=== pairkeys"
echo "[\"$gk\",\"$hk\"]"
ip netns exec lab-a ping -c 6 -i 0.3 -W 1 $B >/dev/null || echo "ping failed" >&2
sleep 1.5
echo "=== dump"
ip netns exec lab-a $CAP --proto xfrm --type 18 --dump
echo "=== sadinfo"
ip netns exec lab-a $CAP --proto xfrm --type 35 --payload 00000000
echo "=== spdinfo"
ip netns exec lab-a $CAP --proto xfrm --type 37 --payload 00000000
echo "=== ip-state"
ip -n lab-a -s xfrm state
echo "=== ip-policy"
ip -n lab-a -s xfrm policy
echo "=== xfrm_stat"
ip netns exec lab-a cat /proc/net/xfrm_stat
# UPDSA: new lifetimes on an existing SA
uk=$(randhex 20)
ip -n lab-a xfrm state add src $A dst $B proto esp spi 0x3001 reqid 0x301 mode transport aead 'rfc4106(gcm(aes))' 0x$uk 128
ip -n lab-a xfrm state update src $A dst $B proto esp spi 0x3001 reqid 0x301 mode transport aead 'rfc4106(gcm(aes))' 0x$uk 128 limit byte-soft 1000000
# ACQUIRE: a policy whose template has no SA
ip -n lab-a route add 10.3.0.0/24 via $B
ip -n lab-a xfrm policy add src 10.1.0.0/24 dst 10.3.0.0/24 dir out tmpl src $A dst $B proto esp reqid 99 mode tunnel
ip netns exec lab-a ping -c 1 -W 1 -I 10.1.0.1 10.3.0.1 >/dev/null 2>&1 || true
# soft then hard EXPIRE
bash "$SCENARIOS/sa-zoo.sh" expiring lab-a 1 2 >/dev/null
sleep 3.5
ip -n lab-a xfrm state delete src $A dst $B proto esp spi 0x1003
ip -n lab-a xfrm state flush proto esp
sleep 1
kill $MON; wait $MON 2>/dev/null || true
echo "=== events"
cat "$LAB_RUN/events.txt"
echo "=== uk"
echo "[\"$uk\"]"
echo "=== end"
cat "$LAB_RUN/events.err" >&2
