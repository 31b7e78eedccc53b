// Scenario building blocks for lab tests. Call these *inside the lab VM* (tests under
// test/lab/tests run there via `npm run test:lab`); each wraps a script of this folder, so the
// same setups are usable by hand: npm run lab -- run 'bash test/lab/scenarios/sa-zoo.sh add'.
// Scratch files (strongSwan configs, keys, sockets, logs) live under $LAB_RUN (/tmp/sascope-lab,
// the guest's fresh tmpfs), never in the repo.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const PYTHON = '/usr/bin/python3';

// ------------------------------------------------------------------ environment guard

export type LabKernel = 'debian' | 'custom';

/** True inside a lab VM (stage 2 exports SASCOPE_LAB_VM=1 and creates /run/sascope-lab-guest). */
export function inLab(): boolean {
  return process.env.SASCOPE_LAB_VM === '1' && existsSync('/run/sascope-lab-guest');
}

/** Throws a clear error unless running inside the lab VM (as root). */
export function requireLab(): LabKernel {
  if (!inLab()) {
    throw new Error(
      'this needs the real-kernel lab VM: run it with `npm run test:lab` or `npm run lab -- run \'…\'` (see test/lab/README.md)',
    );
  }
  if (process.getuid?.() !== 0) throw new Error('lab scenarios need root (the lab VM runs commands as root)');
  return labKernel();
}

export function labKernel(): LabKernel {
  return process.env.SASCOPE_LAB_KERNEL === 'custom' ? 'custom' : 'debian';
}

/** The linux-7.2 source tree in the lab cache (uapi headers, netlink specs, tools/net/ynl). */
export function linuxSourceDir(): string {
  return process.env.SASCOPE_LAB_SRC ?? join(process.env.SASCOPE_LAB_CACHE ?? '', 'src', 'linux-7.2');
}

// ------------------------------------------------------------------ processes

export interface ShOptions {
  /** netns to run in (ip netns exec) */
  ns?: string;
  timeoutMs?: number;
  allowFail?: boolean;
}

/** Runs a bash command; resolves stdout, rejects with stderr unless allowFail. */
export function sh(cmd: string, opts: ShOptions = {}): Promise<string> {
  const argv = opts.ns ? ['ip', 'netns', 'exec', opts.ns, 'bash', '-c', cmd] : ['bash', '-c', cmd];
  return new Promise((resolve, reject) => {
    execFile(argv[0], argv.slice(1), { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && !opts.allowFail) reject(new Error(`${cmd}: ${err.message.split('\n')[0]}\n${stderr.trim()}`));
      else resolve(stdout);
    });
  });
}

function script(name: string, ...args: (string | number)[]): Promise<string> {
  const q = args.map((a) => `'${String(a).replace(/'/g, `'\\''`)}'`).join(' ');
  return sh(`bash ${join(HERE, name)} ${q}`);
}

function py(name: string, args: (string | number)[], ns?: string): Promise<string> {
  const q = args.map((a) => `'${String(a).replace(/'/g, `'\\''`)}'`).join(' ');
  return sh(`${PYTHON} ${join(HERE, name)} ${q}`, { ns });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value or the time is up. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 500): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ------------------------------------------------------------------ netns pair

export interface NetnsPair {
  a: string;
  b: string;
  aAddr: string;
  bAddr: string;
  aAddr6: string;
  bAddr6: string;
  aInner: string;
  bInner: string;
  down(): Promise<void>;
}

/** Two netns joined by veth: A 10.0.0.1/fd00::1, B 10.0.0.2/fd00::2, inner dummies 10.1.0.1 / 10.2.0.1. */
export async function netnsPair(a = 'lab-a', b = 'lab-b'): Promise<NetnsPair> {
  const info = JSON.parse(await script('netns-pair.sh', 'up', a, b));
  return { ...info, down: () => script('netns-pair.sh', 'down', a, b).then(() => undefined) };
}

// ------------------------------------------------------------------ strongSwan

export interface StrongswanPair {
  a: string;
  b: string;
  rekeySeconds: number;
  runDirs: { a: string; b: string };
  /** vici URIs for swanctl --uri */
  vici: { a: string; b: string };
  psk: string;
  /** swanctl in side a or b, e.g. swanctl('a', '--list-sas') */
  swanctl(side: 'a' | 'b', args: string): Promise<string>;
  down(): Promise<void>;
}

/** Two charons (one per netns) with IKEv2, a tunnel CHILD_SA rekeying every rekeySeconds and a
 *  transport CHILD_SA rekeying by bytes; traffic (pings through both) unless traffic=false. */
export async function strongswanPair(opts: { rekeySeconds?: number; traffic?: boolean; a?: string; b?: string } = {}): Promise<StrongswanPair> {
  const a = opts.a ?? 'lab-a';
  const b = opts.b ?? 'lab-b';
  const info = JSON.parse(await script('strongswan-pair.sh', 'up', opts.rekeySeconds ?? 20, a, b));
  if (opts.traffic !== false) await script('strongswan-pair.sh', 'traffic', a, b);
  return {
    ...info,
    swanctl: (side, args) => sh(`swanctl ${args} --uri ${info.vici[side]}`),
    down: () => script('strongswan-pair.sh', 'down', a, b).then(() => undefined),
  };
}

/** The console's connections on a running pair (strongswan-conns.sh): badpsk (each side another secret: A's
 *  initiate fails authentication), cert (a lab CA, certificates valid 3 days; up), rw (A a gateway with a
 *  pool, B's rw-client up as alice@lab with a virtual IP). Secrets in hex, private key files (PEM). */
export interface StrongswanConns {
  secrets: { badpskA: string; badpskB: string; rw: string };
  keys: { a: string; b: string };
}
export async function strongswanConns(a = 'lab-a', b = 'lab-b'): Promise<StrongswanConns> {
  return JSON.parse(await script('strongswan-conns.sh', 'up', a, b)) as StrongswanConns;
}

// ------------------------------------------------------------------ manual SAs

export interface ZooSA {
  name: string;
  src: string;
  dst: string;
  /** "0x00001001" */
  spi: string;
  proto: 'esp';
  mode: 'transport' | 'tunnel' | 'beet';
  family: 4 | 6;
  /** key material in lowercase hex (no 0x), for key-leak greps */
  keys: string[];
  aead?: string;
  enc?: string;
  auth?: string;
  [more: string]: unknown;
}

/** One SA of each kind (AEAD 128/256, cbc+hmac, ESN + 4096 window, NAT-T, IPv6, beet, mark,
 *  if_id + xfrm interface "ipsec42", chacha20-poly1305, 20 s/30 s lifetimes) plus policies, in ns. */
export async function saZoo(ns = 'lab-a'): Promise<ZooSA[]> {
  return JSON.parse(await script('sa-zoo.sh', 'add', ns));
}

/** One SA with tiny lifetimes: soft EXPIRE after softSeconds, hard EXPIRE (and deletion) after hardSeconds. */
export async function expiringSA(ns = 'lab-a', softSeconds = 3, hardSeconds = 5): Promise<ZooSA> {
  return JSON.parse(await script('sa-zoo.sh', 'expiring', ns, softSeconds, hardSeconds))[0];
}

/** One outbound transport SA 10.0.0.1 → 10.0.0.2 with tiny byte lifetimes and an ICMP policy using it (needs
 *  netnsPair): sendTraffic() pings 10.0.0.2 from ns, so the SA passes its soft then its hard byte limit. */
export async function expiringBytesSA(ns = 'lab-a', softBytes = 300, hardBytes = 1200): Promise<ZooSA & { sendTraffic(): Promise<void> }> {
  const sa: ZooSA = JSON.parse(await script('sa-zoo.sh', 'expiring-bytes', ns, softBytes, hardBytes))[0];
  const packets = Math.ceil(hardBytes / 84) + 8; // 84-byte ICMP echo requests
  return { ...sa, sendTraffic: () => sh(`ping -q -c ${packets} -i 0.05 -W 1 ${sa.dst}`, { ns, allowFail: true }).then(() => undefined) };
}

/** Flushes all SAs and policies of ns (and the zoo's xfrm interface). */
export async function flushXfrm(ns = 'lab-a'): Promise<void> {
  await script('sa-zoo.sh', 'flush', ns);
}

/** n SAs in one `ip -batch` (SPIs spiBase…spiBase+n-1). */
export async function batchSAs(ns: string, n: number, spiBase = 0x100000): Promise<{ count: number; spiBase: string }> {
  return JSON.parse(await script('batch-sas.sh', ns, n, `0x${spiBase.toString(16)}`));
}

/** `ip xfrm monitor [what]` (optionally in ns; what e.g. 'SA', 'expire', 'policy' — bookworm's ip is case-sensitive): collects its lines until stop(). */
export function xfrmMonitor(ns?: string, what = ''): { lines: string[]; proc: ChildProcess; stop(): void; text(): string } {
  const argv = [...(ns ? ['netns', 'exec', ns, 'ip'] : []), 'xfrm', 'monitor', ...(what ? what.split(' ') : [])];
  const proc = spawn('ip', argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let partial = '';
  proc.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  return { lines, proc, stop: () => void proc.kill(), text: () => lines.join('\n') };
}

// ------------------------------------------------------------------ ovpn

export interface OvpnPair {
  a: string;
  b: string;
  ifname: string;
  peerId: number;
  tunnel: { a: string; b: string };
  keys: Record<string, string | string[]>;
  holders: { a: number; b: number };
  /** peer-get dump (via the kernel's ynl) in side a or b */
  peers(side: 'a' | 'b'): Promise<Record<string, unknown>[]>;
  /** key-get of both slots */
  keyInfo(side: 'a' | 'b'): Promise<Record<string, unknown>[]>;
  down(): Promise<void>;
}

/** ovpn P2P devices "ovpn0" in netns A/B, one peer each with keys in both slots; a python helper per
 *  side holds the UDP socket. Traffic (ping A->B through the tunnel) unless traffic=false. */
export async function ovpnPair(opts: { traffic?: boolean; a?: string; b?: string } = {}): Promise<OvpnPair> {
  const a = opts.a ?? 'lab-a';
  const b = opts.b ?? 'lab-b';
  const info = JSON.parse(await script('ovpn-pair.sh', 'up', a, b));
  if (opts.traffic !== false) await script('ovpn-pair.sh', 'traffic', a, b);
  const ns = (side: 'a' | 'b') => (side === 'a' ? a : b);
  return {
    ...info,
    peers: async (side) => JSON.parse(await py('ovpn_helper.py', ['peers', info.ifname], ns(side))),
    keyInfo: async (side) => JSON.parse(await py('ovpn_helper.py', ['keys', info.ifname, info.peerId], ns(side))),
    down: () => script('ovpn-pair.sh', 'down', a, b).then(() => undefined),
  };
}

// ------------------------------------------------------------------ netdevsim + PSP (custom kernel)

export interface Netdevsim {
  id: number;
  ifname: string;
  ifindex: number;
  netns: string;
  debugfs: string;
  /** n offloaded SA pairs (dir out + dir in), rfc4106(gcm(aes)) 128 */
  offload(n?: number): Promise<ZooSA[]>;
  down(): Promise<void>;
}

export async function netdevsim(opts: { id?: number; ns?: string } = {}): Promise<Netdevsim> {
  const id = opts.id ?? 1;
  const ns = opts.ns ?? '';
  const info = JSON.parse(await script('netdevsim.sh', 'up', id, ns));
  return {
    ...info,
    offload: async (n = 2) => JSON.parse(await script('netdevsim.sh', 'offload', id, ns, n)),
    down: () => script('netdevsim.sh', 'down', id).then(() => undefined),
  };
}

export interface PspDevice {
  id: number;
  ifindex: number;
  'psp-versions-cap'?: unknown;
  'psp-versions-ena'?: unknown;
  enable(): Promise<void>;
  rotate(): Promise<void>;
  stats(): Promise<Record<string, number>>;
  /** rotate every `seconds` in the background until stop() */
  rotateEvery(seconds: number): { stop(): void };
}

/** PSP devices visible from ns (psp dev-get through the kernel's ynl CLI). */
export async function pspDevices(ns = ''): Promise<{ id: number; ifindex: number; [k: string]: unknown }[]> {
  const out = (await script('psp.sh', 'dev-get', ns)).trim();
  return out ? JSON.parse(out) : [];
}

/** A netdevsim port (which registers a PSP device) and its PSP device handle. */
export async function pspDevice(opts: { nsimId?: number; ns?: string } = {}): Promise<PspDevice & { nsim: Netdevsim }> {
  const nsim = await netdevsim({ id: opts.nsimId ?? 2, ns: opts.ns });
  const ns = opts.ns ?? '';
  const dev = await waitFor('the PSP device of the netdevsim port', async () =>
    (await pspDevices(ns)).find((d) => d.ifindex === nsim.ifindex),
  5000);
  return {
    ...(dev as unknown as PspDevice),
    nsim,
    enable: () => script('psp.sh', 'enable', dev.id, ns).then(() => undefined),
    rotate: () => script('psp.sh', 'rotate', dev.id, ns).then(() => undefined),
    stats: async () => JSON.parse(await script('psp.sh', 'stats', dev.id, ns)),
    rotateEvery: (seconds) => {
      const p = spawn('bash', [join(HERE, 'psp.sh'), 'rotate-every', String(seconds), String(dev.id), ns], { stdio: 'ignore' });
      return { stop: () => void p.kill() };
    },
  };
}

// ------------------------------------------------------------------ PF_KEY, AF_ALG (python, independent of sascope)

export interface PfkeyRecord {
  type: number;
  errno: number;
  seq: number;
  len: number;
  exts: number[];
  sa?: { spi: string; state: number; auth: number; encrypt: number; replay: number; flags: number };
  lifetimeCurrent?: { allocations: number; bytes: number; addtime: number; usetime: number };
}

/** SADB_DUMP ('sa') or SADB_X_SPDDUMP ('sp') over a raw PF_KEY socket in ns. */
export async function pfkeyDump(kind: 'sa' | 'sp' = 'sa', ns?: string): Promise<PfkeyRecord[]> {
  return JSON.parse(await py('pfkey_dump.py', [kind], ns));
}

/** Digest through AF_ALG, e.g. afAlgHash('sha256', Buffer.from('abc')) → hex. */
export async function afAlgHash(alg: string, data: Buffer, key?: Buffer): Promise<string> {
  const args = key ? ['hmac', alg, key.toString('hex'), data.toString('hex')] : ['hash', alg, data.toString('hex')];
  return (await py('af_alg.py', args)).trim();
}

/** Which AF_ALG types bind here, and whether /proc/sys/crypto exists. */
export async function afAlgCheck(): Promise<Record<string, unknown>> {
  return JSON.parse(await py('af_alg.py', ['check']));
}

// ------------------------------------------------------------------ cleanup

/** Tears down everything these blocks may have made (safe to call twice). */
export async function cleanupAll(a = 'lab-a', b = 'lab-b'): Promise<void> {
  await script('ovpn-pair.sh', 'down', a, b).catch(() => {});
  await script('strongswan-pair.sh', 'down', a, b).catch(() => {});
  for (const id of [1, 2]) await script('netdevsim.sh', 'down', id).catch(() => {});
  await script('netns-pair.sh', 'down', a, b).catch(() => {});
}
