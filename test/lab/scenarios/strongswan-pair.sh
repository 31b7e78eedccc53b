#!/bin/bash
# Two charons (strongSwan IKEv2), one per netns of the netns pair, with short rekeys.
#   strongswan-pair.sh up [REKEY_SECONDS] [A B]   (default 20; the netns pair is created if missing)
#   strongswan-pair.sh traffic [A B]               start background pings through both CHILD_SAs
#   strongswan-pair.sh down [A B]
# A (10.0.0.1) initiates and rekeys; B (10.0.0.2) responds and never rekeys (rekey_time 0, rand_time 0, 1 h hard).
# CHILD_SAs: "net"  tunnel 10.1.0.0/24 <-> 10.2.0.0/24, aes128gcm16, rekey_time=REKEY, life=REKEY+10
#            "host" transport 10.0.0.1 <-> 10.0.0.2 (icmp), aes128-sha256, rekey_bytes=40000
# Run dirs (config, vici socket, charon.log, pid): $LAB_RUN/strongswan/<ns>.
# Prints {"a":…,"b":…,"runDirs":{…},"vici":{…},"psk":"…"}.
# LAB_SS_KEYLOG=1: B's charon.log at ike level 4, where charon writes its IKE keys (a key-leak test's needles).
. "$(dirname "$0")/lib.sh"
action=${1:-up}
if [[ $action == up ]]; then REKEY=${2:-20}; A=${3:-lab-a}; B=${4:-lab-b}; else A=${2:-lab-a}; B=${3:-lab-b}; fi
# LAB_SS_CHARON, LAB_SS_BASECONF: another strongSwan build's charon and its base strongswan.conf (the 6.x captures)
CHARON=${LAB_SS_CHARON:-/usr/lib/ipsec/charon}
base=$LAB_RUN/strongswan

stop_ns() {
  local ns=$1 dir=$base/$1
  [[ -f $dir/charon.pid ]] || return 0
  local pid; pid=$(cat "$dir/charon.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/charon.pid"
}

write_conf() { # ns role local remote
  local ns=$1 role=$2 me=$3 peer=$4 dir=$base/$1
  local my_net peer_net ike_log=2
  [[ $role == responder && -n ${LAB_SS_KEYLOG:-} ]] && ike_log=4
  if [[ $role == initiator ]]; then my_net=10.1.0.0/24 peer_net=10.2.0.0/24; else my_net=10.2.0.0/24 peer_net=10.1.0.0/24; fi
  mkdir -p "$dir/run"
  cat > "$dir/strongswan.conf" <<CONF
# the system config (plugins), then lab overrides
include ${LAB_SS_BASECONF:-/etc/strongswan.conf}
charon {
  install_routes = no
  install_virtual_ip = no
  retransmit_timeout = 2
  retransmit_tries = 3
  filelog {
    lab {
      path = /run/charon.log
      time_format = %T
      default = 1
      ike = $ike_log
      knl = 1
    }
  }
  syslog {
    daemon {
      default = -1
    }
  }
}
CONF
  if [[ $role == initiator ]]; then
    # the initiator rekeys: short lifetimes
    ike_life="rekey_time = $((REKEY * 3))s"
    net_life="rekey_time = ${REKEY}s
          life_time = $((REKEY + 10))s
          rand_time = 2s"
    host_life="rekey_bytes = 40000
          life_bytes = 60000
          rekey_time = $((REKEY * 2))s"
    start=trap
  else
    # The responder never rekeys. rand_time = 0s is what makes that so: its default (life_time - rekey_time
    # = 1h) is larger than rekey_time 0, and Debian's strongSwan 5.9.8 apply_jitter() (child_cfg.c; fixed in
    # 5.9.9, strongswan/strongswan#1414) then returns 0 - random(0..3600) as uint64: a soft add-expire of
    # 2^64 - n s, which the kernel's xfrm_timer_handler() reads as already past. Each responder SA would get
    # a soft EXPIRE a second after it is installed and charon a rekey: a rekey loop from the start.
    # With rand_time = 0 the soft lifetime is 0 (none); 1h is the hard limit only.
    ike_life="rekey_time = 0s
      reauth_time = 0s"
    net_life="rekey_time = 0s
          life_time = 1h
          rand_time = 0s"
    host_life="rekey_time = 0s
          life_time = 1h
          rand_time = 0s"
    start=none
  fi
  cat > "$dir/swanctl.conf" <<CONF
connections {
  lab {
    version = 2
    local_addrs = $me
    remote_addrs = $peer
    proposals = aes128-sha256-x25519
    $ike_life
    dpd_delay = 0s
    local {
      auth = psk
      id = $me
    }
    remote {
      auth = psk
      id = $peer
    }
    children {
      net {
        mode = tunnel
        local_ts = $my_net
        remote_ts = $peer_net
        esp_proposals = aes128gcm16
        $net_life
        start_action = $start
      }
      host {
        mode = transport
        local_ts = dynamic[icmp]
        remote_ts = dynamic[icmp]
        esp_proposals = aes128-sha256
        $host_life
        start_action = $start
      }
    }
  }
}
secrets {
  ike-lab {
    id-a = 10.0.0.1
    id-b = 10.0.0.2
    secret = 0x$PSK
  }
}
CONF
}

start_ns() {
  local ns=$1 dir=$base/$1
  # a previous pair's sockets would pass the wait below before this charon listens ("Connection
  # refused" for the second pair in one VM), and its log would mix with this one's
  rm -f "$dir/run/charon.vici" "$dir/run/charon.ctl" "$dir/run/charon.pid" "$dir/run/charon.log"
  # charon hard-codes /var/run/charon.pid and the vici socket under /run: give it a private /run
  # (ip netns exec already runs in a private mount namespace)
  ip netns exec "$ns" sh -c "mount --bind '$dir/run' /run && STRONGSWAN_CONF='$dir/strongswan.conf' exec $CHARON" \
    > "$dir/charon.stdout" 2>&1 &
  echo $! > "$dir/charon.pid"
  for _ in $(seq 100); do [[ -S $dir/run/charon.vici ]] && break; sleep 0.1; done
  [[ -S $dir/run/charon.vici ]] || { log "charon in $ns did not start"; tail -n 20 "$dir/run/charon.log" "$dir/charon.stdout" >&2 || true; exit 1; }
  # swanctl is chatty on stderr (plugins configured but not installed, credential dirs): keep it in a log
  swanctl --load-all --uri "unix://$dir/run/charon.vici" --file "$dir/swanctl.conf" > "$dir/swanctl.log" 2>&1 \
    || { log "swanctl --load-all in $ns failed"; cat "$dir/swanctl.log" >&2; exit 1; }
}

case $action in
up)
  [[ -e /run/netns/$A && -e /run/netns/$B ]] || bash "$SCENARIOS/netns-pair.sh" up "$A" "$B" >/dev/null
  stop_ns "$A"; stop_ns "$B"
  PSK=$(randhex 32)
  write_conf "$B" responder 10.0.0.2 10.0.0.1
  write_conf "$A" initiator 10.0.0.1 10.0.0.2
  start_ns "$B"; start_ns "$A"
  for child in net host; do
    swanctl --initiate --child $child --timeout 30 --uri "unix://$base/$A/run/charon.vici" >> "$base/$A/swanctl.log" 2>&1 \
      || { log "initiate $child failed"; tail -n 30 "$base/$A/swanctl.log" "$base/$A/run/charon.log" >&2; exit 1; }
  done
  printf '{"a":"%s","b":"%s","rekeySeconds":%d,"runDirs":{"a":"%s","b":"%s"},"vici":{"a":"unix://%s","b":"unix://%s"},"psk":"%s"}\n' \
    "$A" "$B" "$REKEY" "$base/$A" "$base/$B" "$base/$A/run/charon.vici" "$base/$B/run/charon.vici" "$PSK"
  ;;
traffic)
  mkdir -p "$base"
  ip netns exec "$A" ping -q -i 0.2 -s 200 -I 10.1.0.1 10.2.0.1 > "$base/ping-net.log" 2>&1 &
  echo $! > "$base/ping-net.pid"
  ip netns exec "$A" ping -q -i 0.2 -s 1000 10.0.0.2 > "$base/ping-host.log" 2>&1 &
  echo $! > "$base/ping-host.pid"
  ;;
down)
  for p in "$base"/ping-*.pid; do [[ -f $p ]] && { kill "$(cat "$p")" 2>/dev/null || true; rm -f "$p"; }; done
  stop_ns "$A"; stop_ns "$B"
  ;;
*) echo "usage: $0 up|traffic|down" >&2; exit 2 ;;
esac
