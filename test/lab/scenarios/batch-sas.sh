#!/bin/bash
# Thousands of SAs fast: one `ip -batch` of N "xfrm state add" lines in a netns.
#   batch-sas.sh NS N [SPI_BASE]   (NS "" = current netns; SPIs SPI_BASE..+N-1, default 0x100000)
# Prints {"count":N,"spiBase":"0x…"}.
. "$(dirname "$0")/lib.sh"
NS=${1-lab-a}; N=${2:-1000}; base=$((${3:-0x100000}))
want_module xfrm_user esp4
f=$LAB_RUN/batch-$$.txt
key=$(randhex 20)
for ((i = 0; i < N; i++)); do
  # distinct destinations keep the hash chains short
  printf 'xfrm state add src 10.0.0.1 dst 10.%d.%d.%d proto esp spi 0x%x mode tunnel aead rfc4106(gcm(aes)) 0x%s 128\n' \
    $((100 + i / 65536)) $((i / 256 % 256)) $((i % 256)) $((base + i)) "$key"
done > "$f"
in_ns "$NS" ip -batch "$f"
rm -f "$f"
printf '{"count":%d,"spiBase":"0x%x"}\n' "$N" "$base"
