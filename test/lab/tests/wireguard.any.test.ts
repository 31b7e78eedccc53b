// WireGuard against the real kernel (Debian 7.2's wireguard module, or the custom build's built-in one):
// the source's devices and peers are what the kernel's own YNL CLI reads from the same family (the
// independent view); a ping through the tunnel shows as a handshake and counters; a link made and deleted
// comes and goes; the private and preshared keys set are in no row, status or log line. Links: wga here
// (root netns) and wgb in netns wgb, both UDP sockets on the root netns's loopback; configured with
// test/tools/capture-wireguard.ts.
//
// Then sascope itself (serve, root netns, as the product runs) watching wgs here, paired with wgp in netns
// wgl-2 (its UDP socket on the root netns's loopback; the custom kernel has no policy routing, so both ends
// cannot sit in one namespace with traffic crossing the tunnel). wgs's peers are tunnels with bytes: wgp,
// which a ping reaches (its handshake a rotation, then idle, not alarmed), and a third peer with a keepalive
// towards a port nobody answers in netns wgl-1 (the wg-handshake-stale alarm, threshold 20 s by config);
// an endpoint set elsewhere is an event; then every output (each GET route, WebSocket frames, log, /metrics,
// the history database) holds no private or preshared key in hex, base64, base64url or raw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LiveClient, getJson, startServer, type RunningServer } from '../../helpers.ts';
import type { Alarm, Rotation, Tunnel } from '../../../server/wire/tunnels.ts';
import type { KernelEvent } from '../../../server/wire/entities.ts';
import { Model } from '../../../server/model/model.ts';
import { createLogger } from '../../../server/log.ts';
import { LinkWatch } from '../../../server/families/link/watch.ts';
import { WireguardSource } from '../../../server/families/wireguard/source.ts';
import type { WireguardPeer } from '../../../server/wire/wireguard.ts';
import { sh, ynl } from '../scenarios/ovpn.ts';
import { keyHits, serverOutputs } from '../lib/outputs.ts';

const tool = (...args: string[]) => sh(`/usr/bin/node --import tsx test/tools/capture-wireguard.ts ${args.map((a) => `'${a}'`).join(' ')}`).trim();
const privA = 'a1'.repeat(32), privB = 'b2'.repeat(32), psk = '5e'.repeat(32), pubC = '7c'.repeat(32);
let pubA = '', pubB = '';
const lines: string[] = [];
const model = new Model();
let src: WireguardSource;
let links: LinkWatch;

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
/** A private key as the kernel keeps it (curve25519 clamping): those bytes are searched for too. */
function clamp(hex: string): string {
  const k = Buffer.from(hex, 'hex');
  k[0]! &= 248;
  k[31] = (k[31]! & 127) | 64;
  return k.toString('hex');
}
/** YNL prints a key (display-hint hex) as "c3 06 fb …": base64 here. */
function keyOf(v: unknown): string {
  if (typeof v !== 'string' || !/^[0-9a-f ]+$/.test(v)) throw new Error(`YNL key ${JSON.stringify(v)}: want hex`);
  return Buffer.from(v.replace(/ /g, ''), 'hex').toString('base64');
}
/** YNL gives an indexed array as [{ "<index>": {…} }, …]: the elements. */
const elements = (v: unknown) => ((v ?? []) as Array<Record<string, Record<string, any>>>).map((e) => Object.values(e)[0]!);
const kernelPeers = (ifindex: number) => (ynl('wireguard', '--dump', 'get-device', '--json', JSON.stringify({ ifindex })) as Array<Record<string, unknown>>).flatMap((m) => elements(m['peers']));
const ifindexOf = (name: string, ns = '') => Number(sh(`ip ${ns ? `-n ${ns} ` : ''}-j link show ${name}`).match(/"ifindex":(\d+)/)![1]);
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
  pubA = tool('pubkey', privA);
  pubB = tool('pubkey', privB);
  sh('ip netns add wgb; ip link add wga type wireguard; ip link add wgb type wireguard');
  tool('set', 'wga', privA, '51820', '0', `pub=${pubB},psk=${psk},endpoint=127.0.0.1:51821,allowed=10.9.0.2/32+fd09::2/128`, `pub=${pubC},endpoint=[::1]:51999,keepalive=25,allowed=10.9.0.3/32`);
  tool('set', 'wgb', privB, '51821', '66', `pub=${pubA},psk=${psk},endpoint=127.0.0.1:51820,allowed=10.9.0.1/32`);
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
  tool('set', 'wgx', 'c3'.repeat(32), '51830', '0', `pub=${'9d'.repeat(32)},allowed=10.30.0.0/16`);
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

const privX = 'd4'.repeat(32), privY = 'e5'.repeat(32), pskXY = '6f'.repeat(32), pubZ = '8a'.repeat(32);
let pubX = '', pubY = '';
let server: RunningServer | undefined;
let ws: LiveClient | undefined;
const wsRaw: string[] = [];
const DATA = '/tmp/sascope-lab/sascope-data-wireguard';
const api = <T>(p: string) => getJson<T>(`${server!.url}${p}`);
const tunnelOf = async (key: string) => (await api<{ tunnels: Tunnel[] }>('/api/v1/tunnels')).tunnels.find((t) => t.key === key);
async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}: ${JSON.stringify((await api<{ tunnels: Tunnel[] }>('/api/v1/tunnels')).tunnels)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
const keyY = () => `wireguard:wgs:${b64(pubY)}`; // wgs's peer: wgp
const keyZ = () => `wireguard:wgs:${b64(pubZ)}`; // wgs's peer that never answers

after(async () => {
  ws?.close();
  await server?.stop();
  sh('ip link del wgs 2>/dev/null; ip link del wgv1 2>/dev/null; ip netns del wgl-1 2>/dev/null; ip netns del wgl-2 2>/dev/null; true');
});

test('wireguard serve: the peers are tunnels with bytes, the handshake a rotation, and the WebSocket says so', { timeout: 600_000 }, async () => {
  pubX = tool('pubkey', privX);
  pubY = tool('pubkey', privY);
  sh('ip netns add wgl-1; ip link add wgv1 type veth peer name eth0 netns wgl-1; ip addr add 10.71.0.1/24 dev wgv1; ip link set wgv1 up; ip -n wgl-1 addr add 10.71.0.2/24 dev eth0; ip -n wgl-1 link set eth0 up');
  sh('ip netns add wgl-2; ip link add wgs type wireguard; ip link add wgp type wireguard');
  tool('set', 'wgs', privX, '51830', '0', `pub=${pubY},psk=${pskXY},endpoint=127.0.0.1:51831,allowed=10.72.0.2/32`, `pub=${pubZ},endpoint=10.71.0.2:51999,keepalive=1,allowed=10.73.0.0/24`);
  tool('set', 'wgp', privY, '51831', '0', `pub=${pubX},psk=${pskXY},endpoint=127.0.0.1:51830,allowed=10.72.0.1/32`);
  sh('ip link set wgp netns wgl-2; ip -n wgl-2 addr add 10.72.0.2/24 dev wgp; ip -n wgl-2 link set wgp up; ip addr add 10.72.0.1/24 dev wgs; ip link set wgs up');
  mkdirSync(DATA, { recursive: true });
  writeFileSync(path.join(DATA, 'config.json'), JSON.stringify({ alarms: { wgHandshakeStaleSeconds: 20 }, history: { sampleSeconds: 2, flushMs: 200 } }));
  server = await startServer({ args: ['--log-level', 'debug'], dataDir: DATA, timeoutMs: 400_000 });
  ws = new LiveClient(server.url);
  ws.ws.on('message', (d) => wsRaw.push(String(d)));
  await ws.opened();
  const wg = await eventually('wgs and its 2 peers in /api/v1/wireguard', async () => {
    const r = await api<{ devices: Array<{ name: string }>; peers: Array<{ device: string; publicKey: string; lastHandshake?: number }> }>('/api/v1/wireguard');
    return r.peers.filter((p) => p.device === 'wgs').length === 2 && r;
  });
  assert.ok(wg.devices.some((d) => d.name === 'wgs'));
  assert.equal(wg.peers.find((p) => p.publicKey === b64(pubY))!.lastHandshake, undefined, 'no handshake before the ping');
  await eventually('the tunnel of wgp', () => tunnelOf(keyY()));

  sh('ping -c 3 -i 0.3 -W 5 10.72.0.2 >/dev/null');
  const t = await eventually(`${keyY()} up with bytes and a rotation`, async () => {
    const t = await tunnelOf(keyY());
    return t && t.state === 'up' && BigInt(t.bytes) > 0n && t.rotations >= 1 && t;
  });
  assert.equal(t.family, 'wireguard');
  assert.equal(t.dst, '127.0.0.1:51831');
  assert.deepEqual(t.alarms, []);
  const rot = (await api<{ rotations: Rotation[] }>(`/api/v1/rotations?tunnel=${encodeURIComponent(keyY())}`)).rotations;
  assert.ok(rot.some((r) => r.family === 'wireguard' && r.cause === 'handshake' && r.state === 'done'), JSON.stringify(rot));
  // The kernel's counters (YNL): the tunnel's bytes are rx + tx of the peer, as read at most one poll ago.
  const k = kernelPeers(ifindexOf('wgs')).find((p) => keyOf(p['public-key']) === b64(pubY))!;
  assert.ok(BigInt(t.bytes) > 0n && BigInt(t.bytes) <= BigInt(k['rx-bytes']) + BigInt(k['tx-bytes']), `tunnel ${t.bytes} bytes, kernel rx ${k['rx-bytes']} + tx ${k['tx-bytes']}`);
  const z = await eventually('the third peer with bytes (its handshake initiations)', async () => {
    const z = await tunnelOf(keyZ());
    return z && BigInt(z.bytes) > 0n && z;
  });
  assert.equal(z.dst, '10.71.0.2:51999');
  // The WebSocket client saw the rotation and the tunnel's bytes as deltas.
  await ws.waitForDelta((d) => d.kind === 'rotation' && d.op === 'upsert' && (d.value as Rotation).tunnel === keyY(), 10_000);
  await ws.waitForDelta((d) => d.kind === 'tunnel' && d.op === 'upsert' && d.key === keyY() && BigInt((d.value as { bytes: string }).bytes) > 0n, 10_000);
});

test('wireguard serve: an endpoint set elsewhere (roaming) is an event, and traffic goes on through it', async () => {
  // Set while wgs hears nothing from wgp (the kernel would move it back to where wgp's packets come from: roaming too).
  tool('set', 'wgs', privX, '51830', '0', `pub=${pubY},endpoint=127.0.0.2:51831`);
  const ev = await eventually('a peer-roamed event', async () => (await api<{ events: KernelEvent[] }>('/api/v1/events?type=peer-roamed')).events.find((e) => e.summary.includes(b64(pubY))));
  assert.match(ev.summary, /^wgs: peer .* moved from 127\.0\.0\.1:51831 to 127\.0\.0\.2:51831$/);
  assert.equal(ev.ref, `wg-peer:${ifindexOf('wgs')}:${b64(pubY)}`);
  assert.equal((await tunnelOf(keyY()))!.dst, '127.0.0.2:51831');
  sh('ping -c 2 -i 0.3 -W 5 10.72.0.2 >/dev/null');
});

test('wireguard serve: a keepalive peer that never handshakes is alarmed; the quiet pair is idle, not alarmed; /metrics', async () => {
  const alarm = await eventually('wg-handshake-stale on the peer that never answers', async () => (await api<{ active: Alarm[] }>('/api/v1/alarms')).active.find((a) => a.type === 'wg-handshake-stale' && a.ref === `tunnel:${keyZ()}`));
  assert.match(alarm.summary, /no handshake ever completed \(persistent keepalive every 1 s\)/);
  assert.equal(alarm.threshold, 20);
  const z = (await tunnelOf(keyZ()))!;
  assert.equal(z.state, 'down');
  assert.ok(BigInt(z.bytes) > 0n, 'its handshake initiations are its bytes');
  const y = await eventually('wgp idle once its handshake is 20 s old and nothing is sent', async () => ((await tunnelOf(keyY()))?.state === 'idle' ? tunnelOf(keyY()) : undefined));
  assert.deepEqual(y!.alarms, [], 'idle is not alarmed');
  const metrics = await (await fetch(`${server!.url}/metrics`)).text();
  const line = (name: string, dev: string, pub: string) => metrics.split('\n').find((l) => l.startsWith(`${name}{device="${dev}",public_key="${b64(pub)}"}`));
  assert.match(line('sascope_wireguard_peer_last_handshake_seconds', 'wgs', pubZ) ?? '', / 0$/);
  const hs = Number(line('sascope_wireguard_peer_last_handshake_seconds', 'wgs', pubY)?.split(' ')[1]);
  assert.ok(hs > Date.now() / 1000 - 600 && hs <= Date.now() / 1000, `handshake ${hs}`);
  assert.ok(Number(line('sascope_wireguard_peer_receive_bytes_total', 'wgs', pubY)?.split(' ')[1]) > 0);
  assert.ok(Number(line('sascope_wireguard_peer_transmit_bytes_total', 'wgs', pubZ)?.split(' ')[1]) > 0);
  assert.match(metrics, /sascope_tunnels\{state="idle"\} [1-9]/);
});

test('wireguard serve: no private or preshared key in any GET route, WebSocket frame, log line, /metrics or the history database', async () => {
  ws!.close();
  const { outputs, routes, status } = await serverOutputs(server!, wsRaw, { extra: [`/api/v1/history/samples?tunnel=${encodeURIComponent(keyY())}`] });
  server = undefined;
  assert.equal(status, 0);
  assert.ok(outputs.some((o) => o.name === 'history.sqlite' && o.bytes.includes(Buffer.from(b64(pubY)))), 'the history database holds the wireguard tunnels (so the search means something)');
  const keys = new Map([[privX, 'wgs private key'], [privY, 'wgp private key'], [pskXY, 'preshared key'], [clamp(privX), 'wgs private key (clamped)'], [clamp(privY), 'wgp private key (clamped)']]);
  const hits = keyHits(keys, outputs);
  console.log(`wireguard key search: ${keys.size} keys × 5 encodings in ${outputs.length} outputs (${routes.length} GET routes, ${wsRaw.length} WebSocket frames), ${outputs.reduce((n, o) => n + o.bytes.length, 0)} bytes; hits: ${hits.length}`);
  assert.deepEqual(hits, []);
});
