// The WireGuard page on a synthetic model shaped as the server sends it: a device and its peers, a
// handshake age counting up with the live tick, a peer that never completed a handshake (its tunnel down
// with the alarm) and an idle one, rates from a delta, and no key material anywhere (the server never
// sends it; the page must not invent a place for it). Then the peers as tunnels: the tunnels page and the wall.
import { test, expect as baseExpect } from './fixtures.ts';
import { fakeHub, onHost, syntheticHost, syntheticTunnel } from './fake-hub.ts';
import { source } from './synthetic.ts';

const expect = baseExpect.configure({ timeout: 20_000 });
const now = () => Date.now();
const b64 = (byte: number) => Buffer.alloc(32, byte).toString('base64');
// What a device's private key and a peer's preshared key would look like: the page must show neither.
const PRIVATE = b64(0xa1);
const PRESHARED = b64(0x5e);
const DEV_PUB = b64(0x11);
const [UP, NEVER, IDLE] = [b64(0x22), b64(0x33), b64(0x44)];

const device = { key: '7', ifindex: 7, name: 'wg0', operState: 'unknown', publicKey: DEV_PUB, listenPort: 51820, fwmark: 0x42, peers: 3 };
const peer = (pub: string, over: Record<string, unknown> = {}) => ({
  key: `7:${pub}`, ifindex: 7, device: 'wg0', publicKey: pub, persistentKeepaliveSeconds: 0, rxBytes: '0', txBytes: '0', allowedIps: ['10.9.0.2/32'], protocolVersion: 1, ...over,
});
const peers = (handshakeAt: number, rx = '1048576') => [
  peer(UP, { endpoint: '192.0.2.2:51821', lastHandshake: handshakeAt, rxBytes: rx, txBytes: '524288', allowedIps: ['10.9.0.2/32', 'fd09::2/128'] }),
  peer(NEVER, { endpoint: '[2001:db8::3]:51999', persistentKeepaliveSeconds: 25, txBytes: '1480', allowedIps: ['10.9.0.3/32'] }),
  peer(IDLE, { lastHandshake: now() - 3600_000, rxBytes: '92', txBytes: '148', allowedIps: ['10.9.0.4/32'] }),
];
const tunnel = (pub: string, over: Record<string, unknown> = {}) =>
  syntheticTunnel(`wg0 peer ${pub.slice(0, 8)}…`, { key: `wireguard:wg0:${pub}`, family: 'wireguard', src: 'wg0', dst: '', current: undefined, countdown: undefined, rotations: 0, lastRotation: undefined, ...over });

function model(handshakeAt: number) {
  return {
    source: [source('wireguard', 'WireGuard (wireguard)')],
    'wg-dev': [device],
    'wg-peer': peers(handshakeAt),
    tunnel: [
      tunnel(UP, { dst: '192.0.2.2:51821', rotations: 4, lastRotation: handshakeAt }),
      tunnel(NEVER, { state: 'down', alarms: ['wg-handshake-stale'] }),
      tunnel(IDLE, { state: 'idle', lastRotation: now() - 3600_000 }),
    ],
    alarm: [{ key: `wg-handshake-stale:tunnel:wireguard:wg0:${NEVER}`, type: 'wg-handshake-stale', severity: 'critical', ref: `tunnel:wireguard:wg0:${NEVER}`, summary: `wg0 peer ${NEVER.slice(0, 8)}…: no handshake ever completed (persistent keepalive every 25 s)`, since: now() - 60_000 }],
    rotation: [{ key: 'wg-r1', family: 'wireguard', tunnel: `wireguard:wg0:${UP}`, tunnelName: `wg0 peer ${UP.slice(0, 8)}…`, time: handshakeAt, cause: 'handshake', state: 'done' }],
  };
}

/** The number in a "N s ago" text. */
const secondsAgo = (t: string | null) => Number(/(\d+) s ago/.exec(t ?? '')?.[1] ?? NaN);

test('WireGuard page: device, peers, handshake age counting live, a never-handshaked peer, rates, no key material', async ({ page }) => {
  const handshakeAt = now() - 12_000;
  const hub = await fakeHub(page, () => model(handshakeAt));
  await page.goto('/wireguard');
  await expect(page.getByRole('link', { name: 'WireGuard' })).toHaveAttribute('aria-current', 'page');

  const dev = page.getByTestId('wg-dev-wg0');
  await expect(dev).toContainText('51820');
  await expect(dev).toContainText('0x42');
  await expect(dev).toContainText(DEV_PUB);

  const up = page.getByTestId(`wg-peer-7:${UP}`);
  await expect(up).toContainText(`${UP.slice(0, 8)}…`);
  await expect(up.getByTitle(UP)).toBeVisible(); // the whole key on hover
  await expect(up).toContainText('192.0.2.2:51821');
  await expect(up).toContainText('10.9.0.2/32, fd09::2/128');
  await expect(up).toContainText('1.00 MiB');
  await expect(up).toContainText('v1');
  await expect(page.getByTestId(`wg-state-7:${UP}`)).toHaveText('up');
  // The age counts up with the live tick, with no message from the server.
  const age = up.locator('time');
  await expect(age).toHaveText(/\d+ s ago/);
  const first = secondsAgo(await age.textContent());
  await expect.poll(async () => secondsAgo(await age.textContent()), { timeout: 10_000 }).toBeGreaterThanOrEqual(first + 2);

  const never = page.getByTestId(`wg-peer-7:${NEVER}`);
  await expect(never.locator('time')).toHaveText('never');
  await expect(never).toContainText('25 s');
  await expect(page.getByTestId(`wg-state-7:${NEVER}`)).toHaveText('never');
  await expect(page.getByTestId(`wg-state-7:${IDLE}`)).toHaveText('idle');

  // Counters move: the rate shows in units per second.
  hub.sendDeltas([{ kind: 'wg-peer', op: 'upsert', key: `7:${UP}`, value: peers(handshakeAt, String(1048576 + 5 * 1024 * 1024))[0] }]);
  await expect(up).toContainText('6.00 MiB');
  await expect(up).toContainText(/\d+(\.\d+)? (KiB|MiB)\/s \/ 0 B\/s/);

  // Sorting by keyboard: the handshake header's button orders the peers by it.
  await page.getByRole('button', { name: 'Last handshake' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('columnheader', { name: 'Last handshake' })).toHaveAttribute('aria-sort', 'ascending');
  await expect(page.getByRole('table', { name: 'WireGuard peers' }).getByRole('row').nth(1)).toHaveAttribute('data-testid', `wg-peer-7:${NEVER}`);

  const html = await page.content();
  for (const secret of [PRIVATE, PRESHARED]) expect(html).not.toContain(secret);
  expect(html).not.toMatch(/preshared/i);
  await page.screenshot({ path: 'test-results/wireguard.png', fullPage: true });
});

test('WireGuard page: no interfaces, and the source not available', async ({ page }) => {
  await fakeHub(page, () => ({ source: [source('wireguard', 'WireGuard (wireguard)', 'not-available', 'family wireguard not found (module not loaded)')], 'wg-dev': [], 'wg-peer': [] }));
  await page.goto('/wireguard');
  await expect(page.getByTestId('source-notice-wireguard')).toContainText('module not loaded');
  await expect(page.getByText('No WireGuard interfaces in this namespace (the wireguard module is not loaded).')).toBeVisible();
  await expect(page.getByText('No peers: no WireGuard interface.')).toBeVisible();
});

test('WireGuard page on a fleet console: the devices and peers of every host with a Host column, one host with ?host=', async ({ page }) => {
  const handshakeAt = now() - 5_000;
  const hosts = ['gw-01', 'gw-02'];
  await fakeHub(page, () => ({
    host: hosts.map((h) => syntheticHost(h)),
    source: hosts.flatMap((h) => onHost(h, [source('wireguard', 'WireGuard (wireguard)')])),
    'wg-dev': hosts.flatMap((h) => onHost(h, [device])), // the same ifindex and key on both hosts
    'wg-peer': hosts.flatMap((h) => onHost(h, peers(handshakeAt))),
    tunnel: [],
  }), { fleet: { hosts: 2 } });
  await page.goto('/wireguard');
  const devs = page.getByRole('table', { name: 'WireGuard devices' });
  await expect(devs.getByRole('row')).toHaveCount(3);
  await expect(devs).toContainText('gw-01');
  await expect(devs).toContainText('gw-02');
  await expect(page.getByTestId(`wg-peer-gw-02/7:${UP}`)).toContainText('gw-02');
  await page.goto('/wireguard?host=gw-02');
  await expect(devs.getByRole('row')).toHaveCount(2);
  await expect(page.getByRole('table', { name: 'WireGuard peers' }).getByRole('row')).toHaveCount(4);
  await expect(page.getByTestId(`wg-peer-gw-01/7:${UP}`)).toHaveCount(0);
});

test('WireGuard peers as tunnels: the public key for an SPI, the handshake as the rotation, on the tunnels page and the wall', async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  const handshakeAt = now() - 30_000;
  await fakeHub(page, () => model(handshakeAt));
  await page.goto('/tunnels');
  const row = page.getByTestId(`tunnel-wireguard:wg0:${UP}`);
  await expect(row).toContainText(`peer ${UP.slice(0, 8)}…`);
  await expect(row).toContainText(/last handshake: \d+ s ago/);
  await expect(page.getByTestId(`tunnel-wireguard:wg0:${NEVER}`)).toContainText('WireGuard handshake stale');
  await expect(page.getByTestId(`tunnel-wireguard:wg0:${IDLE}`)).toContainText('idle');
  const rot = page.getByTestId('rotation-wg-r1');
  await expect(rot).toContainText('new handshake');
  await expect(rot).toContainText('handshake');
  await page.screenshot({ path: 'test-results/wireguard-tunnels.png', fullPage: true });
  // Its page: the peer's whole key where an SA's SPI goes, the last handshake where the rekey countdown goes.
  await row.getByRole('link').click();
  await expect(page.getByTestId('tunnel-header')).toContainText(`Peer${UP}`);
  await expect(page.getByTestId('tunnel-header')).toContainText('last handshake');
  await expect(page.getByTestId('tunnel-rekey')).toHaveText(/\d+ s ago/);

  await page.goto('/wall');
  await expect(page.getByTestId('wall-alarms')).toContainText('WireGuard handshake stale');
  const tile = page.getByTestId('wall-tile').filter({ hasText: UP.slice(0, 8) }).first();
  await expect(tile).toContainText('UP');
  await expect(tile).toContainText('last handshake');
  await expect(tile).toContainText(`${UP.slice(0, 8)}…`);
  // Where an SA's SPI goes: the peer's endpoint (the key is in the name); an idle peer without one says so.
  await expect(tile).toContainText('192.0.2.2:51821');
  await expect(page.getByTestId('wall-tile').filter({ hasText: 'IDLE' })).toHaveCount(1);
  await expect(page.getByTestId('wall-tile').filter({ hasText: 'IDLE' })).toContainText('no endpoint');
  await expect(page.getByTestId('wall-ticker')).toContainText('(handshake)');
  await page.screenshot({ path: 'test-results/wireguard-wall.png' });
});
