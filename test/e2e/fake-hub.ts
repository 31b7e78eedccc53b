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

/** Route /ws to a fake hub that answers every connection with a snapshot of entities(). */
export async function fakeHub(page: Page, entities: () => Record<string, unknown[]>): Promise<FakeHub> {
  let ws: WebSocketRoute | undefined;
  let seq = 100;
  await page.routeWebSocket(/\/ws/, (route) => {
    ws = route;
    route.onMessage(() => undefined);
    route.send(JSON.stringify({ type: 'snapshot', seq, time: now(), server: { version: 'test', hostname: 'gw-test', netns: 'self' }, entities: { source: [], link: [], policy: [], event: [], ...entities() } }));
  });
  return {
    current: () => ws,
    sendDeltas(deltas) {
      const d = deltas.map((x) => ({ seq: ++seq, ...(x as object) }));
      ws?.send(JSON.stringify({ type: 'deltas', time: now(), deltas: d }));
    },
  };
}
