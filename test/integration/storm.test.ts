// An event storm on this machine's kernel (XFRM policies exist here): thousands of policies added and
// half deleted by `ip -batch` while sascope watches with a tiny monitor receive buffer. The kernel
// overflows it (ENOBUFS; libuv reports the socket error as a poll error and stops the watch), sascope
// re-dumps, and ends equal to the kernel — selector for selector. Runs in a throw-away netns.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requireTestNetns, sh, startServer, type RunningServer } from '../helpers.ts';

requireTestNetns();
const N = 6000;
let server: RunningServer | undefined;
after(async () => {
  await server?.stop();
  sh('ip xfrm policy flush');
});

const src = (i: number) => `10.200.${Math.floor(i / 256) % 256}.${i % 256}/32`;

test(`${N} policies added and half deleted under a 4 KiB monitor buffer: resyncs, then the model equals the kernel`, { timeout: 180_000 }, async () => {
  sh('ip xfrm policy flush');
  server = await startServer({ ui: false, env: { SASCOPE_MONITOR_RCVBUF: '4096' } });
  const dir = mkdtempSync(path.join(tmpdir(), 'sascope-storm-'));
  writeFileSync(`${dir}/add`, Array.from({ length: N }, (_, i) => `xfrm policy add src ${src(i)} dst 10.201.0.1/32 dir out\n`).join(''));
  writeFileSync(`${dir}/del`, Array.from({ length: N / 2 }, (_, k) => `xfrm policy delete src ${src(2 * k)} dst 10.201.0.1/32 dir out\n`).join(''));
  const t0 = Date.now();
  sh(`ip -batch ${dir}/add`);
  sh(`ip -batch ${dir}/del`);
  const tEnd = Date.now();
  const kernel = [...sh('ip xfrm policy list').matchAll(/^src (\S+) dst/gm)].map((m) => m[1]!).sort();
  assert.equal(kernel.length, N / 2);

  let model: string[] = [];
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const r = (await (await fetch(`${server.url}/api/v1/policies`)).json()) as { policies: Array<{ selector: { src: string } }> };
    model = r.policies.map((p) => p.selector.src).sort();
    if (model.length === kernel.length && model.every((s, i) => s === kernel[i])) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const converged = Date.now() - tEnd;
  const sources = (await (await fetch(`${server.url}/api/v1/sources`)).json()) as { sources: Array<{ id: string; state: string; resyncs: number }> };
  const pol = sources.sources.find((s) => s.id === 'xfrm-policy')!;
  console.log(`storm: ${N} adds + ${N / 2} deletes in ${tEnd - t0} ms; xfrm-policy resyncs ${pol.resyncs}; model equal to the kernel ${converged} ms after the last change`);
  assert.deepEqual(model, kernel, 'the model ends equal to the kernel');
  assert.ok(pol.resyncs >= 1, 'the tiny buffer overflowed and the source re-dumped (else this test proves nothing)');
  assert.equal(pol.state, 'ok');
});
