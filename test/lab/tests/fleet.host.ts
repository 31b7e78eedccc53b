// Host part of fleet.debian.test.ts (run by the lab runner on the host when the guest test asks): the fleet
// console `sascope serve --fleet` reads the VM's nats-server through the lab's forward of its port 4222
// (SASCOPE_LAB_FORWARD_4222, a loopback port here); a WebSocket client of the console must see host `lab`
// up with its xfrm tunnels (keys `lab/…`), then a rotation of one of them made by a strongSwan rekey after
// the client connected. Exit 0 when both were seen, else 1 with what was missing.
import assert from 'node:assert/strict';
import { LiveClient, startServer, type RunningServer } from '../../helpers.ts';
import type { Delta, EntityKind } from '../../../server/wire/protocol.ts';

const forward = process.env.SASCOPE_LAB_FORWARD_4222;
type Row = Record<string, unknown>;

/** What the client holds: the snapshot, then every delta applied. */
function rows(c: LiveClient, kind: EntityKind): Row[] {
  const t = new Map<string, Row>();
  for (const { msg } of c.messages) {
    if (msg.type === 'snapshot') {
      t.clear();
      for (const r of (msg.entities[kind] ?? []) as unknown as Row[]) t.set(String(r['key']), r);
    } else if (msg.type === 'deltas') {
      for (const d of msg.deltas as Delta[]) {
        if (d.kind !== kind) continue;
        if (d.op === 'upsert') t.set(d.key, d.value as unknown as Row);
        else if (d.op === 'remove') t.delete(d.key);
        else t.clear();
      }
    }
  }
  return [...t.values()];
}

async function until<T>(what: string, fn: () => T | undefined, ms: number, c: LiveClient): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms / 1000} s; hosts: ${JSON.stringify(rows(c, 'host'))}`);
    await c.waitForDelta(() => false, 500).catch(() => undefined);
  }
}

let console_: RunningServer | undefined;
let status = 1;
const t0 = Date.now();
try {
  assert.ok(forward, 'SASCOPE_LAB_FORWARD_4222 not set: run through `npm run test:lab -- fleet` (the guest test asks for this part)');
  console_ = await startServer({ ui: false, args: ['--fleet', `nats://${forward}`] });
  const c = new LiveClient(console_.url);
  await c.opened();
  const tunnels = await until('host lab up with xfrm tunnels', () => {
    const host = rows(c, 'host').find((h) => h['key'] === 'lab');
    const ts = rows(c, 'tunnel').filter((t) => t['host'] === 'lab' && t['family'] === 'xfrm');
    return host?.['state'] === 'up' && ts.length && ts.every((t) => String(t['key']).startsWith('lab/')) ? ts : undefined;
  }, 300_000, c);
  console.log(`fleet console: host lab up with ${tunnels.length} xfrm tunnel(s) (${tunnels.map((t) => t['name'] ?? t['key']).join(', ')}) after ${Math.round((Date.now() - t0) / 1000)} s`);
  const since = Date.now();
  const before = new Set(rows(c, 'rotation').map((r) => r['key']));
  const rotation = await until('a rotation of host lab after the client connected', () => rows(c, 'rotation').find((r) => r['host'] === 'lab' && !before.has(r['key']) && r['family'] === 'xfrm'), 180_000, c);
  console.log(`fleet console: rotation ${String(rotation['key'])} of tunnel ${String(rotation['tunnel'])} (spi ${Number(rotation['oldSpi']).toString(16)} → ${Number(rotation['newSpi']).toString(16)}, cause ${String(rotation['cause'])}) ${Math.round((Date.now() - since) / 1000)} s after the tunnels showed`);
  assert.ok(tunnels.some((t) => `lab/${String(rotation['tunnel'])}` === t['key']), 'the rotation names one of the tunnels shown (its reference keeps the agent\'s key)');
  c.close();
  status = 0;
} catch (err) {
  console.error(`fleet host part FAILED: ${err instanceof Error ? err.message : String(err)}`);
  if (console_) console.error(`console output:\n${console_.output().slice(-3000)}`);
} finally {
  await console_?.stop();
}
process.exit(status);
