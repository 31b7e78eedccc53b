// Synthetic models for the wall and SA specs: the page's WebSocket is routed by Playwright to a fake
// hub that sends a snapshot and then the deltas a spec chooses. The page itself is the production build.
import type { Page, WebSocketRoute } from '@playwright/test';
import { saKey } from '../../server/wire/xfrm.ts';

const INF = '18446744073709551615';
const now = () => Date.now();

export function syntheticSa(i: number, over: Record<string, unknown> = {}) {
  const spi = (0xc1000000 + i) >>> 0;
  const dst = `192.0.2.${i}`;
  return {
    key: saKey('inet', 'esp', dst, spi),
    src: '192.0.2.1',
    dst,
    spi,
    proto: 'esp',
    family: 'inet',
    mode: 'tunnel',
    reqid: 100 + i,
    seq: 0,
    replayWindow: 32,
    flags: ['af-unspec'],
    dir: 'out',
    selector: { family: 'inet', src: '10.0.0.0/24', dst: '10.1.0.0/24', sport: 0, sportMask: 0, dport: 0, dportMask: 0, proto: 'any', ifindex: 0, user: 0 },
    lifetime: {
      config: { softByteLimit: '1000000', hardByteLimit: '2000000', softPacketLimit: INF, hardPacketLimit: INF, softAddExpiresSeconds: '600', hardAddExpiresSeconds: '900', softUseExpiresSeconds: '0', hardUseExpiresSeconds: '0' },
      current: { bytes: '250000', packets: '250', addTime: String(Math.floor(now() / 1000) - 60), useTime: String(Math.floor(now() / 1000) - 50) },
    },
    stats: { replayWindow: 0, replay: 0, integrityFailed: 0 },
    aead: { name: 'rfc4106(gcm(aes))', keyBits: 160, icvBits: 128, fingerprint: 'ab12cd34' },
    antiReplay: { esn: false, seq: 0, oseq: 1 << 30, bitmap: 0 },
    ...over,
  };
}

export function syntheticTunnel(name: string, over: Record<string, unknown> = {}) {
  return {
    key: `xfrm:esp:${name}`,
    family: 'xfrm',
    name,
    src: '192.0.2.1',
    dst: '192.0.2.2',
    proto: 'esp',
    reqid: 1,
    policies: [],
    state: 'up',
    sas: [],
    current: { sa: 'x', spi: 0xc0ffee01, addedAt: now() - 5000, fingerprint: 'ab12cd34', algorithm: 'rfc4106(gcm(aes)) 160b' },
    firstSeen: now() - 3600_000,
    bytes: '123456789',
    packets: '123456',
    integrityFailed: 0,
    replayFailed: 0,
    replayWindowFailed: 0,
    rotations: 3,
    lastRotation: now() - 20_000,
    countdown: { softExpiresAt: now() + 125_000, hardExpiresAt: now() + 300_000, softBasis: 'add', hardBasis: 'add' },
    alarms: [],
    ...over,
  };
}

export interface FakeHub {
  current(): WebSocketRoute | undefined;
  sendDeltas(deltas: unknown[]): void;
}

/** Route /ws to a fake hub that answers every connection with a snapshot of entities() (`server` adds to the snapshot's, e.g. `fleet`). */
export async function fakeHub(page: Page, entities: () => Record<string, unknown[]>, server: Record<string, unknown> = {}): Promise<FakeHub> {
  let ws: WebSocketRoute | undefined;
  let seq = 100;
  await page.routeWebSocket(/\/ws/, (route) => {
    ws = route;
    route.onMessage(() => undefined);
    route.send(JSON.stringify({ type: 'snapshot', seq, time: now(), server: { version: 'test', hostname: 'gw-test', netns: 'self', ...server }, entities: { source: [], link: [], policy: [], event: [], ...entities() } }));
  });
  return {
    current: () => ws,
    sendDeltas(deltas) {
      const d = deltas.map((x) => ({ seq: ++seq, ...(x as object) }));
      ws?.send(JSON.stringify({ type: 'deltas', time: now(), deltas: d }));
    },
  };
}

/** Rows of one host as the fleet console serves them: `host` on each, keys "<host>/<its key on the agent>". */
export function onHost<R extends { key: string }>(host: string, rows: R[]): Array<R & { host: string }> {
  return rows.map((r) => ({ ...r, host, key: `${host}/${r.key}` }));
}

export function syntheticHost(name: string, over: Record<string, unknown> = {}) {
  return { key: name, host: name, state: 'up', lastSeen: now() - 1000, since: now() - 3600_000, proto: 1, agentVersion: '0.1.0', boot: '0123456789abcdef', seq: 42, counts: { sa: 0, tunnel: 0, alarm: 0, policy: 0 }, sourcesNotOk: [], dropped: 0, ...over };
}

/**
 * A fleet console's model: `hosts` hosts (gw-01 …) with `tunnels` tunnels each (tunnel i of a host rides
 * SA i, SPIs unique across the fleet). `stale` hosts stopped reporting 45 s ago (the console's host-stale
 * alarm with them); `alarmed` tunnels ("gw-02/t03") are down with a hard-expired alarm. Each host's first
 * tunnel has rotated once.
 */
export function syntheticFleet(hosts: number, tunnels: number, opts: { stale?: string[]; alarmed?: string[] } = {}) {
  const e: Record<string, unknown[]> = { host: [], tunnel: [], sa: [], alarm: [], rotation: [], source: [] };
  for (let h = 1; h <= hosts; h++) {
    const host = `gw-${String(h).padStart(2, '0')}`;
    const stale = opts.stale?.includes(host);
    const ts = Array.from({ length: tunnels }, (_, i) => {
      const name = `t${String(i + 1).padStart(2, '0')}`;
      const down = opts.alarmed?.includes(`${host}/${name}`);
      return syntheticTunnel(`${host} → peer-${name} esp reqid ${i + 1}`, { key: `xfrm:esp:${name}`, current: { sa: 'x', spi: (0xc1000000 + h * 1000 + i) >>> 0, addedAt: now() - 5000, fingerprint: 'ab12cd34', algorithm: 'rfc4106(gcm(aes)) 160b' }, ...(down ? { state: 'down', alarms: ['hard-expired'] } : {}) });
    });
    const sas = Array.from({ length: tunnels }, (_, i) => syntheticSa(h * 1000 + i, { src: `198.51.${h}.1` }));
    const alarms = [
      ...ts.filter((t) => t.alarms.length).map((t) => ({ key: `hard-expired:tunnel:${t.key}`, type: 'hard-expired', severity: 'critical', ref: `tunnel:${t.key}`, summary: `${t.name}: SA hard-expired, no replacement`, since: now() - 60_000 })),
    ];
    e.rotation!.push(...onHost(host, [{ key: 'r1', family: 'xfrm', tunnel: ts[0]!.key, tunnelName: ts[0]!.name, time: now() - 30_000, cause: 'soft-expire', oldSpi: 1, newSpi: ts[0]!.current.spi, state: 'done' }]));
    e.tunnel!.push(...onHost(host, ts));
    e.sa!.push(...onHost(host, sas));
    e.alarm!.push(...onHost(host, alarms));
    e.source!.push(...onHost(host, [{ key: 'xfrm-sa', id: 'xfrm-sa', label: 'XFRM SAs', state: 'ok', since: now() - 60_000, resyncs: 0, decodeErrors: 0 }]));
    const lastSeen = stale ? now() - 45_000 : now() - 1000;
    if (stale) e.alarm!.push({ key: `${host}/host`, host, type: 'host-stale', severity: 'warning', ref: `host:${host}`, summary: `${host}: no heartbeat for 45 s`, since: lastSeen + 20_000 });
    e.host!.push(syntheticHost(host, { state: stale ? 'stale' : 'up', lastSeen, counts: { sa: sas.length, tunnel: ts.length, alarm: alarms.length, policy: 0 }, ...(stale ? { sourcesNotOk: ['xfrm-sa'] } : {}) }));
  }
  return e;
}
