// Event storm (issue #11): N SAs and N/10 policies created, then half of each deleted one by one, as fast
// as `ip -batch` drives the kernel, while sascope watches with a deliberately small monitor receive
// buffer (SASCOPE_MONITOR_RCVBUF=4096: the kernel overflows it, ENOBUFS, resync by re-dump). Afterwards
// /api/v1/sas and /api/v1/policies equal a fresh kernel dump (`ip xfrm state`, `ip -s xfrm policy`)
// exactly. Prints N, the resyncs and the time to converge.
// N = SASCOPE_STORM_N (default 10000 so the file fits CI under TCG; the report's 100k run sets it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { startServer, type RunningServer } from '../../helpers.ts';
import { requireLab, sh } from '../scenarios/index.ts';

const NS = 'storm';
const N = Number(process.env.SASCOPE_STORM_N ?? 10_000);
const P = Math.max(1, Math.floor(N / 10));
const RUN = process.env.LAB_RUN ?? '/tmp/sascope-lab';
let server: RunningServer | undefined;

after(async () => {
  await server?.stop();
  await sh(`ip netns del ${NS}`, { allowFail: true });
});

const dstOf = (i: number) => `10.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
const spiOf = (i: number) => 0x100000 + i;
const polSrc = (i: number) => `10.200.${Math.floor(i / 256) % 256}.${i % 256}`;

/** One `ip -batch` file in the netns; returns its wall time in ms. */
async function batch(name: string, lines: string[]): Promise<number> {
  mkdirSync(RUN, { recursive: true }); // run alone, no scenario has made it yet
  const f = `${RUN}/${name}.batch`;
  writeFileSync(f, `${lines.join('\n')}\n`);
  const t0 = Date.now();
  await sh(`ip -n ${NS} -batch ${f} && rm -f ${f}`, { timeoutMs: 3_600_000 });
  return Date.now() - t0;
}

function kernelSas(text: string): string[] {
  return [...text.matchAll(/^src \S+ dst (\S+)\n\s+proto (\w+) spi (0x[0-9a-f]+)/gm)].map((m) => `${m[1]}/${m[2]}/${parseInt(m[3]!, 16)}`).sort();
}

async function api<T>(path: string): Promise<T> {
  const r = await fetch(`${server!.url}${path}`);
  assert.equal(r.status, 200, path);
  return (await r.json()) as T;
}

test(`storm: ${N} SAs and ${P} policies added, half of each deleted one by one; sascope ends equal to the kernel`, { timeout: 3_600_000 }, async () => {
  requireLab();
  await sh(`ip netns del ${NS}`, { allowFail: true });
  await sh(`ip netns add ${NS} && ip -n ${NS} link set lo up`);
  await sh('modprobe xfrm_user; modprobe esp4', { allowFail: true });
  server = await startServer({ args: ['--netns', NS], env: { SASCOPE_MONITOR_RCVBUF: '4096' }, timeoutMs: 600_000 });
  const key = '0x' + '11'.repeat(20);
  const sources0 = await api<{ sources: Array<{ id: string; state: string; resyncs: number }> }>('/api/v1/sources');
  assert.equal(sources0.sources.find((s) => s.id === 'xfrm-sa')?.state, 'ok', JSON.stringify(sources0));

  const sas = Array.from({ length: N }, (_, i) => `xfrm state add src 10.0.0.1 dst ${dstOf(i)} proto esp spi 0x${spiOf(i).toString(16)} mode tunnel aead rfc4106(gcm(aes)) ${key} 128`);
  const pols = Array.from({ length: P }, (_, i) => `xfrm policy add src ${polSrc(i)}/32 dst 10.201.0.1/32 dir out`);
  const t0 = Date.now();
  const tAddSa = await batch('add-sa', sas);
  const tAddPol = await batch('add-pol', pols);
  // delete every odd one, one message (one event) each
  const tDelSa = await batch('del-sa', sas.flatMap((_, i) => (i % 2 ? [`xfrm state delete src 10.0.0.1 dst ${dstOf(i)} proto esp spi 0x${spiOf(i).toString(16)}`] : [])));
  const tDelPol = await batch('del-pol', pols.flatMap((_, i) => (i % 2 ? [`xfrm policy delete src ${polSrc(i)}/32 dst 10.201.0.1/32 dir out`] : [])));
  const tKernel = Date.now();
  console.log(`storm: N=${N} SAs, ${P} policies; ip -batch: add SAs ${tAddSa} ms, add policies ${tAddPol} ms, delete SAs ${tDelSa} ms, delete policies ${tDelPol} ms`);

  const wantSas = kernelSas(await sh(`ip -n ${NS} xfrm state`, { timeoutMs: 600_000 }));
  const wantPols = [...(await sh(`ip -n ${NS} -s xfrm policy`, { timeoutMs: 600_000 })).matchAll(/index (\d+)/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  assert.equal(wantSas.length, N - Math.floor(N / 2));
  assert.equal(wantPols.length, P - Math.floor(P / 2));

  let last = '';
  let polls = 0;
  for (;;) {
    const got = (await api<{ sas: Array<{ dst: string; proto: string | number; spi: number }> }>('/api/v1/sas')).sas.map((s) => `${s.dst}/${s.proto}/${s.spi}`).sort();
    const gotPols = (await api<{ policies: Array<{ index: number }> }>('/api/v1/policies')).policies.map((p) => p.index).sort((a, b) => a - b);
    const src = await api<{ sources: Array<{ id: string; state: string }> }>('/api/v1/sources');
    const settled = src.sources.filter((s) => s.id.startsWith('xfrm')).every((s) => s.state === 'ok');
    last = `model ${got.length} SAs / ${gotPols.length} policies, kernel ${wantSas.length} / ${wantPols.length}`;
    if (settled && got.length === wantSas.length && gotPols.length === wantPols.length) {
      assert.deepEqual(got, wantSas, 'the SAs (dst/proto/spi) equal the kernel dump');
      assert.deepEqual(gotPols, wantPols, 'the policies (index) equal the kernel dump');
      break;
    }
    if (++polls % 30 === 0) console.log(`storm: ${Math.round((Date.now() - tKernel) / 1000)} s: ${last}; sources ${JSON.stringify(src.sources.filter((s) => s.id.startsWith('xfrm')).map((s) => `${s.id} ${s.state}`))}`);
    if (Date.now() - tKernel > 1_200_000) assert.fail(`no convergence after 20 min: ${last}\n${server!.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const converged = Date.now();
  const sources = await api<{ sources: Array<{ id: string; state: string; resyncs: number }> }>('/api/v1/sources');
  const resyncs = Object.fromEntries(sources.sources.filter((s) => /^xfrm|^link/.test(s.id)).map((s) => [s.id, s.resyncs]));
  const enobufs = (server.output().match(/ENOBUFS/g) ?? []).length; // state-change log lines only
  console.log(`storm: converged ${converged - tKernel} ms after the last ip -batch returned (${converged - t0} ms after the storm began); resyncs ${JSON.stringify(resyncs)}; ENOBUFS in the log: ${enobufs}`);
  console.log(`storm: final ${wantSas.length} SAs and ${wantPols.length} policies, equal (SPIs and policy indexes)`);
  assert.ok((resyncs['xfrm-sa'] ?? 0) + (resyncs['xfrm-policy'] ?? 0) >= 1, 'the small buffer overflowed at least once (the storm was a storm)');
  assert.ok(server.proc.exitCode === null, 'sascope still runs');
});
