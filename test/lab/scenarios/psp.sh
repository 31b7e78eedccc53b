#!/bin/bash
# PSP devices (custom kernel) through the kernel's own ynl CLI (psp genl family).
#   psp.sh dev-get [NS]          JSON list of PSP devices visible from NS
#   psp.sh enable ID [NS]        enable all hdr0 versions on device ID
#   psp.sh rotate ID [NS]        key-rotate device ID
#   psp.sh stats ID [NS]         get-stats of device ID
#   psp.sh rotate-every SECONDS ID [NS]   rotate forever (background it)
. "$(dirname "$0")/lib.sh"
ynl() { in_ns "$NS" $PY "$YNL_PATH/cli.py" --family psp --no-schema --output-json "$@"; }
action=${1:-dev-get}
case $action in
dev-get) NS=${2:-}; ynl --dump dev-get ;;
enable) NS=${3:-}; ynl --do dev-set --json "{\"id\": $2, \"psp-versions-ena\": [\"hdr0-aes-gcm-128\", \"hdr0-aes-gcm-256\", \"hdr0-aes-gmac-128\", \"hdr0-aes-gmac-256\"]}" ;;
rotate) NS=${3:-}; ynl --do key-rotate --json "{\"id\": $2}" ;;
stats) NS=${3:-}; ynl --do get-stats --json "{\"dev-id\": $2}" ;;
rotate-every) NS=${4:-}; while sleep "$2"; do ynl --do key-rotate --json "{\"id\": $3}" >/dev/null || log "rotate failed"; done ;;
*) echo "usage: $0 dev-get|enable|rotate|stats|rotate-every" >&2; exit 2 ;;
esac
