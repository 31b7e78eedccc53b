// The PF_KEY source under key-manager churn (strongSwan rekeys, seen in the lab): an event names an SA,
// the SADB_GET that follows it finds nothing. None of that makes the source stale:
//  - deleted since: UPDATE, GET → ESRCH, then the DELETE broadcast → the SA is simply not there;
//  - a refused user request: the request (promiscuous copy), GET → ESRCH, then its error echo;
//  - an SA SADB_GET cannot reach (a marked SA: in the dump, GET looks up with mark 0) → one quiet re-dump.
// The fake kernel answers DUMP, SPDDUMP and GET from its own table, as af_key.c does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeSadbMessage, type SadbMessage } from '../../../server/families/pfkey/message.ts';
import { SADB, SATYPE } from '../../../server/families/pfkey/spec.ts';
import { MISSED_GET_GRACE_MS, PfkeySource } from '../../../server/families/pfkey/source.ts';
import { Model } from '../../../server/model/model.ts';
import { AF_INET } from '../../../server/sys/libc.ts';
import type { Logger } from '../../../server/log.ts';
import { fakePfkeyTransport, fakePromiscSocket, reply } from './fake.ts';

const quiet = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;
const v4 = (address: string) => ({ family: AF_INET, address, port: 0, proto: 0, prefixlen: 32 });
const ESRCH = 3;

/** The SA extensions of spi as the kernel would send them (reqid tells versions apart). */
const saExt = (spi: number, reqid = 1) => ({
  sa: { spi, replay: 32, state: 1, auth: 5, encrypt: 12, flags: 0 },
  addressSrc: v4('10.0.0.1'), addressDst: v4('10.0.0.2'), sa2: { mode: 2, sequence: 0, reqid },
});

function fakeKernel() {
  const sad = new Map<number, number>(); // spi → reqid
  const marked = new Set<number>(); // in the dump, never found by GET
  const failing = new Set<number>(); // GET fails with EINVAL (a lookup that fails otherwise than "not found")
  const kernel = (req: SadbMessage): Buffer[] => {
    switch (req.header.type) {
      case SADB.DUMP: {
        const spis = [...sad.keys()];
        if (!spis.length) return [reply(req, { errno: 2 })];
        return spis.map((spi, i) => reply(req, { seq: i === spis.length - 1 ? 0 : i + 1, satype: SATYPE.ESP }, saExt(spi, sad.get(spi))));
      }
      case SADB.X_SPDDUMP:
        return [reply(req, { errno: 2 })];
      case SADB.GET: {
        const spi = req.ext.sa!.spi;
        if (failing.has(spi)) return [reply(req, { errno: 22 })];
        return sad.has(spi) && !marked.has(spi) ? [reply(req, { satype: SATYPE.ESP }, saExt(spi, sad.get(spi)))] : [reply(req, { errno: ESRCH })];
      }
      default:
        return [reply(req, { errno: 95 })];
    }
  };
  return { sad, marked, failing, kernel };
}

/** A kernel broadcast (or a user's request, as a promiscuous socket sees it) about spi. */
const event = (type: number, spi: number, seq: number, extra: Partial<SadbMessage['header']> = {}) =>
  encodeSadbMessage({ type, satype: SATYPE.ESP, seq, pid: 4242, ...extra }, saExt(spi));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls until cond holds (a loaded machine runs timers late), at most 10 s. */
async function until(what: string, cond: () => boolean): Promise<void> {
  for (const t0 = Date.now(); !cond(); await sleep(20)) if (Date.now() - t0 > 10_000) assert.fail(`timed out waiting for ${what}`);
}

async function started() {
  const k = fakeKernel();
  k.sad.set(0x10, 1);
  const model = new Model();
  const states: string[] = [];
  model.onChange((c) => {
    if (c.kind === 'source' && c.key === 'pfkey' && c.op === 'upsert') states.push((c.value as { state: string }).state);
  });
  const transport = fakePfkeyTransport(k.kernel);
  const promisc = fakePromiscSocket();
  const src = new PfkeySource(model, quiet, { transport, promiscSocket: promisc, pid: 99, readRegister: async () => [] });
  await src.start();
  assert.equal(src.status.state, 'ok');
  states.length = 0;
  const dumps = () => transport.requests.filter((r) => r.header.type === SADB.DUMP).length;
  const keys = () => model.list('pfkey-sa').map((s) => (s as { key: string }).key).sort();
  return { ...k, model, states, promisc, src, dumps, keys };
}

const key = (spi: number) => `esp/10.0.0.2/0x${spi.toString(16).padStart(8, '0')}`;

test('UPDATE, the SA deleted before the GET, then its DELETE: no resync, no dump, the source stays ok', async () => {
  const t = await started();
  // strongSwan: UPDSA of the new inbound SA (the broadcast), and before our GET the daemon deletes it
  // again (a rekey collision's redundant CHILD_SA); its DELETE broadcast comes after the GET's ESRCH.
  t.promisc.inject(event(SADB.UPDATE, 0x20, 1));
  await sleep(20);
  t.promisc.inject(event(SADB.DELETE, 0x20, 2));
  await until('the miss settled', () => t.src.getMisses.explained + t.src.getMisses.redumps > 0);
  await sleep(100);
  assert.deepEqual(t.keys(), [key(0x10)]);
  assert.equal(t.dumps(), 1, 'only the start-up dump');
  assert.deepEqual(t.src.getMisses, { explained: 1, redumps: 0 });
  assert.ok(t.states.every((s) => s === 'ok'), `states: ${t.states.join()}`);
  assert.equal(t.src.status.resyncs, 0);
  assert.ok(!t.model.list('event').some((e) => (e as { type: string }).type === 'resync'));
  t.src.stop();
});

test('a user request the kernel refuses (promiscuous copy, GET misses, error echo): nothing to re-read', async () => {
  const t = await started();
  t.promisc.inject(event(SADB.UPDATE, 0x30, 7, { pid: 555 })); // the user's request, as sent
  await sleep(20);
  t.promisc.inject(encodeSadbMessage({ type: SADB.UPDATE, satype: SATYPE.ESP, seq: 7, pid: 555, errno: ESRCH })); // pfkey_error
  await until('the miss settled', () => t.src.getMisses.explained + t.src.getMisses.redumps > 0);
  await sleep(100);
  assert.equal(t.dumps(), 1);
  assert.deepEqual(t.src.getMisses, { explained: 1, redumps: 0 });
  assert.deepEqual(t.keys(), [key(0x10)]);
  assert.ok(t.states.every((s) => s === 'ok'), `states: ${t.states.join()}`);
  const types = t.model.list('event').map((e) => (e as { type: string }).type);
  assert.deepEqual(types.slice(-2), ['SADB_UPDATE', 'SADB_UPDATE failed: ESRCH']);
  t.src.stop();
});

test('an SA GET cannot reach (marked) and nothing deletes it: one quiet re-dump, the source stays ok', async () => {
  const t = await started();
  t.sad.set(0x40, 9);
  t.marked.add(0x40);
  // Two events in a burst (ADD, then UPDATE): one re-dump after the grace period, not one per miss.
  t.promisc.inject(event(SADB.ADD, 0x40, 3));
  t.promisc.inject(event(SADB.UPDATE, 0x40, 4));
  await sleep(20);
  assert.equal(t.dumps(), 1, 'no dump before the grace period');
  await until('the re-dump', () => t.keys().includes(key(0x40)));
  await sleep(MISSED_GET_GRACE_MS + 100);
  assert.equal(t.dumps(), 2, 'one quiet re-dump');
  assert.deepEqual(t.src.getMisses, { explained: 0, redumps: 1 });
  assert.deepEqual(t.keys(), [key(0x10), key(0x40)]);
  assert.equal((t.model.get('pfkey-sa', key(0x40)) as { reqid: number }).reqid, 9, "the kernel's dump, not the event");
  assert.ok(t.states.every((s) => s === 'ok'), `states: ${t.states.join()}`);
  assert.equal(t.src.status.resyncs, 0);
  t.src.stop();
});

test('churn: ADD/UPDATE/DELETE interleaved over many SPIs ends with the table the kernel has, always ok', async () => {
  const t = await started();
  let seq = 100;
  for (let round = 0; round < 20; round++) {
    const spi = 0x100 + round;
    // new SA in, seen by its UPDATE; every other one deleted before our GET gets to it
    t.sad.set(spi, 2);
    t.promisc.inject(event(SADB.UPDATE, spi, seq++));
    if (round % 2) {
      t.sad.delete(spi);
      t.promisc.inject(event(SADB.DELETE, spi, seq++));
    }
    // the previous round's SA goes (rekey: the old pair deleted)
    if (round > 0 && !(round % 2) && t.sad.delete(spi - 2)) t.promisc.inject(event(SADB.DELETE, spi - 2, seq++));
  }
  const expected = [...t.sad.keys()].map(key).sort();
  await until('the table the kernel has', () => JSON.stringify(t.keys()) === JSON.stringify(expected));
  await sleep(MISSED_GET_GRACE_MS + 100);
  assert.deepEqual(t.keys(), expected);
  assert.equal(t.dumps(), 1);
  assert.equal(t.src.getMisses.redumps, 0);
  assert.ok(t.states.every((s) => s === 'ok'), `states: ${t.states.join()}`);
  t.src.stop();
});

test('an EXPIRE and a DELETE for one SA in one read: the DELETE decides, the SA leaves the table', async () => {
  const t = await started();
  t.sad.set(0x50, 1);
  t.promisc.inject(event(SADB.ADD, 0x50, 1));
  await until('the SA in the table', () => t.keys().includes(key(0x50)));
  // soft EXPIRE (the daemon rekeys) and the old SA's DELETE, read in one drain of the socket
  t.sad.delete(0x50);
  t.promisc.inject(encodeSadbMessage({ type: SADB.EXPIRE, satype: SATYPE.ESP, seq: 0, pid: 0 }, { ...saExt(0x50), lifetimeSoft: { allocations: 0, bytes: 0n, addtime: 20n, usetime: 0n } }));
  t.promisc.inject(event(SADB.DELETE, 0x50, 2));
  await until('the SA gone', () => !t.keys().includes(key(0x50)));
  await sleep(MISSED_GET_GRACE_MS + 100);
  assert.deepEqual(t.keys(), [key(0x10)]);
  assert.equal(t.dumps(), 1);
  assert.ok(t.states.every((s) => s === 'ok'), `states: ${t.states.join()}`);
  t.src.stop();
});

test('a lookup that fails otherwise than "not found" (EINVAL) is no decode error: one quiet re-dump brings the SA', async () => {
  const t = await started();
  t.sad.set(0x50, 4);
  t.failing.add(0x50);
  t.promisc.inject(event(SADB.ADD, 0x50, 11));
  await until('the re-dump', () => t.keys().includes(key(0x50)));
  assert.equal(t.src.status.decodeErrors, 0, 'not counted as a decode error');
  assert.equal(t.src.lookupFailures, 1);
  assert.equal(t.dumps(), 2, 'the start-up dump and one quiet re-dump');
  assert.ok(t.states.every((s) => s === 'ok'), `states: ${t.states.join()}`);
  t.src.stop();
});

test('after stop() + start() (the retry once af_key is back) an unexplained miss still gets its quiet re-dump', async () => {
  const t = await started();
  t.sad.set(0x40, 9);
  t.marked.add(0x40);
  t.promisc.inject(event(SADB.ADD, 0x40, 3));
  await sleep(50); // the GET missed: its grace timer runs
  t.src.stop();
  await t.src.start();
  assert.equal(t.src.status.state, 'ok');
  assert.equal(t.dumps(), 2, 'the start-up dump and the restart’s');
  t.sad.set(0x41, 9);
  t.marked.add(0x41);
  t.promisc.inject(event(SADB.ADD, 0x41, 4));
  await until('the re-dump', () => t.keys().includes(key(0x41)));
  assert.equal(t.dumps(), 3);
  t.src.stop();
});
