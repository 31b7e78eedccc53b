#!/usr/bin/env bash
# Builds the Debian package sascope_<version>_amd64.deb (`npm run package`) with dpkg-deb:
#   /usr/lib/sascope        the server bundle (server/.build), the Next.js production build (.next), the
#                           production node_modules (better-sqlite3's native module built for this node)
#   /usr/bin/sascope        the command
#   /lib/systemd/system     sascope.service (console) and sascope-agent.service (fleet agent), both made
#                           from dist/sascope.service here, so the hardening is written once
#   /etc/sascope            config.json and agent.env (conffiles: kept on upgrade)
#   /usr/share/sascope      Prometheus alert rules and the Grafana dashboard (dist/prometheus, dist/grafana)
# The maintainer scripts make the system user sascope and /var/lib/sascope (0700); purge removes the
# config and the state (tokens, history). Needs a prior `npm run build` (run here when there is none).
#   dist/package.sh [--out DIR]    the .deb into DIR (default: the project directory)
#   dist/package.sh --units DIR    only the two unit files into DIR (the tests check them)
# SASCOPE_DEB_VERSION overrides the version (default package.json's); SASCOPE_DEB_VERSION_SUFFIX is appended
# (the lab's upgrade test installs <version> then <version>+lab1).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.
units_only=
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --units) units_only=$2; shift 2 ;;
    *) echo "dist/package.sh: unknown option $1 (see the head of dist/package.sh)" >&2; exit 2 ;;
  esac
done

# The units: the console's from dist/sascope.service with the package's paths; the agent's the same
# hardening with its own command, its settings from /etc/sascope/agent.env, and no IP address filter (it
# connects out to a NATS server whose address only the administrator knows).
make_units() {
  local dir=$1 src=dist/sascope.service
  mkdir -p "$dir"
  sed -e 's|^# Install: see docs/install.md.*|# Installed by the sascope Debian package; settings: /etc/sascope/config.json (docs/config.md).|' \
      -e 's|^Documentation=.*|Documentation=file:///usr/share/doc/sascope/install.md|' \
      -e 's|^WorkingDirectory=.*|WorkingDirectory=/usr/lib/sascope|' \
      -e 's|^ExecStart=.*|ExecStart=/usr/bin/sascope serve --data-dir /var/lib/sascope --config /etc/sascope/config.json|' \
      "$src" >"$dir/sascope.service"
  sed -e 's|^# sascope as a system service.*|# The sascope fleet agent (docs/fleet.md): no UI, no listener; an unprivileged user with CAP_NET_ADMIN only.|' \
      -e 's|^# Install: see docs/install.md.*|# Installed by the sascope Debian package; settings: /etc/sascope/agent.env and /etc/sascope/config.json.|' \
      -e 's|^Description=.*|Description=sascope agent: publishes this host'"'"'s security associations to a fleet console over NATS|' \
      -e 's|^Documentation=.*|Documentation=file:///usr/share/doc/sascope/fleet.md|' \
      -e 's|^WorkingDirectory=.*|WorkingDirectory=/usr/lib/sascope\nEnvironmentFile=/etc/sascope/agent.env|' \
      -e 's|^ExecStart=.*|# Watches its own network namespace: --netns would need CAP_SYS_ADMIN (setns; docs/fleet.md).\nExecStart=/usr/bin/sascope agent --nats ${SASCOPE_NATS} --host ${SASCOPE_HOST} $SASCOPE_AGENT_OPTIONS --data-dir /var/lib/sascope --config /etc/sascope/config.json|' \
      -e '/^# Listen on loopback by default/,/^# (and widen IPAddressAllow/d' \
      -e '/^# IP peers: loopback/,/^IPAddressAllow=/c\# IP peers: the NATS server(s) of agent.env, whose addresses only the administrator knows: no IPAddressDeny=\n# here (add IPAddressDeny=any and IPAddressAllow=<the NATS servers> with `systemctl edit sascope-agent`).' \
      -e 's|^# One file descriptor per WebSocket client.*|# No WebSocket clients here; one file descriptor per kernel socket and the NATS connection.|' \
      "$src" >"$dir/sascope-agent.service"
  # A line of dist/sascope.service these edits rely on has changed: say so rather than ship the old paths.
  grep -q '^ExecStart=/usr/bin/sascope serve' "$dir/sascope.service" && grep -q '^ExecStart=/usr/bin/sascope agent' "$dir/sascope-agent.service" \
    && ! grep -q '/opt/sascope\|^IPAddress\|--listen' "$dir/sascope-agent.service" \
    || { echo "dist/package.sh: dist/sascope.service no longer has the lines the package's units are made from" >&2; exit 1; }
}
if [ -n "$units_only" ]; then make_units "$units_only"; exit 0; fi

version=${SASCOPE_DEB_VERSION:-$(node -p 'require("./package.json").version')}${SASCOPE_DEB_VERSION_SUFFIX:-}
arch=amd64
[ "$(dpkg --print-architecture)" = $arch ] || { echo "dist/package.sh: builds $arch only (this is $(dpkg --print-architecture))" >&2; exit 1; }
if [ ! -f .next/BUILD_ID ] || [ ! -f server/.build/cli.mjs ]; then nice -n 5 npm run build; fi
# better-sqlite3's native module is built for this node's ABI: the package depends on this major only.
node_major=$(node -p 'process.versions.node.split(".")[0]')
node_floor=$(node -p 'require("./package.json").engines.node.replace(">=", "")')
[ "${node_floor%%.*}" = "$node_major" ] || { echo "dist/package.sh: node $(node -v) is not the major of engines.node ($node_floor): the package's Depends would not match its native module" >&2; exit 1; }

stage=$(mktemp -d /tmp/sascope-deb.XXXXXX)
chmod 0755 "$stage" # the package's ./ (mktemp makes it 0700)
trap 'rm -rf "$stage"' EXIT
lib=$stage/usr/lib/sascope
mkdir -p "$lib/server" "$stage/usr/bin" "$stage/etc/sascope" "$stage/usr/share/sascope" "$stage/usr/share/doc/sascope" "$stage/DEBIAN"
cp package.json package-lock.json next.config.ts "$lib/"
cp -a public "$lib/"
cp server/bin.mjs "$lib/server/"
cp -a server/.build "$lib/server/"
mkdir "$lib/.next"
for f in .next/*; do case "${f#.next/}" in cache|trace|trace-build|diagnostics|types) ;; *) cp -a "$f" "$lib/.next/" ;; esac; done
# Production dependencies only, as the lock file pins them (no registry: pruned from this node_modules).
mkdir "$lib/node_modules" && cp -a node_modules/. "$lib/node_modules/" # /. : also where node_modules is a symlink
(cd "$lib" && npm prune --omit=dev --offline --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
rm -f "$lib/package-lock.json" "$lib/node_modules/.package-lock.json"
# Not run by the package: the optional peers of next that npm keeps because they are installed (the tests'
# Playwright; sharp, for next/image, which the console does not use: it embeds its own libjpeg, freetype …),
# tsx and its esbuild (bin.mjs runs TypeScript sources only where there are some: here the bundle),
# koffi's musl build; nor the packages' lint and npm ignore files.
nm=$lib/node_modules
rm -rf "$nm/.cache" "$nm/playwright" "$nm/playwright-core" "$nm/@img" "$nm/sharp" "$nm/tsx" "$nm/esbuild" "$nm/@esbuild" "$nm/@koromix/koffi-linux-x64/musl_x64"
find "$nm/.bin" -xtype l -delete
find "$nm" \( -name .npmignore -o -name '.eslintrc*' \) -type f -delete
# better-sqlite3: only the loaded module (not its sources, the object files or the test extension).
bs=$lib/node_modules/better-sqlite3
find "$bs/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
find "$bs/build/Release" -mindepth 1 -maxdepth 1 ! -name better_sqlite3.node -exec rm -rf {} +
rm -rf "$bs/deps" "$bs/src" "$bs/binding.gyp"
# Native modules: shared objects (0644), stripped as Debian ships them.
find "$nm" -name '*.node' -type f -exec chmod 0644 {} + -exec strip --strip-unneeded --remove-section=.comment --remove-section=.note {} +
ln -s ../lib/sascope/server/bin.mjs "$stage/usr/bin/sascope"

make_units "$stage/lib/systemd/system"
cat >"$stage/etc/sascope/config.json" <<'EOF'
{}
EOF
cat >"$stage/etc/sascope/agent.env" <<'EOF'
# sascope-agent.service reads this (docs/fleet.md). Both are required; then `systemctl enable --now sascope-agent`.
# The NATS server(s), nats://HOST:PORT or tls://HOST:PORT, comma-separated:
SASCOPE_NATS=
# This host's name in the fleet: 1-63 of A-Z a-z 0-9 _ - (no dots):
SASCOPE_HOST=
# More options, e.g. --nats-creds /etc/sascope/agent.creds --nats-tls-ca /etc/sascope/nats-ca.pem
SASCOPE_AGENT_OPTIONS=
EOF
cp dist/prometheus/sascope.rules.yml dist/grafana/sascope-dashboard.json "$stage/usr/share/sascope/"
cp docs/install.md docs/fleet.md docs/config.md "$stage/usr/share/doc/sascope/"
cat >"$stage/usr/share/doc/sascope/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: sascope
Comment: The Node.js modules under /usr/lib/sascope/node_modules carry their own licence files.

Files: *
Copyright: the sascope authors
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
 associated documentation files (the "Software"), to deal in the Software without restriction, including
 without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the
 following conditions:
 .
 The above copyright notice and this permission notice shall be included in all copies or substantial
 portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT
 LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO
 EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
 IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE
 USE OR OTHER DEALINGS IN THE SOFTWARE.
EOF
printf 'sascope (%s) unstable; urgency=medium\n\n  * Built from the sascope tree (dist/package.sh).\n\n -- sascope maintainers <sascope@example.org>  %s\n' \
  "$version" "$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")" | gzip -9n >"$stage/usr/share/doc/sascope/changelog.gz"

printf '/etc/sascope/config.json\n/etc/sascope/agent.env\n' >"$stage/DEBIAN/conffiles"
cat >"$stage/DEBIAN/control" <<EOF
Package: sascope
Version: $version
Architecture: $arch
Maintainer: sascope maintainers <sascope@example.org>
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: nodejs (>= $node_floor), nodejs (<< $((node_major + 1))), adduser, libc6 (>= 2.34), libstdc++6 (>= 12), libgcc-s1
Section: net
Priority: optional
Description: live web dashboard for Linux security associations
 sascope reads XFRM, PF_KEY, ovpn, PSP, AF_ALG and /proc from the kernel and
 shows what is protected, with which algorithms (never key bytes), for how
 long, and whether hardware does the work: a web console (sascope.service) or
 a fleet agent publishing to NATS (sascope-agent.service), both as the user
 sascope with CAP_NET_ADMIN only. Alert rules and a Grafana dashboard are in
 /usr/share/sascope.
EOF
# No group-writable files (npm's tarballs carry some).
chmod -R go-w "$stage"
install -m 0755 dist/deb/postinst dist/deb/prerm dist/deb/postrm "$stage/DEBIAN/"
mkdir -p "$out"
deb=$out/sascope_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zgzip --build "$stage" "$deb" >/dev/null
echo "$deb"
