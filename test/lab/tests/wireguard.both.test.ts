// WireGuard's source against the real kernel, in both VMs (Debian 7.2's wireguard module and the custom
// build's built-in one): the source's devices and peers are what the kernel's own YNL CLI reads from the same family (the
// independent view); a ping through the tunnel shows as a handshake and counters; a link made and deleted
// comes and goes; the private and preshared keys set are in no row, status or log line. Links: wga here
// (root netns) and wgb in netns wgb, both UDP sockets on the root netns's loopback; configured with
// test/tools/capture-wireguard.ts.
//
// The same source inside `sascope serve` is in wireguard-serve.any.test.ts (it does not depend on the kernel build).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../../server/model/model.ts';
import { createLogger } from '../../../server/log.ts';
import { LinkWatch } from '../../../server/families/link/watch.ts';
import { WireguardSource } from '../../../server/families/wireguard/source.ts';
import type { WireguardPeer } from '../../../server/wire/wireguard.ts';
import { sh, ynl } from '../scenarios/ovpn.ts';
import { wgTool, b64, clamp, keyOf, elements, kernelPeers, ifindexOf } from '../scenarios/wireguard.ts';

const privA = 'a1'.repeat(32), privB = 'b2'.repeat(32), psk = '5e'.repeat(32), pubC = '7c'.repeat(32);
let pubA = '', pubB = '';
const lines: string[] = [];
const model = new Model();
let src: WireguardSource;
let links: LinkWatch;

const peersOf = (ifindex: number) => (model.list('wg-peer') as unknown as WireguardPeer[]).filter((p) => p.ifindex === ifindex);

async function until<T>(what: string, fn: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}: ${JSON.stringify(model.list('wg-peer'))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  pubA = wgTool('pubkey', privA);
  pubB = wgTool('pubkey', privB);
  sh('ip netns add wgb; ip link add wga type wireguard; ip link add wgb type wireguard');
  wgTool('set', 'wga', privA, '51820', '0', `pub=${pubB},psk=${psk},endpoint=127.0.0.1:51821,allowed=10.9.0.2/32+fd09::2/128`, `pub=${pubC},endpoint=[::1]:51999,keepalive=25,allowed=10.9.0.3/32`);
  wgTool('set', 'wgb', privB, '51821', '66', `pub=${pubA},psk=${psk},endpoint=127.0.0.1:51820,allowed=10.9.0.1/32`);
  sh('ip link set wgb netns wgb; ip addr add 10.9.0.1/24 dev wga; ip link set wga up; ip -n wgb addr add 10.9.0.2/24 dev wgb; ip -n wgb link set wgb up');
  const log = createLogger('debug', { write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WritableStream);
  links = new LinkWatch();
  src = new WireguardSource(model, log, links, { refreshIntervalMs: 500 });
  await src.start();
});

after(() => {
  src?.stop();
  sh('ip link del wga 2>/dev/null; ip netns del wgb 2>/dev/null; true');
});

test('wireguard: the device and its peers as YNL reads them from the kernel', async () => {
  assert.equal(src.status.state, 'ok', src.status.reason);
  const ifindex = ifindexOf('wga');
  const dev = model.get('wg-dev', String(ifindex)) as Record<string, unknown>;
  assert.equal(dev['name'], 'wga');
  assert.equal(dev['publicKey'], b64(pubA));
  assert.equal(dev['listenPort'], 51820);
  const kernel = ynl('wireguard', '--dump', 'get-device', '--json', JSON.stringify({ ifindex })) as Array<Record<string, any>>;
  const kpeers = kernel.flatMap((m) => elements(m['peers']));
  assert.equal(keyOf(kernel[0]!['public-key']), dev['publicKey']);
  assert.equal(kernel[0]!['listen-port'], dev['listenPort']);
  assert.equal(peersOf(ifindex).length, kpeers.length);
  for (const k of kpeers) {
    const p = peersOf(ifindex).find((x) => x.publicKey === keyOf(k['public-key']));
    assert.ok(p, `peer ${keyOf(k['public-key'])}`);
    assert.equal(p.persistentKeepaliveSeconds, k['persistent-keepalive-interval'] ?? 0);
    assert.deepEqual(p.allowedIps, elements(k['allowedips']).map((a) => `${a['ipaddr']}/${a['cidr-mask']}`));
  }
  const c = peersOf(ifindex).find((p) => p.publicKey === b64(pubC))!;
  assert.equal(c.endpoint, '[::1]:51999');
  assert.equal(c.persistentKeepaliveSeconds, 25);
  assert.deepEqual(peersOf(ifindex).find((p) => p.publicKey === b64(pubB))!.allowedIps, ['10.9.0.2/32', 'fd09::2/128']);
});

test('wireguard: a ping through the tunnel is a handshake and counters, as the kernel counts them', async () => {
  const ifindex = ifindexOf('wga');
  const before = Date.now() - 1000;
  sh('ping -c 3 -i 0.3 -W 5 10.9.0.2 >/dev/null');
  const b = await until('the handshake with wgb', () => peersOf(ifindex).find((p) => p.publicKey === b64(pubB) && p.lastHandshake !== undefined && p.rxBytes > 0n));
  assert.ok(b.lastHandshake! >= before && b.lastHandshake! <= Date.now() + 1000, `handshake at ${b.lastHandshake}`);
  // The kernel's counters (YNL) as the source's next refresh finds them. YNL blocks this event loop for
  // seconds under emulation, and a passive keepalive 10 s after the last reply may move them between the two
  // reads: read again until one YNL read and the refresh after it agree.
  const seen: string[] = [];
  let ours: WireguardPeer | undefined;
  for (let i = 0; i < 5 && !ours; i++) {
    const k = kernelPeers(ifindex).find((x) => keyOf(x['public-key']) === b64(pubB))!;
    await new Promise((r) => setTimeout(r, 1200)); // two refreshes (every 500 ms) after YNL's read
    const p = peersOf(ifindex).find((x) => x.publicKey === b64(pubB))!;
    seen.push(`ours ${p.rxBytes}/${p.txBytes}, kernel ${k['rx-bytes']}/${k['tx-bytes']}`);
    if (String(p.rxBytes) === String(k['rx-bytes']) && String(p.txBytes) === String(k['tx-bytes'])) ours = p;
  }
  assert.ok(ours, `rx/tx never agreed: ${seen.join('; ')}`);
  assert.equal(ours.endpoint, '127.0.0.1:51821');
});

test('wireguard: a wireguard link made and deleted comes and goes, with its peers', async () => {
  sh('ip link add wgx type wireguard');
  const ifindex = ifindexOf('wgx');
  await until('wgx', () => model.get('wg-dev', String(ifindex)));
  wgTool('set', 'wgx', 'c3'.repeat(32), '51830', '0', `pub=${'9d'.repeat(32)},allowed=10.30.0.0/16`);
  sh('ip link set wgx up'); // a link change: read at once
  await until('the peer of wgx', () => peersOf(ifindex)[0]);
  sh('ip link del wgx');
  await until('wgx gone', () => (model.get('wg-dev', String(ifindex)) || peersOf(ifindex).length ? undefined : true));
});

test('wireguard: the private and preshared keys are in no row, status or log line', () => {
  const secrets = [privA, privB, psk, 'c3'.repeat(32)];
  const all = [...secrets, ...secrets.map(clamp)].flatMap((h) => [h, b64(h), b64(h).slice(0, 20)]);
  const text = [JSON.stringify(model.list('wg-dev')), JSON.stringify(model.list('wg-peer'), (_k, v) => (typeof v === 'bigint' ? String(v) : v)), JSON.stringify(model.list('event')), JSON.stringify(src.status), lines.join('')].join('\n').toLowerCase();
  for (const s of all) assert.ok(!text.includes(s.toLowerCase()), `a secret key (${s.slice(0, 8)}…) is in the output`);
});

// ---- sascope serve, both ends of a pair
