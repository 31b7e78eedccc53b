// Key leak across a lab run (issue #11): strongSwan pair (rekeying), the SA zoo, an ovpn peer and a PF_KEY
// SADB_ADD, all present while sascope watches lab-b at debug log level (the zoo's 10.1/24 ⟷ 10.2/24 tunnel
// policies are strongSwan's in lab-a; in lab-b they differ by direction, so both fit there). Every byte sascope wrote is kept —
// the body of every GET /api/v1 route (from its OpenAPI document), every WebSocket message, its log,
// /metrics, the SQLite history (file, -wal, -shm after SIGTERM) and `snapshot --json` — and searched for
// every key in hex (both cases), base64, base64url and raw bytes. Prints "key-leak hits: 0".
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { LiveClient, projectRoot, startServer, type RunningServer } from '../../helpers.ts';
import { keyHits, serverOutputs } from '../lib/outputs.ts';
import { cleanupAll, netnsPair, ovpnPair, requireLab, saZoo, sh, strongswanPair, waitFor } from '../scenarios/index.ts';

const RUN = process.env.LAB_RUN ?? '/tmp/sascope-lab';
const DATA = path.join(RUN, 'sascope-data-keyleak');
const NS = 'lab-b';
let server: RunningServer | undefined;

after(async () => {
  await server?.stop();
  await cleanupAll();
});

test('no key material in anything sascope wrote', { timeout: 3_000_000 }, async () => {
  requireLab();
  await cleanupAll();
  mkdirSync(DATA, { recursive: true });
  await netnsPair();
  server = await startServer({ args: ['--netns', NS, '--log-level', 'debug'], dataDir: DATA, timeoutMs: 600_000 });
  const ws = new LiveClient(server.url);
  const wsRaw: string[] = [];
  ws.ws.on('message', (d) => wsRaw.push(String(d)));
  await ws.opened();

  // the scenario, while sascope and the WebSocket client watch
  const keys = new Map<string, string>(); // hex → where from
  const ss = await strongswanPair({ rekeySeconds: 20 });
  keys.set(Buffer.from(ss.psk).toString('hex'), 'strongSwan PSK');
  for (const sa of await saZoo(NS)) for (const k of sa.keys) keys.set(k.toLowerCase(), `zoo ${sa.name}`);
  const ov = await ovpnPair();
  for (const [name, v] of Object.entries(ov.keys)) for (const k of [v].flat()) keys.set(k.toLowerCase(), `ovpn ${name}`);
  const encKey = randomBytes(16).toString('hex');
  const authKey = randomBytes(32).toString('hex');
  keys.set(encKey, 'PF_KEY SADB_ADD encrypt');
  keys.set(authKey, 'PF_KEY SADB_ADD auth');
  const add = JSON.stringify({ spi: 0x3102, src: '10.0.0.1', dst: '10.0.0.2', encrypt: 12, auth: 5, reqid: 31, mode: 2, encryptKeyHex: encKey, authKeyHex: authKey });
  const out = await sh(`/usr/bin/node --import tsx test/tools/capture-pfkey.ts --add '${add}'`, { ns: NS });
  assert.ok(/^[0-9a-f]+$/m.test(out), 'the SADB_ADD was answered');
  // every key the kernel holds in both namespaces (strongSwan's negotiated ones, across rekeys)
  const harvest = async () => {
    for (const ns of ['lab-a', 'lab-b']) {
      const st = await sh('ip xfrm state', { ns });
      for (const m of st.matchAll(/^\s+(?:enc|auth|auth-trunc|aead) \S+ 0x([0-9a-f]+)/gm)) if (m[1]!.length >= 16) keys.set(m[1]!, keys.get(m[1]!) ?? `ip xfrm state in ${ns}`);
    }
  };
  await harvest();
  // let a strongSwan rekey happen under sascope's eyes
  await waitFor('a rotation', async () => ((await (await fetch(`${server!.url}/api/v1/rotations`)).json()) as { rotations?: unknown[] }).rotations?.length, 180_000, 2000).catch(() => undefined);
  await harvest();
  await waitFor('the PF_KEY SA in the model', async () => ((await (await fetch(`${server!.url}/api/v1/pfkey`)).json()) as { sas: Array<{ spi: number }> }).sas.some((s) => s.spi === 0x3102), 60_000, 500);
  await waitFor('ovpn peers in the model', async () => ((await (await fetch(`${server!.url}/api/v1/ovpn`)).json()) as { peers: unknown[] }).peers.length, 60_000, 500);

  // every GET route, sascope's own snapshot, then (the server stopped) its WebSocket frames, log and history
  const tunnels = ((await (await fetch(`${server.url}/api/v1/tunnels`)).json()) as { tunnels: Array<{ key: string }> }).tunnels;
  const extra = tunnels.slice(0, 3).flatMap((t) => [`/api/v1/sas?tunnel=${encodeURIComponent(t.key)}`, `/api/v1/history/samples?tunnel=${encodeURIComponent(t.key)}`]);
  const snap = execFileSync(process.execPath, [path.join(projectRoot, 'server/bin.mjs'), 'snapshot', '--json', '--netns', NS, '--data-dir', DATA], { maxBuffer: 256 << 20 });
  ws.close();
  const { outputs: artifacts, routes, status } = await serverOutputs(server, wsRaw, { extra });
  server = undefined;
  assert.equal(status, 0);
  artifacts.push({ name: 'snapshot --json', bytes: snap });

  // the search
  const hits = keyHits(keys, artifacts);
  const total = artifacts.reduce((s, a) => s + a.bytes.length, 0);
  console.log(`key-leak: ${keys.size} keys (${[...new Set([...keys.values()].map((v) => v.split(' ')[0]))].join(', ')}) × 5 encodings searched in ${artifacts.length} artifacts, ${total} bytes (${routes.length} GET routes, ${wsRaw.length} WebSocket messages, ${tunnels.length} tunnels)`);
  console.log(`key-leak hits: ${hits.length}`);
  for (const h of hits) console.log(`  HIT ${h}`);
  assert.ok(keys.size >= 20, `enough keys to mean something (${keys.size})`);
  assert.ok(wsRaw.length > 10 && tunnels.length > 0);
  assert.equal(hits.length, 0);
});
