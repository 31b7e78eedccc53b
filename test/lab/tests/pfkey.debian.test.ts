// PF_KEY v2 acceptance against Debian's 7.2 kernel (af_key), with XFRM and a raw Python PF_KEY dump
// (test/lab/scenarios/pfkey_dump.py) as the independent views:
// - the SA zoo: sascope's PF_KEY dump lists the same SAs as the Python dump, and the cross-check says
//   'agree' for every SA PF_KEY can represent and 'not-representable' with a reason for the others;
// - an SA added by a helper process through PF_KEY SADB_ADD (written with the product's own encoder)
//   appears in both views, and its PROMISC event reaches a WebSocket client within 5 s (the latency is
//   printed; 100 ms is the goal on real hardware, not asserted under emulation);
// - PROMISC: ADD, UPDATE, DELETE (a PF_KEY user's and the kernel's), EXPIRE soft and hard, ACQUIRE,
//   X_SPDADD, X_SPDDELETE, FLUSH and X_SPDFLUSH, caused by ip (XFRM) and a PF_KEY helper, each reach the
//   event log on the WebSocket;
// - strongSwan rekeys (charon's own and swanctl --rekey): the PF_KEY source stays ok throughout (a GET
//   that finds nothing after an event is not a loss), and afterwards PF_KEY = XFRM = a raw PF_KEY dump.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { LiveClient, getJson, projectRoot, startServer, type RunningServer } from '../../helpers.ts';
import { cleanupAll, netnsPair, pfkeyDump, saZoo, sh, sleep, strongswanPair, waitFor, type ZooSA } from '../scenarios/index.ts';
import { decodeSadbMessage } from '../../../server/families/pfkey/message.ts';
import { saKey } from '../../../server/wire/xfrm.ts';

const RUN = process.env.LAB_RUN ?? '/tmp/sascope-lab';
const DATA = path.join(RUN, 'sascope-data-pfkey');
const NS = 'lab-a';

interface Check { key: string; status: string; reason?: string; differences: Array<{ field: string; xfrm: string; pfkey: string }> }
interface Snap {
  sas: Array<{ key: string; spi: number; proto: string | number; dst: string }>;
  sources: Array<{ id: string; state: string; reason?: string }>;
  pfkey: { sas: Array<{ key: string; spi: number }>; policies: unknown[]; checks: Check[] };
}

function snapshot(): Snap {
  return JSON.parse(execFileSync(process.execPath, [path.join(projectRoot, 'server/bin.mjs'), 'snapshot', '--json', '--netns', NS, '--data-dir', DATA], { encoding: 'utf8', maxBuffer: 256 << 20 }));
}

const hex = (n: number) => execFileSync('od', ['-An', '-tx1', `-N${n}`, '/dev/urandom'], { encoding: 'utf8' }).replace(/\s/g, '');

let zoo: ZooSA[] = [];
let server: RunningServer | undefined;

before(async () => {
  await cleanupAll();
  mkdirSync(DATA, { recursive: true });
  await netnsPair();
  zoo = await saZoo(NS);
  // beside the zoo: AH, IPComp (which brings its IP-in-IP helper state) and ESP with NAT-T and limits
  await sh(`ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 0x2001 reqid 5 mode transport auth-trunc 'hmac(sha1)' 0x${hex(20)} 96`, { ns: NS });
  await sh('ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto comp spi 0x2002 mode tunnel comp deflate', { ns: NS });
  await sh(`ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2003 reqid 6 mode transport enc 'cbc(aes)' 0x${hex(16)} auth-trunc 'hmac(sha1)' 0x${hex(20)} 96 encap espinudp 4500 4501 0.0.0.0 limit byte-soft 100000 limit byte-hard 200000 limit packet-soft 1000 limit packet-hard 2000`, { ns: NS });
});

after(async () => {
  await server?.stop();
  await cleanupAll();
});

test('zoo: PF_KEY and XFRM agree on every SA PF_KEY can represent; the others are listed with a reason', { timeout: 900_000 }, async () => {
  // The independent raw dump just before and just after sascope's: the zoo's short-lived SA (0x100a, hard
  // expiry 30 s) may die in between on a loaded host (the 20:30 CI run saw that).
  const rawSpis = async () => new Set((await pfkeyDump('sa', NS)).filter((r) => r.sa).map((r) => parseInt(r.sa!.spi, 16)));
  const before = await rawSpis();
  const snap = snapshot();
  const after = await rawSpis();
  assert.equal(snap.sources.find((s) => s.id === 'pfkey')?.state, 'ok', JSON.stringify(snap.sources));
  // sascope's PF_KEY dump = the independent raw dump: everything in both raw dumps, nothing in neither
  const ours = new Set(snap.pfkey.sas.map((s) => s.spi));
  const spis = (xs: Iterable<number>) => [...xs].sort((a, b) => a - b).map((x) => x.toString(16));
  assert.deepEqual(spis([...before].filter((x) => after.has(x) && !ours.has(x))), [], 'SAs in both raw dumps that sascope lacks');
  assert.deepEqual(spis([...ours].filter((x) => !before.has(x) && !after.has(x))), [], 'SAs of sascope in neither raw dump');
  assert.ok(ours.size >= 10, `sascope lists ${ours.size} PF_KEY SAs`);
  const checks = new Map(snap.pfkey.checks.map((c) => [c.key, c]));
  const table = snap.sas.map((s) => {
    const c = checks.get(s.key);
    return `${s.key.padEnd(40)} ${c?.status ?? 'NO CHECK'} ${c?.reason ?? ''}${c?.differences.length ? JSON.stringify(c.differences) : ''}`;
  });
  console.log(table.join('\n'));
  for (const s of snap.sas) {
    const c = checks.get(s.key);
    assert.ok(c, `a check for ${s.key}`);
    assert.ok(c.status === 'agree' || (c.status === 'not-representable' && c.reason), `${s.key}: ${c.status} ${c.reason ?? ''} ${JSON.stringify(c.differences)}`);
  }
  assert.ok(!snap.pfkey.checks.some((c) => c.status === 'mismatch' || c.status === 'missing'), 'no mismatch, nothing missing');
  const bySpi = (spi: number) => snap.pfkey.checks.find((c) => c.key.endsWith(`:0x${spi.toString(16).padStart(8, '0')}`) || c.key.includes(`:0x${spi.toString(16).padStart(8, '0')}:`))!;
  // hmac(sha1) at 96 bits is PF_KEY's own default: AH 0x2001 and ESP+NAT-T+limits 0x2003 agree, IPComp too
  for (const spi of [0x2001, 0x2002, 0x2003]) assert.equal(bySpi(spi)?.status, 'agree', `spi ${spi.toString(16)}`);
  // hmac(sha256) at RFC 4868's 128 bits: PF_KEY's SADB_X_AALG_SHA2_256HMAC means 96 on Linux
  const reasons: Array<[number, RegExp]> = [
    [0x1001, /AEAD/], [0x1004, /ESN/], [0x1008, /mark/], [0x1009, /if_id/], [0x100b, /AEAD rfc7539esp/],
    [0x1003, /hmac\(sha256\) truncated to 128 bits: PF_KEY implies 96/], [0x1106, /truncated to 128 bits/],
  ];
  for (const [spi, re] of reasons) assert.match(bySpi(spi)?.reason ?? '', re, `spi ${spi.toString(16)}`);
  assert.ok(snap.pfkey.checks.some((c) => /protocol 4/.test(c.reason ?? '')), "IPComp's IP-in-IP helper state is listed");
  assert.ok(zoo.length >= 10);
});

test('an SA added through PF_KEY SADB_ADD appears in both views; its PROMISC event reaches a WebSocket client within 5 s (latency printed; goal 100 ms)', { timeout: 1_800_000 }, async () => {
  // Next.js under TCG on a shared host can take minutes to answer the first time.
  // debug: the source's notes on SADB_GET misses under churn (the strongSwan test prints them)
  server = await startServer({ args: ['--netns', NS, '--data-dir', DATA, '--log-level', 'debug'], timeoutMs: 1_200_000 });
  try {
    await addedInBothViews(server);
  } catch (err) {
    // the server's own log says why when it is the one that failed
    throw new Error(`${(err as Error).message}\n--- server output (tail) ---\n${server.output().slice(-4000)}`);
  }
});

async function addedInBothViews(server: RunningServer): Promise<void> {
  const ws = new LiveClient(server.url);
  await ws.opened();
  await waitFor('snapshot', async () => ws.snapshot(), 60_000, 100);
  await waitFor('pfkey source ok', async () => {
    const r = (await getJson(`${server.url}/api/v1/sources`)) as { sources: Array<{ id: string; state: string }> };
    return r.sources.find((s) => s.id === 'pfkey')?.state === 'ok';
  }, 120_000, 250);
  // SADB_REGISTER runs xfrm_probe_algs() inside sendmsg under the XFRM config mutex (first time: module
  // loads, slow under TCG): sascope never sends it by itself, an operator asks. Asked here and waited
  // for, so its probing does not sit between the helper's ADD and the event.
  assert.equal(((await getJson(`${server.url}/api/v1/pfkey`)) as { register: { state: string } }).register.state, 'idle', 'REGISTER is not sent at start');
  const asked = await fetch(`${server.url}/api/v1/pfkey/register`, { method: 'POST' });
  assert.equal(asked.status, 202, await asked.text());
  const algs = await waitFor('REGISTER answered', async () => {
    const r = (await getJson(`${server.url}/api/v1/pfkey`)) as { algorithms: Array<{ name: string; minBits: number; maxBits: number; satypes: string[] }>; register: { state: string; tookMs?: number; reason?: string } };
    assert.notEqual(r.register.state, 'failed', r.register.reason);
    if (r.register.state === 'done') console.log(`SADB_REGISTER (ESP, AH, IPCOMP) answered in ${r.register.tookMs} ms`);
    return r.register.state === 'done' ? r.algorithms : undefined;
  }, 400_000, 500);
  // The SA table's PF_KEY badge reads 'pfkey-check' by the SA's own key: on the wire (a WebSocket
  // snapshot) for every zoo SA, with the reason where PF_KEY cannot represent it.
  const wire = new LiveClient(server.url);
  await wire.opened();
  const snap = await waitFor('snapshot with checks', async () => {
    const s = wire.snapshot();
    return s && s.entities['pfkey-check'].length ? s : undefined;
  }, 60_000, 100);
  wire.close();
  const wireChecks = new Map(snap.entities['pfkey-check'].map((c) => [c.key, c]));
  for (const sa of snap.entities.sa) {
    const c = wireChecks.get(sa.key);
    assert.ok(c && (c.status === 'agree' || (c.status === 'not-representable' && c.reason)), `badge data for ${sa.key}: ${JSON.stringify(c)}`);
  }
  assert.match(wireChecks.get('inet:esp:10.0.0.2:0x00001001')?.reason ?? '', /AEAD/);
  const aes = algs.find((a) => a.name === 'aes-cbc');
  assert.deepEqual([aes?.minBits, aes?.maxBits], [128, 256], JSON.stringify(algs));
  assert.ok(algs.some((a) => a.name === 'hmac-sha256' && a.satypes.includes('esp') && a.satypes.includes('ah')));
  const spi = 0x3002;
  const add = JSON.stringify({ spi, src: '10.0.0.1', dst: '10.0.0.2', encrypt: 12, auth: 5, reqid: 12, mode: 2, encryptKeyHex: '000102030405060708090a0b0c0d0e0f', authKeyHex: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f' });
  const out = await sh(`/usr/bin/node --import tsx test/tools/capture-pfkey.ts --add '${add}'`, { ns: NS });
  const sentAt = Number(/# send-at ([\d.]+)/.exec(out)![1]);
  const replyHex = out.split('\n').find((l) => /^[0-9a-f]+$/.test(l))!;
  const reply = decodeSadbMessage(Buffer.from(replyHex, 'hex'));
  assert.equal(reply.header.errno, 0, 'the kernel accepted the SADB_ADD');
  const ev = await ws.waitForDelta((d) => d.kind === 'event' && d.op === 'upsert' && (d.value as { type: string; summary: string }).type === 'SADB_ADD' && (d.value as { summary: string }).summary.includes('spi 0x00003002'), 30_000);
  const latency = ev.at - sentAt;
  console.log(`PROMISC SADB_ADD → WebSocket client: ${latency.toFixed(1)} ms after the helper's sendmsg`);
  // 100 ms is the goal on real hardware (printed above); under TCG emulation the assertion is that it arrives live.
  assert.ok(latency <= 5000, `PROMISC event latency ${latency} ms`);
  const xfrmKey = saKey('inet', 'esp', '10.0.0.2', spi);
  await ws.waitForDelta((d) => d.kind === 'pfkey-sa' && d.op === 'upsert' && d.key === 'esp/10.0.0.2/0x00003002', 30_000);
  await ws.waitForDelta((d) => d.kind === 'sa' && d.op === 'upsert' && d.key === xfrmKey, 30_000);
  let last = '';
  const check = await waitFor('the check agrees', async () => {
    const r = (await getJson(`${server.url}/api/v1/pfkey`)) as { checks: Check[]; sas: Array<{ key: string }> };
    const c = r.checks.find((x) => x.key === xfrmKey);
    const srcs = (await getJson(`${server.url}/api/v1/sources`)) as { sources: Array<{ id: string; state: string; reason?: string }> };
    last = JSON.stringify({ check: c, pfkeySa: r.sas.find((x) => x.key === 'esp/10.0.0.2/0x00003002'), sources: srcs.sources.filter((x) => /pfkey|xfrm-sa/.test(x.id)) });
    return c?.status === 'agree' ? c : undefined;
  }, 30_000, 250).catch((err: Error) => {
    throw new Error(`${err.message}: ${last}`);
  });
  assert.equal(check.status, 'agree');
  // what SADB_X_AALG_SHA2_256HMAC means on Linux: a 96-bit ICV (iproute2's own view)
  const ipState = await sh(`ip xfrm state get src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x${spi.toString(16)}`, { ns: NS });
  assert.match(ipState, /enc cbc\(aes\)/);
  assert.match(ipState, /reqid 12/);
  assert.match(ipState, /auth-trunc hmac\(sha256\) 0x[0-9a-f]+ 96\n/);
  ws.close();
}

type EventValue = { type: string; summary: string; ref?: string; source: string };
const eventsOn = (ws: LiveClient) =>
  ws.deltas().flatMap(({ delta: d }) => (d.kind === 'event' && d.op === 'upsert' && (d.value as EventValue).source === 'pfkey' ? [d.value as EventValue] : []));

test('PROMISC: ADD, UPDATE, DELETE, EXPIRE, ACQUIRE, X_SPDADD, X_SPDDELETE, FLUSH, X_SPDFLUSH of any process reach the event log', { timeout: 600_000 }, async () => {
  assert.ok(server, 'needs the server of the previous test');
  const ws = new LiveClient(server.url);
  await ws.opened();
  await waitFor('snapshot', async () => ws.snapshot(), 60_000, 100);
  const algs = (spi: string, extra = '') =>
    `ip xfrm state ${extra.startsWith('update') ? 'update' : 'add'} src 10.0.0.1 dst 10.0.0.2 proto esp spi ${spi} reqid 41 mode transport enc 'cbc(aes)' 0x${hex(16)} auth-trunc 'hmac(sha1)' 0x${hex(20)} 96 ${extra.replace(/^update/, '')}`;
  // XFRM users (ip): ADD, UPDATE; a PF_KEY user (the helper, the product's encoder): DELETE
  await sh(algs('0x4001'), { ns: NS });
  await sh(algs('0x4001', 'update limit time-hard 3600'), { ns: NS });
  await sh(`/usr/bin/node --import tsx test/tools/capture-pfkey.ts --delete '${JSON.stringify({ spi: 0x4001, src: '10.0.0.1', dst: '10.0.0.2' })}'`, { ns: NS });
  // the kernel's own: soft then hard EXPIRE by time. The hard limit leaves room: the SA's add time is taken
  // (in whole seconds) when it is allocated and its timer first fires 1 s after it is added; when that is 2 s
  // of add time or more (a second boundary between, a late timer under TCG) xfrm_timer_handler expires it
  // hard at once and never sends the soft EXPIRE (the 13:36 CI run: no soft EXPIRE with time-hard 2).
  await sh(algs('0x4002', 'limit time-soft 1 limit time-hard 4'), { ns: NS });
  // SPD: a policy with no SA behind it; a packet it covers makes the kernel ACQUIRE; then it goes
  const sel = 'src 10.0.0.1/32 dst 10.0.0.2/32 proto udp dport 4999 dir out';
  await sh(`ip xfrm policy add ${sel} tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 42 mode transport`, { ns: NS });
  await sh(`/usr/bin/python3 -c "import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try: s.sendto(b'acquire', ('10.0.0.2', 4999))
except OSError: pass"`, { ns: NS });
  await waitFor('EXPIRE hard', async () => eventsOn(ws).some((e) => e.type === 'SADB_EXPIRE' && e.summary.includes('spi 0x00004002') && /\bhard\b/.test(e.summary)), 60_000, 250);
  await sh(`ip xfrm policy delete ${sel}`, { ns: NS });
  // and everything flushed (the zoo and the earlier tests' SAs with it)
  await sh('ip xfrm state flush; ip xfrm policy flush', { ns: NS });
  const wanted: Array<[string, (e: EventValue) => boolean]> = [
    ['SADB_ADD (ip)', (e) => e.type === 'SADB_ADD' && e.summary.includes('spi 0x00004001')],
    ['SADB_UPDATE (ip)', (e) => e.type === 'SADB_UPDATE' && e.summary.includes('spi 0x00004001')],
    ["SADB_DELETE (the PF_KEY user's request)", (e) => e.type === 'SADB_DELETE' && e.summary.includes('spi 0x00004001') && !/\bcbc|auth key/.test(e.summary)],
    ['SADB_EXPIRE soft', (e) => e.type === 'SADB_EXPIRE' && e.summary.includes('spi 0x00004002') && /\bsoft\b/.test(e.summary)],
    ['SADB_EXPIRE hard', (e) => e.type === 'SADB_EXPIRE' && e.summary.includes('spi 0x00004002') && /\bhard\b/.test(e.summary)],
    ['SADB_X_SPDADD', (e) => e.type === 'SADB_X_SPDADD' && e.summary.includes('10.0.0.2/32') && /reqid 42/.test(e.summary)],
    ['SADB_ACQUIRE', (e) => e.type === 'SADB_ACQUIRE' && /10\.0\.0\.1(\/32)? → 10\.0\.0\.2/.test(e.summary)],
    ['SADB_X_SPDDELETE', (e) => e.type === 'SADB_X_SPDDELETE' && /reqid 42/.test(e.summary)],
    ['SADB_FLUSH', (e) => e.type === 'SADB_FLUSH'],
    ['SADB_X_SPDFLUSH', (e) => e.type === 'SADB_X_SPDFLUSH'],
  ];
  let missing: string[] = [];
  await waitFor('every PROMISC event', async () => {
    const evs = eventsOn(ws);
    missing = wanted.filter(([, f]) => !evs.some(f)).map(([w]) => w);
    return missing.length === 0;
  }, 30_000, 250).catch(() => undefined);
  const log = eventsOn(ws).map((e) => `${e.type.padEnd(22)} ${e.summary}${e.ref ? ` → ${e.ref}` : ''}`);
  console.log(`PF_KEY events on the WebSocket:\n${log.join('\n')}`);
  assert.deepEqual(missing, [], `not in the event log: ${missing.join(', ')}`);
  // the PF_KEY DELETE (two copies: the user's request, then the kernel's broadcast) removed the SA
  assert.equal(ws.deltas().filter(({ delta: d }) => d.kind === 'pfkey-sa' && d.op === 'remove' && d.key === 'esp/10.0.0.2/0x00004001').length, 1);
  // the events point at what they name
  assert.ok(eventsOn(ws).some((e) => e.type === 'SADB_ADD' && e.ref === 'pfkey-sa:esp/10.0.0.2/0x00004001'));
  ws.close();
});

test('strongSwan rekeys (charon and swanctl --rekey): the PF_KEY source stays ok and then agrees with XFRM and a raw PF_KEY dump', { timeout: 1_200_000 }, async () => {
  assert.ok(server, 'needs the server of the previous test');
  // the previous test's FLUSH and SPDFLUSH re-dumps are over before we start watching the states
  await waitFor('pfkey source ok', async () => {
    const r = (await getJson(`${server!.url}/api/v1/sources`)) as { sources: Array<{ id: string; state: string }> };
    return r.sources.find((s) => s.id === 'pfkey')?.state === 'ok';
  }, 60_000, 250);
  await sleep(3000);
  const ws = new LiveClient(server.url);
  await ws.opened();
  await waitFor('snapshot', async () => ws.snapshot(), 60_000, 100);
  const initial = new Set(ws.snapshot()!.entities['pfkey-sa'].map((s) => s.key));
  // life_time 70 s: the frozen SAD below stays put long enough to compare the views
  const pair = await strongswanPair({ rekeySeconds: 60 });
  try {
    await waitFor('CHILD_SAs installed', async () => /INSTALLED/.test(await pair.swanctl('a', '--list-sas')), 120_000, 1000);
    // churn: rekeys asked of charon back to back, on top of its own (the pings' bytes rekey "host")
    for (let i = 0; i < 3; i++) {
      await pair.swanctl('a', '--rekey --child net');
      await pair.swanctl('a', '--rekey --child host');
      await sleep(4000);
    }
    await sleep(10_000);
    const statuses = ws.deltas().flatMap(({ delta: d }) => (d.kind === 'source' && d.op === 'upsert' && d.key === 'pfkey' ? [`${d.value.state}${d.value.reason ? ` (${d.value.reason})` : ''}`] : []));
    const evs = eventsOn(ws);
    const count = (t: string) => evs.filter((e) => e.type === t).length;
    console.log(`PF_KEY during the rekeys: ${count('SADB_ADD')} ADD, ${count('SADB_UPDATE')} UPDATE, ${count('SADB_DELETE')} DELETE, ${count('SADB_EXPIRE')} EXPIRE, ${count('SADB_ACQUIRE')} ACQUIRE; source states: ${[...new Set(statuses)].join(', ') || 'no change'}`);
    const misses = server.output().split('\n').filter((l) => /not found by SADB_GET/.test(l));
    console.log(`SADB_GET misses after events (${misses.length}):\n${misses.map((l) => {
      try {
        return (JSON.parse(l) as { msg: string }).msg;
      } catch {
        return l;
      }
    }).join('\n')}`);
    assert.ok(count('SADB_UPDATE') >= 3 && count('SADB_ADD') >= 3 && count('SADB_DELETE') >= 4, 'strongSwan churned the SAD (UPDSA/NEWSA/DELSA as PF_KEY UPDATE/ADD/DELETE)');
    assert.deepEqual(statuses.filter((s) => !s.startsWith('ok')), [], 'the PF_KEY source stayed ok');
    assert.ok(!evs.some((e) => e.type === 'resync'), 'no resync');
    // the PF_KEY view followed the churn live
    const sadDeltas = ws.deltas().filter(({ delta: d }) => d.kind === 'pfkey-sa');
    assert.ok(sadDeltas.some(({ delta: d }) => d.op === 'upsert' && !initial.has(d.key)), 'new SAs in the PF_KEY view');
    assert.ok(sadDeltas.some(({ delta: d }) => d.op === 'remove'), 'rekeyed SAs left the PF_KEY view');
    // Afterwards. Under TCG charon keeps creating CHILD_SAs it deletes again at once (over a hundred a minute,
    // seen in the lab), so no two reads ever see the same SAD: freeze it — both charons killed without clean-up,
    // their SAs stay (until their lifetimes end) — and then sascope's PF_KEY view = its XFRM view = a raw
    // PF_KEY dump = ip.
    // (the pings stopped first: their bytes would hard-expire "host" within seconds)
    await sh(`for p in ${RUN}/strongswan/ping-*.pid; do kill "$(cat "$p")" || true; done; for ns in lab-a lab-b; do kill -9 "$(cat ${RUN}/strongswan/$ns/charon.pid)" || true; done`);
    let last = '';
    await waitFor('PF_KEY = XFRM = raw dump = ip', async () => {
      const spis = (xs: number[]) => [...xs].sort((a, b) => a - b).map((x) => x.toString(16)).join(' ');
      const p = (await getJson(`${server!.url}/api/v1/pfkey`)) as { sas: Array<{ spi: number; satype: string }>; checks: Check[] };
      const x = (await getJson(`${server!.url}/api/v1/sas`)) as { sas: Array<{ spi: number; proto: string }> };
      const raw = (await pfkeyDump('sa', NS)).filter((r) => r.sa).map((r) => parseInt(r.sa!.spi, 16));
      const ip = [...(await sh('ip xfrm state', { ns: NS })).matchAll(/proto esp spi 0x([0-9a-f]+)/g)].map((m) => parseInt(m[1]!, 16));
      const p2 = (await getJson(`${server!.url}/api/v1/pfkey`)) as { sas: Array<{ spi: number }> };
      const views = {
        pfkey: spis(p.sas.map((s) => s.spi)), xfrm: spis(x.sas.filter((s) => s.proto === 'esp').map((s) => s.spi)),
        raw: spis(raw), ip: spis(ip), pfkeyAgain: spis(p2.sas.map((s) => s.spi)),
      };
      const bad = p.checks.filter((c) => c.status === 'mismatch' || c.status === 'missing' || (c.status === 'not-representable' && !c.reason));
      last = JSON.stringify({ views, bad });
      return new Set(Object.values(views)).size === 1 && ip.length >= 4 && bad.length === 0 ? views : undefined;
    }, 120_000, 1000).catch((err: Error) => {
      throw new Error(`${err.message}: ${last}`);
    });
    const checks = ((await getJson(`${server.url}/api/v1/pfkey`)) as { checks: Check[] }).checks;
    console.log(`cross-check after the rekeys:\n${checks.map((c) => `${c.key.padEnd(40)} ${c.status} ${c.reason ?? ''}`).join('\n')}`);
    // charon's "net" is AEAD (aes128gcm16), "host" hmac(sha256) at RFC 4868's 128 bits: listed, with reasons
    assert.ok(checks.some((c) => /AEAD rfc4106/.test(c.reason ?? '')), 'the AEAD CHILD_SA is listed with its reason');
    assert.ok(checks.some((c) => /hmac\(sha256\) truncated to 128 bits/.test(c.reason ?? '')), 'the hmac(sha256)-128 CHILD_SA is listed with its reason');
    const srcs = (await getJson(`${server.url}/api/v1/sources`)) as { sources: Array<{ id: string; state: string; resyncs: number }> };
    assert.equal(srcs.sources.find((x) => x.id === 'pfkey')?.state, 'ok');
  } finally {
    ws.close();
    await pair.down();
  }
});
