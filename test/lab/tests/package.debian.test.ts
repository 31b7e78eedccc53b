// The Debian package (issue 22) on the lab's Debian: `dpkg -i` makes the user sascope, /var/lib/sascope
// (0700, with what a root-run sascope left there handed to it) and /etc/sascope; `systemd-analyze verify` accepts both installed units; the console unit's
// ExecStart, run as the unit would (no systemd as PID 1 here: setpriv with its User= and exactly
// CAP_NET_ADMIN, its Environment=, WorkingDirectory= and UMask=), serves the UI and reads the kernel's real
// SA; the agent unit's ExecStart with agent.env as shipped says what is missing; an upgrade to a newer
// version keeps the config, the tokens and the history; purge removes them.
// The .debs are built on the host first (the VM's tmpfs and emulated CPU are no place for it), two versions:
//   npm run package -- --out dist/out && SASCOPE_DEB_VERSION_SUFFIX=+lab1 npm run package -- --out dist/out
// (test/run-all.sh does so before the lab phase). The VM's root is the host's, whose nodejs (20.x, a .deb)
// satisfies the package's Depends: no --force-depends.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../helpers.ts';
import { requireLab, sh, waitFor } from '../scenarios/index.ts';

requireLab();
const OUT = path.join(projectRoot, 'dist/out');
const UNITS = '/lib/systemd/system';
const URL = 'http://127.0.0.1:7300';
const SPI = 0x2201;
let running: ChildProcess | undefined;

after(async () => {
  running?.kill('SIGKILL');
  await sh(`ip xfrm state delete src 10.22.0.1 dst 10.22.0.2 proto esp spi ${SPI}`, { allowFail: true });
});

/** The two packages, older first (dpkg's version order). */
async function debs(): Promise<[string, string]> {
  const files = readdirSync(OUT, { withFileTypes: true }).filter((f) => /^sascope_.*_amd64\.deb$/.test(f.name)).map((f) => path.join(OUT, f.name));
  assert.ok(files.length >= 2, `two builds of the package in ${OUT} (see the head of this file); found ${files.join(', ') || 'none'}`);
  const version = (f: string) => path.basename(f).split('_')[1]!;
  const sorted = [files[0]!];
  for (const f of files.slice(1)) {
    const newer = await sh(`dpkg --compare-versions '${version(f)}' gt '${version(sorted[sorted.length - 1]!)}' && echo y`, { allowFail: true });
    if (newer.trim() === 'y') sorted.push(f);
    else sorted.unshift(f);
  }
  return [sorted[0]!, sorted[sorted.length - 1]!];
}

/** A unit's settings (the last value of each key; ExecStart as written). */
function unit(name: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of readFileSync(path.join(UNITS, name), 'utf8').split('\n')) {
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (kv) m.set(kv[1]!, [...(m.get(kv[1]!) ?? []), kv[2]!]);
  }
  return m;
}

/** ExecStart's words with ${VAR} and $VAR from `env` (systemd: an empty $VAR is no word, an empty ${VAR} an empty one). */
function execStart(u: Map<string, string[]>, env: Record<string, string> = {}): string[] {
  const words = u.get('ExecStart')![0]!.split(/\s+/).filter(Boolean);
  return words.flatMap((w) => (/^\$[A-Z_]+$/.test(w) ? (env[w.slice(1)] ?? '').split(/\s+/).filter(Boolean) : [w.replace(/\$\{([A-Z_]+)\}/g, (_, k: string) => env[k] ?? '')]));
}

/** setpriv as the unit's User=/Group= with exactly its capabilities (AmbientCapabilities=, CapabilityBoundingSet=), NoNewPrivileges=. */
function asUnit(u: Map<string, string[]>, argv: string[]): { cmd: string; args: string[]; env: Record<string, string>; cwd: string } {
  assert.deepEqual(u.get('AmbientCapabilities'), ['CAP_NET_ADMIN']);
  assert.deepEqual(u.get('CapabilityBoundingSet'), ['CAP_NET_ADMIN']);
  const user = u.get('User')![0]!;
  const env: Record<string, string> = { PATH: '/usr/bin:/bin' };
  for (const e of u.get('Environment') ?? []) env[e.slice(0, e.indexOf('='))] = e.slice(e.indexOf('=') + 1);
  const umask = u.get('UMask')![0]!;
  return {
    cmd: 'setpriv',
    args: [`--reuid=${user}`, `--regid=${u.get('Group')![0]}`, '--clear-groups', '--bounding-set=-all,+net_admin', '--inh-caps=-all,+net_admin', '--ambient-caps=-all,+net_admin', '--no-new-privs', 'sh', '-c', `umask ${umask}; exec "$0" "$@"`, ...argv],
    env,
    cwd: u.get('WorkingDirectory')![0]!,
  };
}

function start(u: Map<string, string[]>): { proc: ChildProcess; out: () => string } {
  const r = asUnit(u, execStart(u));
  const proc = spawn(r.cmd, r.args, { cwd: r.cwd, env: r.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  running = proc;
  return { proc, out: () => out };
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await gone;
}

const viewer = () => (JSON.parse(readFileSync('/var/lib/sascope/tokens.json', 'utf8')) as { tokens: Array<{ role: string; token: string }> }).tokens.find((t) => t.role === 'viewer')!.token;
const sha = (f: string) => sh(`sha256sum ${f} | cut -d' ' -f1`).then((s) => s.trim());

/** Serves (the pages too: Next.js starts in minutes under emulation) and has the kernel's SA, with only CAP_NET_ADMIN. */
async function servesTheSA(u: Map<string, string[]>, token?: () => string): Promise<ChildProcess> {
  const s = start(u);
  await waitFor('/healthz 200 (the UI started)', async () => {
    if (s.proc.exitCode !== null) assert.fail(`the unit's ExecStart exited ${s.proc.exitCode}: ${s.out().slice(-3000)}`);
    return (await fetch(`${URL}/healthz`).catch(() => undefined))?.status === 200;
  }, 900_000, 2000);
  const auth = { authorization: `Bearer ${(token ?? viewer)()}` };
  const sas = (await (await fetch(`${URL}/api/v1/sas`, { headers: auth })).json()) as { sas: Array<{ spi: number }> };
  assert.ok(sas.sas.some((x) => x.spi === SPI), `the kernel's SA ${SPI.toString(16)} in /api/v1/sas`);
  const sources = (await (await fetch(`${URL}/api/v1/sources`, { headers: auth })).json()) as { sources: Array<{ id: string; state: string }> };
  assert.equal(sources.sources.find((x) => x.id === 'xfrm-sa')?.state, 'ok');
  const page = await fetch(`${URL}/`, { headers: auth });
  assert.equal(page.status, 200, 'the console page');
  // Exactly CAP_NET_ADMIN (bit 12) in its effective, permitted and bounding sets; running as sascope.
  const pid = (await sh(`pgrep -u sascope -f 'sascope serve' | head -1`)).trim();
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  for (const set of ['CapEff', 'CapPrm', 'CapBnd']) assert.match(status, new RegExp(`^${set}:\\s+0000000000001000$`, 'm'), `${set} of the server`);
  return s.proc;
}

test('dpkg -i, the units verified, the console unit serving the real SA with CAP_NET_ADMIN only; upgrade keeps config, tokens and history; purge removes them', { timeout: 3_000_000 }, async () => {
  const [older, newer] = await debs();
  await sh(`ip xfrm state add src 10.22.0.1 dst 10.22.0.2 proto esp spi ${SPI} reqid 22 mode tunnel aead 'rfc4106(gcm(aes))' 0x${'22'.repeat(20)} 128`);
  // State a `sascope serve` run as root left in its default --data-dir (this host's own may hold such a tokens.json):
  // postinst hands it to sascope, or the service could not read it (EACCES, exit 2).
  await sh('install -d -m 0700 /var/lib/sascope && install -m 0600 /dev/null /var/lib/sascope/left-by-root');
  const installed = await sh(`dpkg -i ${older} 2>&1`, { timeoutMs: 900_000 });
  console.log(`dpkg -i ${path.basename(older)}: ${installed.split('\n').slice(-3).join(' | ')}`);
  assert.match(await sh('getent passwd sascope'), /^sascope:x:\d+:\d+:[^:]*:\/var\/lib\/sascope:\/usr\/sbin\/nologin$/m);
  assert.equal((await sh('stat -c "%a %U" /var/lib/sascope /var/lib/sascope/left-by-root /etc/sascope /etc/sascope/config.json /etc/sascope/agent.env')).trim(), '700 sascope\n600 sascope\n750 root\n640 root\n640 root');
  for (const name of ['sascope.service', 'sascope-agent.service']) {
    const v = await sh(`systemd-analyze verify ${UNITS}/${name} 2>&1; echo "rc=$?"`);
    assert.match(v, /rc=0$/m, `systemd-analyze verify ${name}: ${v}`);
    assert.doesNotMatch(v, /Unknown key|Failed to parse|not executable/, v);
  }

  const console_ = unit('sascope.service');
  const first = await servesTheSA(console_);
  await waitFor('history.sqlite', async () => (await sh('test -s /var/lib/sascope/history.sqlite && echo y', { allowFail: true })).trim() === 'y', 120_000);
  await stop(first);
  const token = viewer();
  // The agent as shipped (agent.env empty): says what it needs, exit 2, under the same sandbox.
  const agentUnit = unit('sascope-agent.service');
  const env = Object.fromEntries(readFileSync('/etc/sascope/agent.env', 'utf8').split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const a = asUnit(agentUnit, execStart(agentUnit, env));
  const agentRun = await sh(`cd ${a.cwd} && ${[a.cmd, ...a.args].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ')} 2>&1; echo "rc=$?"`, { timeoutMs: 600_000 });
  assert.match(agentRun, /agent needs --nats URL[\s\S]*rc=2$/m, agentRun);

  // Upgrade: an administrator's config, the tokens and the history stay as they are.
  await sh(`echo '{ "websocket": { "maxClients": 50 } }' > /etc/sascope/config.json`);
  const before = { tokens: await sha('/var/lib/sascope/tokens.json'), history: await sha('/var/lib/sascope/history.sqlite'), config: await sha('/etc/sascope/config.json') };
  const upgraded = await sh(`dpkg -i ${newer} 2>&1`, { timeoutMs: 900_000 });
  console.log(`dpkg -i ${path.basename(newer)}: ${upgraded.split('\n').slice(-3).join(' | ')}`);
  assert.equal((await sh(`dpkg-query -W -f='\${Version}' sascope`)).trim(), path.basename(newer).split('_')[1]);
  assert.deepEqual({ tokens: await sha('/var/lib/sascope/tokens.json'), history: await sha('/var/lib/sascope/history.sqlite'), config: await sha('/etc/sascope/config.json') }, before);
  assert.equal((await sh('stat -c "%a %U" /var/lib/sascope')).trim(), '700 sascope');
  const second = await servesTheSA(unit('sascope.service'), () => token);
  await stop(second);

  await sh('dpkg --purge sascope 2>&1', { timeoutMs: 600_000 });
  assert.equal((await sh('ls -d /etc/sascope /var/lib/sascope /usr/lib/sascope /usr/bin/sascope 2>/dev/null; true')).trim(), '', 'purge leaves no config, state or program');
});
