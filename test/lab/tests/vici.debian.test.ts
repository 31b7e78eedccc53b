// The vici source against a real charon (Debian's strongSwan 5.9.8, the lab's strongSwan pair, side a):
// its connection, IKE SA and CHILD SA rows match what `swanctl --list-sas` / `--list-conns` say (names,
// unique ids, states, IKE SPIs, CHILD SPIs and reqids), and the CHILD SPIs are the kernel's XFRM SAs
// (`ip xfrm state`); after a rekey through swanctl the rows follow; charon killed → the source says so
// (stale / not available) and, charon started again, reconnects by itself and reads the new SAs; the PSK
// is in no row.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../../server/model/model.ts';
import { createLogger } from '../../../server/log.ts';
import { ViciSource } from '../../../server/families/vici/source.ts';
import { ViciActions } from '../../../server/families/vici/actions.ts';
import type { EntityKinds } from '../../../server/wire/protocol.ts';
import { cleanupAll, netnsPair, requireLab, sh, strongswanPair, waitFor, type StrongswanPair } from '../scenarios/index.ts';

type Ike = EntityKinds['vici-ike'];
type Child = EntityKinds['vici-child'];

let pair: StrongswanPair | undefined;
let source: ViciSource | undefined;
const model = new Model();

before(async () => {
  requireLab();
  await cleanupAll();
  await netnsPair();
  // rekeys every 300 s: nothing changes under the comparison but what the test does
  // no traffic: pings would make the initiator's trap policies start SAs of their own while the pair restarts
  pair = await strongswanPair({ rekeySeconds: 300, traffic: false });
});
after(async () => {
  source?.stop();
  await pair?.down();
  await cleanupAll();
});

const socketOf = (p: StrongswanPair) => p.vici.a.slice('unix://'.length);

/** One line per SA as swanctl --list-sas prints it: "ike lab #1 ESTABLISHED <spi_i> <spi_r>", "child net #3 reqid 1 INSTALLED <in> <out>". */
function swanctlView(text: string): string[] {
  const out: string[] = [];
  let child: string[] | undefined;
  for (const line of text.split('\n')) {
    const ike = /^(\S+): #(\d+), (\w+), IKEv\d, ([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r/.exec(line);
    if (ike) out.push(`ike ${ike[1]} #${ike[2]} ${ike[3]} ${ike[4]} ${ike[5]}`);
    const c = /^ {2}(\S+): #(\d+), reqid (\d+), (\w+),/.exec(line);
    if (c) child = [`child ${c[1]} #${c[2]} reqid ${c[3]} ${c[4]}`];
    const spi = /^ {4}(in|out) +([0-9a-f]{8})/.exec(line);
    if (spi && child) {
      child.push(spi[2]!);
      if (spi[1] === 'out') (out.push(child.join(' ')), (child = undefined));
    }
  }
  return out.sort();
}

function sourceView(): string[] {
  const ikes = (model.list('vici-ike') as Ike[]).map((i) => `ike ${i.name} #${i.uniqueId} ${i.state} ${i.initiatorSpi} ${i.responderSpi}`);
  const children = (model.list('vici-child') as Child[]).map((c) => `child ${c.name} #${c.uniqueId} reqid ${c.reqid} ${c.state} ${c.spiIn} ${c.spiOut}`);
  return [...ikes, ...children].sort();
}

/** The source's rows and swanctl's listing agree (read around each other until one reading of both matches). */
async function matchesSwanctl(what: string): Promise<string[]> {
  let last = '';
  try {
    return await waitFor(`${what}: the vici rows match swanctl --list-sas`, async () => {
      const mine = sourceView();
      const theirs = swanctlView(await pair!.swanctl('a', '--list-sas'));
      last = JSON.stringify({ mine, theirs });
      return mine.length > 0 && JSON.stringify(mine) === JSON.stringify(theirs) && JSON.stringify(sourceView()) === JSON.stringify(mine) ? mine : undefined;
    }, 30_000, 500);
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}; last reading: ${last}`);
  }
}

test('the vici source reads charon 5.9.8: the connection, its IKE and CHILD SAs as swanctl lists them, SPIs in the kernel', async () => {
  source = new ViciSource(model, createLogger('silent'), { socketPath: socketOf(pair!), refreshMs: 2000, reconnectMinMs: 200, reconnectMaxMs: 1000 });
  await source.start();
  assert.equal(source.status.state, 'ok', source.status.reason);
  assert.equal(source.status.reason, 'charon 5.9.8; events this version does not have: alert');
  const rows = await matchesSwanctl('first read');
  assert.equal(rows.filter((r) => r.startsWith('ike lab ')).length, 1, rows.join('\n'));
  assert.deepEqual((model.list('vici-child') as Child[]).map((c) => c.name).sort(), ['host', 'net']);
  const conn = model.get('vici-conn', 'lab') as EntityKinds['vici-conn'];
  assert.deepEqual([conn.localAddrs, conn.remoteAddrs, conn.children.map((c) => c.name)], [['10.0.0.1'], ['10.0.0.2'], ['net', 'host']]);
  assert.equal(conn.local[0]?.class, 'pre-shared key');
  const states = await sh('ip xfrm state', { ns: 'lab-a' });
  for (const c of model.list('vici-child') as Child[]) {
    for (const spi of [c.spiIn, c.spiOut]) assert.match(states, new RegExp(`spi 0x${spi} reqid ${c.reqid} `), `${c.name} SPI ${spi} is an XFRM SA`);
  }
});

test('a CHILD rekey and an IKE rekey through swanctl: the rows follow the events', async () => {
  const before = (model.list('vici-child') as Child[]).find((c) => c.name === 'net')!;
  const ike = (model.list('vici-ike') as Ike[])[0]!;
  await pair!.swanctl('a', '--rekey --child net');
  await waitFor('net rekeyed', async () => (model.list('vici-child') as Child[]).some((c) => c.name === 'net' && c.uniqueId !== before.uniqueId && c.state === 'INSTALLED'));
  await pair!.swanctl('a', '--rekey --ike lab');
  await waitFor('IKE SA rekeyed', async () => (model.list('vici-ike') as Ike[]).some((i) => i.uniqueId !== ike.uniqueId && i.state === 'ESTABLISHED'));
  await matchesSwanctl('after the rekeys');
  // The old CHILD SA may linger (REKEYED, DELETING) until charon deletes it; no updown tells that: the re-read does.
  await waitFor('the old CHILD SA gone', async () => !(model.list('vici-child') as Child[]).some((c) => c.uniqueId === before.uniqueId));
  await matchesSwanctl('after the old SAs went');
  const events = (model.list('event') as Array<{ source: string; type: string }>).filter((e) => e.source === 'vici').map((e) => e.type);
  assert.ok(events.includes('child-rekey') && events.includes('ike-rekey'), events.join(' '));
});

test("operator actions on charon: terminate a CHILD SA (its XFRM SAs go), initiate it (new ones come), rekey one (its SPIs rotate); each recorded with charon's lines", async () => {
  const actions = new ViciActions(model, { socketPath: socketOf(pair!), timeoutMs: 30_000, rekeyLogMs: 2000, ikeOfChild: (id) => (model.get('vici-child', String(id)) as Child | undefined)?.ikeUniqueId });
  const xfrm = () => sh('ip xfrm state', { ns: 'lab-a' });
  const child = (name: string) => (model.list('vici-child') as Child[]).find((c) => c.name === name && c.state === 'INSTALLED');
  const host = child('host')!;
  const t = actions.start('terminate', { childId: host.uniqueId }, 'lab-operator');
  assert.ok(t.started);
  const refused = actions.start('rekey', { childId: host.uniqueId }, 'someone');
  assert.equal(refused.started, false, 'a second action on the same SA is refused');
  const terminated = await t.done;
  assert.equal(terminated.result, 'ok', terminated.error);
  assert.ok(terminated.log.some((l) => /closing CHILD_SA host/.test(l)), terminated.log.join('\n'));
  await waitFor('its XFRM SAs gone', async () => !new RegExp(`spi 0x${host.spiIn} `).test(await xfrm()) || undefined);
  const initiated = await (actions.start('initiate', { conn: 'lab', child: 'host' }, 'lab-operator') as { done: Promise<{ result: string; log: string[]; error?: string }> }).done;
  assert.equal(initiated.result, 'ok', initiated.error);
  const again = await waitFor('host up again', async () => child('host'));
  assert.notEqual(again.spiIn, host.spiIn);
  assert.match(await xfrm(), new RegExp(`spi 0x${again.spiIn} `));
  const net = child('net')!;
  const rekeyed = await (actions.start('rekey', { childId: net.uniqueId }, 'lab-operator') as { done: Promise<{ result: string; log: string[]; error?: string }> }).done;
  assert.equal(rekeyed.result, 'ok', rekeyed.error);
  const rotated = await waitFor('net rekeyed', async () => (model.list('vici-child') as Child[]).find((c) => c.name === 'net' && c.uniqueId !== net.uniqueId && c.state === 'INSTALLED'));
  await waitFor('the new SPI in the kernel, the old one gone', async () => {
    const s = await xfrm();
    return (new RegExp(`spi 0x${rotated.spiIn} `).test(s) && !new RegExp(`spi 0x${net.spiIn} `).test(s)) || undefined;
  });
  const audit = model.list('vici-action') as Array<{ action: string; result: string; by: string; log: string[] }>;
  assert.deepEqual(audit.map((a) => `${a.action} ${a.result} ${a.by}`), ['terminate ok lab-operator', 'initiate ok lab-operator', 'rekey ok lab-operator']);
  assert.ok(!JSON.stringify(audit).toLowerCase().includes(pair!.psk.toLowerCase()), 'the PSK is in no action row');
});

test('charon killed: the source says so; charon started again: it reconnects and reads the new SAs', async () => {
  await sh(`kill $(cat ${pair!.runDirs.a}/charon.pid)`);
  await waitFor('the source notices', async () => source!.status.state !== 'ok' || undefined, 30_000, 100);
  assert.match(source!.status.reason ?? '', /charon closed the connection|ENOENT|ECONNREFUSED/);
  const firstPsk = pair!.psk;
  // both charons again, new unique ids and SPIs
  await pair!.down();
  pair = await strongswanPair({ rekeySeconds: 300, traffic: false });
  await waitFor('ok again', async () => source!.status.state === 'ok' || undefined, 60_000);
  await matchesSwanctl('after charon restarted');
  const json = JSON.stringify(model.entities(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
  for (const psk of [firstPsk, pair!.psk]) assert.ok(!json.toLowerCase().includes(psk.toLowerCase()), 'the PSK is in no row');
});
