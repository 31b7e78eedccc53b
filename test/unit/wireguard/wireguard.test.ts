// The wireguard source against get-device replies captured from Linux 7.2 in the lab
// (test/fixtures/wireguard, test/tools/wireguard-lab-capture.sh), served by a fake genl transport.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AttrReader } from '../../../server/netlink/attr.ts';
import { Model } from '../../../server/model/model.ts';
import { createLogger } from '../../../server/log.ts';
import { Errno } from '../../../server/sys/errno.ts';
import { parseMessages } from '../../../server/netlink/message.ts';
import { parseGenl } from '../../../server/genl/genl.ts';
import { GenlClient, RefusedOperationError } from '../../../server/genl/client.ts';
import { WireguardSource } from '../../../server/families/wireguard/source.ts';
import { WG_CMD, deviceAttrs, peerAttrs, wireguardFamily } from '../../../server/families/wireguard/spec.ts';
import { decodeWireguardMessage, joinDeviceReplies } from '../../../server/families/wireguard/device.ts';
import { LinkWatch } from '../../../server/families/link/watch.ts';
import { nlError } from '../netlink/fake.ts';
import { genlDump, genlFake, type GenlRequest } from '../netlink/genl-fake.ts';
import { linkEvent, linkFake, type FakeLink } from '../netlink/link-fake.ts';
import { attrNumber } from '../../../server/netlink/spec.ts';

const FAMILY = { name: 'wireguard', id: 0x25, ops: [0, 1] };
const fixture = (name: string): Buffer[] =>
  (JSON.parse(readFileSync(new URL(`../../fixtures/wireguard/${name}.fixture.json`, import.meta.url), 'utf8')) as { messages: Array<{ hex: string }> }).messages.map((m) => Buffer.from(m.hex, 'hex'));
const FIXTURES = ['get-device-pair-a', 'get-device-pair-b', 'get-device-split-peer'];
/** The genl attributes of each captured reply (what the fake kernel answers with). */
const attrsOf = (name: string) => fixture(name).map((b) => parseGenl(parseMessages(b)[0]!, 'fixture').attrs);

/** Every private key and preshared key in a reply's bytes, found by walking the TLVs (not by the decoder under test). */
function secretsIn(attrs: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const dev = new AttrReader(attrs);
  while (dev.next()) {
    if (dev.type === attrNumber(deviceAttrs, 'private-key')) out.push(Buffer.from(dev.data));
    if (dev.type !== attrNumber(deviceAttrs, 'peers')) continue;
    const peers = dev.nest();
    while (peers.next()) {
      const p = peers.nest();
      while (p.next()) if (p.type === attrNumber(peerAttrs, 'preshared-key')) out.push(Buffer.from(p.data));
    }
  }
  return out;
}
/** The keys as the capture set them (before the kernel clamped the private keys) and as the replies carry them. */
const SECRETS = [
  ...['a1', 'b2', 'c3', '5e'].map((b) => Buffer.from(b.repeat(32), 'hex')),
  ...FIXTURES.flatMap((f) => attrsOf(f).flatMap(secretsIn)),
];
function assertNoSecret(text: string, where: string): void {
  for (const s of SECRETS) {
    for (const form of [s.toString('hex'), s.toString('base64'), s.toString('base64').slice(0, 20), s.toString('hex').slice(0, 16)]) {
      assert.ok(!text.toLowerCase().includes(form.toLowerCase()), `${where} holds a secret key (${form.slice(0, 8)}…)`);
    }
  }
}
const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));

function start(opts: { links?: FakeLink[]; family?: typeof FAMILY | null; getDevice?: (req: GenlRequest) => Buffer[] | undefined; peersPerInterval?: number; refreshIntervalMs?: number } = {}) {
  const links = opts.links ?? [{ index: 1, name: 'lo' }, { index: 2, name: 'wga', kind: 'wireguard' }, { index: 4, name: 'wgm', kind: 'wireguard' }, { index: 7, name: 'eth0', kind: 'veth' }];
  const byIfindex: Record<number, string> = { 2: 'get-device-pair-a', 4: 'get-device-split-peer' };
  const genl = genlFake(opts.family === null ? [] : [opts.family ?? FAMILY], (req) => {
    if (req.cmd !== WG_CMD.GET_DEVICE || !req.dump) return new Error(`sascope sent wireguard command ${req.cmd}`);
    const special = opts.getDevice?.(req);
    if (special) return special;
    const ifindex = req.attrs.readUInt32LE(4);
    const name = byIfindex[ifindex];
    return name ? genlDump(req, WG_CMD.GET_DEVICE, attrsOf(name)) : [nlError(req.msg, Errno.ENODEV)];
  });
  const lines: string[] = [];
  const log = createLogger('debug', { write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WritableStream);
  const model = new Model();
  const src = new WireguardSource(model, log, new LinkWatch({ transport: linkFake(links) }), { genlTransport: genl, refreshIntervalMs: opts.refreshIntervalMs ?? 0, peersPerInterval: opts.peersPerInterval });
  return { genl, model, src, links, lines };
}
const peer = (model: Model, key: string) => model.get('wg-peer', key) as Record<string, any> | undefined;
const PUB_B = '20glfhI3l2p0rYz+3KACE0CP6JrGJR8bkwJF8kK1wxo='; // wgb's public key, wga's first peer

test('wireguard: one get-device dump per wireguard link; device and peers as the kernel states them', async () => {
  const { model, src, genl } = start();
  await src.start();
  assert.equal(src.status.state, 'ok');
  assert.deepEqual(genl.genlRequests.map((r) => r.attrs.readUInt32LE(4)).sort(), [2, 4], 'only the wireguard links are dumped');
  const dev = model.get('wg-dev', '2') as Record<string, any>;
  assert.equal(dev.name, 'wga');
  assert.equal(dev.publicKey, 'wwb7DvK/i3+TutmBVfo32ux02wxMvtpsbx26nTZVglI=');
  assert.equal(dev.listenPort, 51820);
  assert.equal(dev.fwmark, 0);
  assert.equal(dev.peers, 2);
  const b = peer(model, `2:${PUB_B}`)!;
  assert.equal(b.endpoint, '127.0.0.1:51821');
  assert.deepEqual(b.allowedIps, ['10.9.0.2/32', 'fd09::2/128']);
  assert.ok(b.lastHandshake > Date.UTC(2026, 0, 1), 'the ping made a handshake');
  assert.equal(b.rxBytes, '476');
  assert.equal(b.txBytes, '564');
  assert.equal(b.persistentKeepaliveSeconds, 0);
  const c = peer(model, `2:${Buffer.alloc(32, 0x7c).toString('base64')}`)!;
  assert.equal(c.endpoint, '[::1]:51999');
  assert.equal(c.persistentKeepaliveSeconds, 25);
  assert.equal(c.lastHandshake, undefined, 'a peer that never answered has no handshake');
  src.stop();
});

test('wireguard: a peer whose allowed IPs span two replies is one peer with all 1500 of them, in order', async () => {
  const parts = fixture('get-device-split-peer').map((b) => decodeWireguardMessage(parseMessages(b)[0]!).device);
  assert.equal(parts.length, 2);
  const d = joinDeviceReplies(parts);
  assert.equal(d.peers.length, 1);
  const ips = d.peers[0]!.allowedIps;
  assert.equal(ips.length, 1500);
  assert.equal(ips[0], '10.20.0.0/24');
  assert.equal(ips[1499], '10.25.219.0/24');
  assert.equal(new Set(ips).size, 1500);
  assert.equal(d.peers[0]!.persistentKeepaliveSeconds, 5, 'the continuation does not blank what the first part said');
  const { model, src } = start();
  await src.start();
  assert.equal(model.count('wg-peer'), 3);
  assert.equal((model.get('wg-dev', '4') as any).peers, 1);
  src.stop();
});

test('wireguard: private and preshared keys never reach a fixture\'s decoded form, a row, an event or the log', async () => {
  assert.ok(SECRETS.length >= 4 + 3 + 3, 'the captured replies carry the keys the test looks for');
  for (const f of FIXTURES) for (const b of fixture(f)) assertNoSecret(json(decodeWireguardMessage(parseMessages(b)[0]!)), `${f} decoded`);
  // Also through a malformed reply: the decode error's words hold no key either.
  const { model, src, lines } = start({
    getDevice: (req) => {
      if (req.attrs.readUInt32LE(4) !== 4) return undefined;
      const bad = Buffer.from(attrsOf('get-device-pair-a')[0]!);
      bad.writeUInt16LE(0xfff0, bad.length - 8); // a member near the end claims more bytes than there are
      return genlDump(req, WG_CMD.GET_DEVICE, [bad]);
    },
  });
  await src.start();
  assert.equal(src.status.decodeErrors, 1);
  const rows = ['wg-dev', 'wg-peer', 'event', 'source'].map((k) => json(model.list(k as 'wg-dev')));
  assertNoSecret(rows.join('\n'), 'model rows');
  assertNoSecret(lines.join(''), 'log');
  assertNoSecret(json(src.status), 'source status');
  src.stop();
});

test('wireguard: a device appearing, changing and going away with its link; peers read at once', async () => {
  const { model, src, links, genl } = start({ links: [{ index: 1, name: 'lo' }] });
  await src.start();
  assert.equal(src.status.reason, 'no wireguard device in this network namespace');
  const view = (src as unknown as { links: { onEvent(m: unknown): void } }).links;
  links.push({ index: 2, name: 'wga', kind: 'wireguard' });
  view.onEvent(linkEvent('new', links[1]!));
  assert.ok(model.get('wg-dev', '2'));
  await waitFor(() => peer(model, `2:${PUB_B}`) !== undefined);
  assert.equal(src.status.reason, undefined);
  const dumps = genl.genlRequests.length;
  view.onEvent(linkEvent('new', { ...links[1]!, name: 'wg-renamed' }));
  await waitFor(() => genl.genlRequests.length > dumps);
  await waitFor(() => peer(model, `2:${PUB_B}`)?.device === 'wg-renamed');
  view.onEvent(linkEvent('del', links[1]!));
  assert.equal(model.get('wg-dev', '2'), undefined);
  assert.equal(model.count('wg-peer'), 0);
  assert.deepEqual((model.list('event') as Array<{ type: string }>).map((e) => e.type).filter((t) => t.startsWith('wg-')), ['wg-dev-new', 'wg-dev-del']);
  src.stop();
});

test('wireguard: the refresh interval grows in proportion above peersPerInterval peers', async () => {
  const { src } = start({ refreshIntervalMs: 5000, peersPerInterval: 1 });
  await src.start();
  assert.equal((src as unknown as { intervalMs: number }).intervalMs, 15000, '3 peers at 1 per interval: 3 × 5 s');
  src.stop();
});

test('wireguard: no module is not available, no CAP_NET_ADMIN is no permission, in words', async () => {
  const absent = start({ family: null });
  await absent.src.start();
  assert.equal(absent.src.status.state, 'not-available');
  assert.match(absent.src.status.reason!, /family wireguard not found \(module not loaded or kernel too old\)/);
  absent.src.stop();
  const denied = start({ getDevice: (req) => [nlError(req.msg, Errno.EPERM)] });
  await denied.src.start();
  assert.equal(denied.src.status.state, 'no-permission');
  assert.match(denied.src.status.reason!, /EPERM \(needs CAP_NET_ADMIN\)/);
  denied.src.stop();
});

test('wireguard: a peer whose endpoint changed between reads (roaming) is an event naming both; a first endpoint is none', async () => {
  let roamed = false;
  const { model, src } = start({
    getDevice: (req) => {
      if (!roamed || req.attrs.readUInt32LE(4) !== 2) return undefined;
      const attrs = attrsOf('get-device-pair-a').map((a) => Buffer.from(a));
      const at = attrs[0]!.indexOf(Buffer.from('0200ca6d7f000001', 'hex')); // sockaddr_in 127.0.0.1:51821
      assert.ok(at > 0, 'the fixture holds wgb\'s endpoint');
      attrs[0]![at + 7] = 2;
      return genlDump(req, WG_CMD.GET_DEVICE, attrs);
    },
  });
  await src.start();
  const roams = () => (model.list('event') as Array<{ type: string; summary: string; ref?: string }>).filter((e) => e.type === 'peer-roamed');
  assert.deepEqual(roams(), []);
  roamed = true;
  await (src as unknown as { refresh(): Promise<void> }).refresh();
  assert.equal(peer(model, `2:${PUB_B}`)!.endpoint, '127.0.0.2:51821');
  assert.deepEqual(roams().map((e) => [e.summary, e.ref]), [[`wga: peer ${PUB_B} moved from 127.0.0.1:51821 to 127.0.0.2:51821`, `wg-peer:2:${PUB_B}`]]);
  await (src as unknown as { refresh(): Promise<void> }).refresh();
  assert.equal(roams().length, 1, 'an unchanged endpoint is no event');
  src.stop();
});

test('wireguard: set-device is refused before a byte is sent (not in the family\'s allow-list)', async () => {
  const { genl } = start();
  const client = await GenlClient.open(wireguardFamily, 'wireguard', { transport: genl });
  await assert.rejects(client.do('set-device' as 'get-device'), RefusedOperationError);
  assert.equal(genl.genlRequests.length, 0);
  client.close();
});

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
