#!/usr/bin/env bash
# Installs what sascope needs on a Debian machine (run as root), then builds it.
#   ./setup.sh          the dashboard: Node.js check, the locked packages (npm install --no-save), production build
#   ./setup.sh --test   also everything the tests use: Debian's chromium (never a downloaded browser),
#                       iproute2, nats-server (the fleet tests start their own on 127.0.0.1), prometheus
#                       (promtool) and systemd (systemd-analyze) for dist/'s checks, and the
#                       real-kernel lab's host packages (qemu, busybox, strongSwan …)
set -euo pipefail
cd "$(dirname "$0")"
want_test=0
for a in "$@"; do
  case "$a" in
    --test) want_test=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $a (try --help)" >&2; exit 2 ;;
  esac
done
step() { printf '\n== %s\n' "$*"; }
t0=$(date +%s)

apt_missing=()
need_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || apt_missing+=("$1"); }

# The Node.js floor is package.json's engines.node (">=MAJOR.MINOR"), stated nowhere else.
node_floor=$(sed -n 's/^ *"node": *">=\([0-9]*\.[0-9]*\)".*/\1/p' package.json)
node_ok() { command -v node >/dev/null && node -e 'const v=(s)=>s.split(".").map(Number),[a,b]=v(process.versions.node),[fa,fb]=v(process.argv[1]);process.exit(a>fa||(a===fa&&b>=fb)?0:1)' "$node_floor"; }
if ! node_ok; then need_pkg nodejs; need_pkg npm; fi
need_pkg iproute2
need_pkg ca-certificates
if [ "$want_test" = 1 ]; then
  # prometheus: promtool checks the alert rules; systemd: systemd-analyze checks the units (no systemd needs to run).
  for p in chromium util-linux procps nats-server prometheus systemd; do need_pkg "$p"; done
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  step "apt: installing ${apt_missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${apt_missing[@]}"
fi
if [ "$want_test" = 1 ] && [ -f test/lab/host-deps.sh ]; then
  step "lab host packages"
  bash test/lab/host-deps.sh
fi
if ! node_ok; then
  echo "setup.sh: sascope needs Node.js >= $node_floor (found $(node -v 2>/dev/null || echo none)); install a newer nodejs and run again" >&2
  exit 1
fi

step "npm install (the locked versions)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# Not `npm ci`: with omit-lockfile-registry-resolved (set on these machines) npm 11 leaves other
# platforms' optional packages out of the lock file and then `npm ci` refuses it as out of sync.
# `npm install --no-save` installs the locked versions and leaves package*.json untouched.
npm install --no-save --no-audit --no-fund

# better-sqlite3 (the history database) ships no binary for this platform and npm 11 leaves install
# scripts to allowScripts: build its native module from source once (node-gyp from npm, headers from
# the nodedir in ~/.npmrc; a few minutes on a busy machine).
if ! node -e "require('better-sqlite3')" 2>/dev/null; then
  step "build better-sqlite3 from source"
  (cd node_modules/better-sqlite3 && node "$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js" rebuild --release)
fi

step "build (next build)"
npm run build

echo
echo "setup.sh: done in $(( $(date +%s) - t0 )) s"
