// Faults under a running sascope (issue #11), on Debian's kernel with modules:
// - af_key: not loadable at start (modprobe refuses it) → pfkey "not available"; loaded → back, without a
//   restart. Unloading it under sascope is refused by the kernel (each PF_KEY socket pins the module):
//   asserted and printed.
// - ovpn: unloaded under sascope (rmmod) → ovpn "not available" (nlctrl DELFAMILY); loaded → back.
// - disk full (a small tmpfs as --data-dir) → history says "disk full", the live view goes on; space
//   freed → history ok again.
// - SIGTERM → exit 0, the WAL checkpointed (history.sqlite-wal empty or absent).
// - an unwritable data dir (read-only tmpfs) → history "not available" with the reason, the live view goes on;
//   `ip netns del` of the --netns namespace → a 'netns' status row says so clearly, nothing crashes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { startServer, type RunningServer } from '../../helpers.ts';
import { requireLab, sh, waitFor } from '../scenarios/index.ts';

const RUN = process.env.LAB_RUN ?? '/tmp/sascope-lab';
const BLOCK = '/etc/modprobe.d/sascope-lab-block.conf';
const FULL = `${RUN}/full-data`;
const RO = `${RUN}/ro-data`;
const NS = 'lab-gone';
const servers: RunningServer[] = [];

after(async () => {
  for (const s of servers) await s.stop();
  await sh(`rm -f ${BLOCK}; umount ${FULL} ${RO}; ip netns del ${NS}; ip xfrm state flush`, { allowFail: true });
});

type Src = { id: string; state: string; reason?: string };
async function sources(s: RunningServer): Promise<Src[]> {
  return ((await (await fetch(`${s.url}/api/v1/sources`)).json()) as { sources: Src[] }).sources;
}
async function waitState(s: RunningServer, id: string, state: string, timeoutMs = 120_000): Promise<Src> {
  let last: Src | undefined;
  return waitFor(`${id} ${state}`, async () => {
    last = (await sources(s)).find((x) => x.id === id);
    return last?.state === state ? last : undefined;
  }, timeoutMs, 250).catch((err: Error) => {
    throw new Error(`${err.message}; last: ${JSON.stringify(last)}\n${s.output().slice(-3000)}`);
  });
}
async function saSpis(s: RunningServer): Promise<number[]> {
  return ((await (await fetch(`${s.url}/api/v1/sas`)).json()) as { sas: Array<{ spi: number }> }).sas.map((x) => x.spi);
}
const key = () => '0x' + '22'.repeat(20);

test('modules, disk full and SIGTERM under a running sascope', { timeout: 1_800_000 }, async () => {
  requireLab();
  await sh('modprobe xfrm_user; modprobe esp4; modprobe ovpn', { allowFail: true });
  const rm = await sh('rmmod af_key 2>&1; lsmod | grep -c ^af_key', { allowFail: true });
  assert.match(rm.trim().split('\n').pop()!, /^0$/, `af_key unloaded before the test: ${rm}`);
  await sh(`echo 'install af_key /bin/false' > ${BLOCK}`);
  await sh(`mkdir -p ${FULL} && mount -t tmpfs -o size=4m tmpfs ${FULL}`);
  const s = await startServer({ dataDir: FULL, env: { SASCOPE_RETRY_MS: '1500' }, timeoutMs: 600_000 });
  servers.push(s);

  // af_key
  const pk = await waitState(s, 'pfkey', 'not-available');
  console.log(`faults: af_key blocked → pfkey ${pk.state}: ${pk.reason}`);
  await sh(`rm -f ${BLOCK}; modprobe af_key`);
  let t = Date.now();
  await waitState(s, 'pfkey', 'ok');
  console.log(`faults: af_key loaded → pfkey ok after ${Date.now() - t} ms`);
  const busy = await sh('rmmod af_key 2>&1; echo rc=$?', { allowFail: true });
  console.log(`faults: rmmod af_key under sascope: ${busy.trim().replace(/\n/g, ' ')}`);
  assert.match(busy, /in use|rc=1/, 'the kernel refuses to unload af_key while sascope holds PF_KEY sockets');
  assert.equal((await sources(s)).find((x) => x.id === 'pfkey')?.state, 'ok');

  // ovpn
  await waitState(s, 'ovpn', 'ok');
  await sh(`echo 'install ovpn /bin/false' > ${BLOCK}; rmmod ovpn`);
  t = Date.now();
  const ov = await waitState(s, 'ovpn', 'not-available');
  console.log(`faults: rmmod ovpn → ovpn ${ov.state} after ${Date.now() - t} ms: ${ov.reason}`);
  await sh(`rm -f ${BLOCK}; modprobe ovpn`);
  t = Date.now();
  await waitState(s, 'ovpn', 'ok');
  console.log(`faults: modprobe ovpn → ovpn ok after ${Date.now() - t} ms`);

  // disk full
  await waitState(s, 'history', 'ok');
  await sh(`dd if=/dev/zero of=${FULL}/fill bs=64k 2>/dev/null; df -k ${FULL} | tail -1`, { allowFail: true });
  for (let i = 0; i < 40; i++) await sh(`ip xfrm state add src 10.9.0.1 dst 10.9.1.${i} proto esp spi 0x${(0x5000 + i).toString(16)} mode tunnel aead 'rfc4106(gcm(aes))' ${key()} 128`);
  const full = await waitState(s, 'history', 'error', 60_000);
  console.log(`faults: data dir full → history ${full.state}: ${full.reason}`);
  assert.match(full.reason ?? '', /disk full/);
  const hist = (await (await fetch(`${s.url}/api/v1/history`)).json()) as { problem?: string };
  assert.match(JSON.stringify(hist), /disk full/, '/api/v1/history says so');
  await sh('ip xfrm state add src 10.9.0.1 dst 10.9.2.1 proto esp spi 0x5999 mode tunnel aead \'rfc4106(gcm(aes))\' ' + key() + ' 128');
  await waitFor('the live view goes on', async () => (await saSpis(s)).includes(0x5999), 30_000, 250);
  await sh(`rm -f ${FULL}/fill`);
  t = Date.now();
  await waitState(s, 'history', 'ok', 60_000);
  console.log(`faults: space freed → history ok after ${Date.now() - t} ms`);

  // SIGTERM
  const code = await s.stop();
  servers.splice(servers.indexOf(s), 1);
  const wal = `${FULL}/history.sqlite-wal`;
  const walSize = existsSync(wal) ? statSync(wal).size : -1;
  console.log(`faults: SIGTERM → exit ${code}; history.sqlite-wal ${walSize < 0 ? 'absent' : `${walSize} bytes`}; output tail: ${s.output().trim().split('\n').slice(-2).join(' | ')}`);
  assert.equal(code, 0);
  assert.ok(walSize <= 0, 'the WAL was checkpointed (empty or absent)');
  const rows = await sh(`sqlite3 ${FULL}/history.sqlite "select count(*) from events; select stopped_at is not null from runs order by id desc limit 1"`, { allowFail: true });
  console.log(`faults: history after exit: ${rows.trim().replace(/\n/g, ' | ')}`);
});

test('unwritable data dir and the --netns namespace deleted', { timeout: 1_200_000 }, async () => {
  requireLab();
  await sh(`ip netns del ${NS}`, { allowFail: true });
  await sh(`ip netns add ${NS} && ip -n ${NS} link set lo up`);
  await sh(`mkdir -p ${RO} && mount -t tmpfs -o size=1m,ro tmpfs ${RO}`);
  const s = await startServer({ args: ['--netns', NS], dataDir: RO, timeoutMs: 600_000 });
  servers.push(s);
  const h = await waitState(s, 'history', 'not-available');
  console.log(`faults: read-only data dir → history ${h.state}: ${h.reason}`);
  assert.match(h.reason ?? '', /cannot write|SQLITE_CANTOPEN|READONLY|EROFS|read-only/i);
  await sh(`ip -n ${NS} xfrm state add src 10.8.0.1 dst 10.8.0.2 proto esp spi 0x6001 mode tunnel aead 'rfc4106(gcm(aes))' ${key()} 128`);
  await waitFor('the live view goes on without history', async () => (await saSpis(s)).includes(0x6001), 30_000, 250);
  assert.equal((await waitState(s, 'netns', 'ok')).state, 'ok');
  await sh(`ip netns del ${NS}`);
  const gone = await waitState(s, 'netns', 'not-available', 30_000);
  console.log(`faults: ip netns del ${NS} → netns ${gone.state}: ${gone.reason}`);
  assert.match(gone.reason ?? '', /deleted/);
  // still serving, and what it shows is still that namespace's (it holds it)
  assert.ok((await saSpis(s)).includes(0x6001));
  assert.equal(s.proc.exitCode, null);
  const code = await s.stop();
  servers.splice(servers.indexOf(s), 1);
  assert.equal(code, 0);
});
