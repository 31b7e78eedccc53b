// Least privilege (issue #11): sascope as the unprivileged user nobody with only CAP_NET_ADMIN — the
// sandbox of dist/sascope.service emulated with setpriv (no systemd as PID 1 in the lab): User= (uid
// 65534), AmbientCapabilities= and CapabilityBoundingSet=CAP_NET_ADMIN, NoNewPrivileges. XFRM, PF_KEY
// and links work; without the capability every kernel source that needs it says "no permission" and
// nothing crashes. `systemd-analyze verify` checks the unit file itself.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot, startServer, type RunningServer } from '../../helpers.ts';
import { requireLab, sh, waitFor } from '../scenarios/index.ts';

const RUN = process.env.LAB_RUN ?? '/tmp/sascope-lab';
const UNIT = path.join(projectRoot, 'dist/sascope.service');
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];
const WITH_CAP = ['setpriv', ...NOBODY, '--bounding-set=-all,+net_admin', '--inh-caps=-all,+net_admin', '--ambient-caps=-all,+net_admin', '--no-new-privs'];
const NO_CAP = ['setpriv', ...NOBODY, '--bounding-set=-all', '--inh-caps=-all', '--no-new-privs'];
const servers: RunningServer[] = [];

after(async () => {
  for (const s of servers) await s.stop();
  await sh('ip xfrm state flush; ip xfrm policy flush', { allowFail: true });
});

type Src = { id: string; state: string; reason?: string };
async function get<T>(s: RunningServer, p: string): Promise<T> {
  return (await (await fetch(`${s.url}${p}`)).json()) as T;
}
function dataDir(name: string): string {
  const d = `${RUN}/${name}`;
  mkdirSync(d, { recursive: true });
  return d;
}
async function settled(s: RunningServer): Promise<Src[]> {
  return waitFor('every source settled', async () => {
    const src = (await get<{ sources: Src[] }>(s, '/api/v1/sources')).sources;
    return src.every((x) => x.state !== 'starting' && x.state !== 'stale') && src.some((x) => x.id === 'pfkey') ? src : undefined;
  }, 300_000, 500);
}
/** nobody must reach the installation: a clone in /root (0700) it cannot, so each parent directory of the
 * project gets o+x in the guest (its overlay; the host's stay as they are). */
const letNobodyReachProject = () => sh(`d='${projectRoot}'; while [ "$d" != / ]; do d=$(dirname "$d"); chmod o+x "$d"; done`);
const table = (src: Src[]) => src.map((x) => `  ${x.id.padEnd(14)} ${x.state}${x.reason ? ` — ${x.reason}` : ''}`).join('\n');

test('the unit file verifies', async () => {
  requireLab();
  const out = await sh(`systemd-analyze verify ${UNIT} 2>&1; echo rc=$?`, { allowFail: true });
  console.log(`privilege: systemd-analyze verify dist/sascope.service: ${out.trim().replace(/\n/g, ' | ')}`);
  assert.match(out, /rc=0/);
  const unit = await sh(`cat ${UNIT}`);
  for (const line of ['AmbientCapabilities=CAP_NET_ADMIN', 'CapabilityBoundingSet=CAP_NET_ADMIN', 'NoNewPrivileges=yes', 'User=']) assert.ok(unit.includes(line), line);
});

test('nobody + CAP_NET_ADMIN only: XFRM, PF_KEY and links work', { timeout: 900_000 }, async () => {
  requireLab();
  await sh('modprobe xfrm_user; modprobe esp4; modprobe af_key', { allowFail: true });
  await sh("ip xfrm state add src 10.7.0.1 dst 10.7.0.2 proto esp spi 0x7001 reqid 7 mode tunnel enc 'cbc(aes)' 0x" + '33'.repeat(16) + " auth-trunc 'hmac(sha1)' 0x" + '44'.repeat(20) + ' 96');
  await sh('ip xfrm policy add src 10.7.0.1/32 dst 10.7.0.2/32 dir out tmpl src 10.7.0.1 dst 10.7.0.2 proto esp reqid 7 mode tunnel');
  const dir = dataDir('priv-cap');
  await sh(`chown 65534:65534 ${dir} && chmod 700 ${dir}`);
  await letNobodyReachProject();
  const s = await startServer({ wrap: WITH_CAP, dataDir: dir, timeoutMs: 600_000 });
  servers.push(s);
  const caps = await sh(`grep -E '^(Uid|CapEff|CapAmb|CapBnd|NoNewPrivs)' /proc/${s.proc.pid}/status`);
  console.log(`privilege: sascope process:\n${caps.trim()}`);
  assert.match(caps, /Uid:\s+65534/);
  assert.match(caps, /CapEff:\s+0000000000001000/);
  const src = await settled(s);
  console.log(`privilege: nobody + CAP_NET_ADMIN, sources:\n${table(src)}`);
  for (const id of ['link', 'xfrm-sa', 'xfrm-policy', 'pfkey']) assert.equal(src.find((x) => x.id === id)?.state, 'ok', `${id}: ${JSON.stringify(src.find((x) => x.id === id))}`);
  assert.ok(!src.some((x) => x.state === 'no-permission'), 'nothing lacks permission with CAP_NET_ADMIN');
  const sas = (await get<{ sas: Array<{ spi: number }> }>(s, '/api/v1/sas')).sas;
  assert.ok(sas.some((x) => x.spi === 0x7001), 'the SA through XFRM');
  const pf = await get<{ sas: Array<{ spi: number }> }>(s, '/api/v1/pfkey');
  assert.ok(pf.sas.some((x) => x.spi === 0x7001), 'the SA through PF_KEY');
  assert.ok((await get<{ policies: unknown[] }>(s, '/api/v1/policies')).policies.length >= 1);
  assert.ok((await get<{ links: Array<{ name: string }> }>(s, '/api/v1/links')).links.some((l) => l.name === 'lo'));
  assert.equal(await s.stop(), 0);
  servers.splice(servers.indexOf(s), 1);
});

test('nobody without capabilities: the kernel sources say "no permission", nothing crashes', { timeout: 900_000 }, async () => {
  requireLab();
  const dir = dataDir('priv-nocap');
  await sh(`chown 65534:65534 ${dir} && chmod 700 ${dir}`);
  await letNobodyReachProject();
  const s = await startServer({ wrap: NO_CAP, dataDir: dir, timeoutMs: 600_000 });
  servers.push(s);
  const src = await settled(s);
  console.log(`privilege: nobody without capabilities, sources:\n${table(src)}`);
  for (const id of ['xfrm-sa', 'xfrm-policy', 'pfkey']) {
    const x = src.find((y) => y.id === id);
    assert.equal(x?.state, 'no-permission', `${id}: ${JSON.stringify(x)}`);
    assert.match(x?.reason ?? '', /CAP_NET_ADMIN|permission/i);
  }
  assert.ok(!src.some((x) => x.state === 'error'), `no source in a bare 'error' state:\n${table(src)}`);
  assert.equal((await fetch(`${s.url}/api/v1/health`)).status, 200);
  assert.equal(s.proc.exitCode, null);
  assert.equal(await s.stop(), 0);
  servers.splice(servers.indexOf(s), 1);
});
