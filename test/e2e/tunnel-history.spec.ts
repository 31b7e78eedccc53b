// The tunnel detail page with its history charts, against a real server whose history database holds a
// week (test/history-fill.ts) for a few tunnels. The server is this spec's own: a first run makes the
// database, the fill writes the week into it, a second run serves it (the shared webServer's data dir is
// a throw-away one). The host kernel in the test netns has no ESP (no SA can be added), so the live side —
// the tunnels as they are now, a rekey, new counters — comes from the fake hub on the page's WebSocket,
// with the same tunnel keys; every history request goes to the real server.
// Also: the SA table shows the SPI whole at 1440 px, and a wall tile past its soft expiry says it waits
// for the peer's rekey with the hard expiry in N, not "expired".
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures.ts';
import { fakeHub, syntheticSa, syntheticTunnel } from './fake-hub.ts';
import { fillHistory, fillSpans } from '../history-fill.ts';
import { saKey } from '../../server/wire/xfrm.ts';
import { startServer, type RunningServer } from '../helpers.ts';

let server: RunningServer | undefined;
let base = '';
/** The fill's now: its spans are placed from it (a test minutes later on a loaded machine must not move them). */
let filledAt = 0;

const A = { key: 'xfrm:esp:192.0.2.1>192.0.2.2:reqid=5', name: '192.0.2.1 → 192.0.2.2 esp reqid 5' };
const B = { key: 'xfrm:esp:192.0.2.2>192.0.2.1:reqid=5', name: '192.0.2.2 → 192.0.2.1 esp reqid 5' };
const C = { key: 'xfrm:esp:192.0.2.1>192.0.2.3:reqid=6', name: '192.0.2.1 → 192.0.2.3 esp reqid 6' };
const saA = syntheticSa(2, { spi: 0x5001, key: saKey('inet', 'esp', '192.0.2.2', 0x5001) });

/** The tunnels as the kernel has them now (the fake hub's snapshot), with the same keys as the history. */
function live() {
  const now = Date.now();
  return {
    tunnel: [
      syntheticTunnel(A.name, { key: A.key, reqid: 5, direction: 'out', reverse: B.key, sas: [saA.key], current: { sa: saA.key, spi: 0x5001, addedAt: now - 60_000, fingerprint: 'ab12cd34', algorithm: 'rfc4106(gcm(aes)) 160b' }, rotations: 160, alarms: ['replay-failures'] }),
      syntheticTunnel(B.name, { key: B.key, src: '192.0.2.2', dst: '192.0.2.1', reqid: 5, direction: 'in', reverse: A.key, current: { sa: 'b', spi: 0x5002, addedAt: now - 60_000 } }),
      syntheticTunnel(C.name, { key: C.key, dst: '192.0.2.3', reqid: 6 }),
    ],
    sa: [saA],
    alarm: [{ key: `replay-failures:tunnel:${A.key}`, type: 'replay-failures', severity: 'warning', ref: `tunnel:${A.key}`, summary: `${A.name}: replay failures`, since: now - 40 * 60_000 }],
    rotation: [],
  };
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(180_000);
  const first = await startServer();
  await first.stop();
  const t0 = Date.now();
  filledAt = Date.now();
  const filled = fillHistory(path.join(first.dataDir, 'history.sqlite'), [A, B, C], { now: filledAt });
  console.log(`history filled: ${filled.samples} samples, ${filled.rotations} rotations in ${Date.now() - t0} ms`);
  server = await startServer({ dataDir: first.dataDir });
  base = server.url;
});

test.afterAll(async () => {
  await server?.stop();
});

async function openDetail(page: Page, key: string, range: string, theme: 'light' | 'dark'): Promise<number> {
  await page.addInitScript((t) => localStorage.setItem('sascope-theme', t), theme);
  const t0 = Date.now();
  await page.goto(`${base}/tunnels/${encodeURIComponent(key)}?range=${range}`);
  const charts = page.getByTestId('history-charts');
  await expect(charts).toHaveAttribute('data-paint-ms', /\d+/, { timeout: 30_000 });
  await expect(page.locator('[data-testid=history-chart] canvas')).toHaveCount(4);
  return Date.now() - t0;
}

test('7 days of history: charts paint fast, with gaps, markers and the rotation list; screenshots light and dark', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1440, height: 1400 });
  await fakeHub(page, live);
  const t = A;
  for (const theme of ['light', 'dark'] as const) {
    for (const range of ['24h', '7d']) {
      const ms = await openDetail(page, t.key, range, theme);
      const charts = page.getByTestId('history-charts');
      const figure = async () => {
        const n = async (a: string) => Number(await charts.getAttribute(a));
        return { fetched: await n('data-fetch-ms'), drawn: await n('data-drawn-ms'), paint: await n('data-paint-ms'), build: await n('data-build-ms'), points: await n('data-points') };
      };
      const f = await figure();
      console.log(`first paint ${range} ${theme}: ${ms} ms from navigation to the charts on screen; of it the history fetch ${f.fetched} ms, then ${f.drawn} ms to the 4 charts drawn (series built in ${f.build} ms; ${f.points} points per series, this tunnel and its reverse) and ${f.paint} ms to the next frame`);
      if (range === '7d') {
        expect(f.points).toBeGreaterThan(7000);
        // From the data to the drawn charts, at best of three loads: well under a second on a machine of its
        // own. The test machine has 2 cores shared by several runs; with a load average past 4 this page gets
        // a fraction of a core, so there the bound is 3 s and the figures are printed for what they are.
        const load = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
        const bound = load > 4 ? 3000 : 1000;
        const drawn = [f.drawn];
        for (let i = 0; i < 2 && Math.min(...drawn) >= bound / 3; i++) {
          await page.reload();
          await expect(charts).toHaveAttribute('data-drawn-ms', /\d+/, { timeout: 30_000 });
          drawn.push((await figure()).drawn);
        }
        console.log(`7d ${theme}: data to drawn charts ${drawn.join(', ')} ms (load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; bound ${bound} ms)`);
        expect(Math.min(...drawn)).toBeLessThan(bound);
      }
      await expect(page.getByTestId('tunnel-state')).toContainText('up');
      await expect(page.locator('.u-legend').first()).toContainText('reverse');
      await page.screenshot({ path: `test-results/tunnel-history-${range}-${theme}.png`, fullPage: true });
    }
  }
  // The range is in the URL, and the buttons change it.
  await page.getByRole('button', { name: '6h', exact: true }).click();
  await expect(page).toHaveURL(/range=6h/);
  await expect(page.getByTestId('history-charts')).toHaveAttribute('data-paint-ms', /\d+/);

  // Hovering a rotation marker says old → new SPI, cause and when (markers every hour: sweep the chart).
  const plot = page.locator('[data-testid=history-chart] .u-over').first();
  const box = (await plot.boundingBox())!;
  const tip = page.getByTestId('rotation-tip').first();
  for (let x = 2; x < box.width && !(await tip.isVisible()); x += 3) await plot.hover({ position: { x, y: box.height / 2 } });
  await expect(tip).toContainText(/0x0000[0-9a-f]{4} → 0x0000[0-9a-f]{4} · soft expire/);

  // The rotation list of the range (one an hour), paged, newest first; the fill's SPIs are gone from the kernel.
  await expect.poll(() => page.getByTestId('tunnel-rotation').count()).toBeGreaterThanOrEqual(5);
  expect(await page.getByTestId('tunnel-rotation').count()).toBeLessThanOrEqual(7);
  await page.getByRole('button', { name: '7d', exact: true }).click();
  await expect(page.getByTestId('tunnel-rotation')).toHaveCount(25);
  const newest = await page.getByTestId('tunnel-rotation').first().textContent();
  await page.getByRole('button', { name: 'older' }).click();
  await expect(page.getByTestId('tunnel-rotation').first()).not.toHaveText(newest!);
  await expect(page.getByTestId('tunnel-rotation')).toHaveCount(25);
  await expect(page.getByTestId('tunnel-rotation').first()).toContainText('gone');
});

test('the API answers the range: gaps (crash, stale) come with the samples, never zeros inside them', async () => {
  const t = A;
  const now = Date.now();
  const r = (await (await fetch(`${base}/api/v1/history/samples?tunnel=${encodeURIComponent(t.key)}&since=${now - 7 * 86_400_000}&until=${now}&limit=20000`)).json()) as { samples: Array<{ time: number }>; gaps: Array<{ from: number; to: number; how: string; source?: string }> };
  expect(r.gaps.map((g) => g.how).sort()).toEqual(expect.arrayContaining(['clean', 'crash', 'stale']));
  const sp = fillSpans(filledAt);
  expect(r.samples.filter((s) => (s.time > sp.crash.from + 120_000 && s.time < sp.crash.to - 120_000) || (s.time > sp.stale.from + 120_000 && s.time < sp.stale.to - 120_000))).toEqual([]);
});

test('live: a rekey adds its marker and list row, new counters a point, without a reload; CSV and PNG export', async ({ page }) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 1440, height: 1400 });
  const hub = await fakeHub(page, live);
  await openDetail(page, A.key, '1h', 'light');
  const charts = page.getByTestId('history-charts');
  const markers = Number(await charts.getAttribute('data-markers'));
  const rows = await page.getByTestId('tunnel-rotation').count();
  const points = Number(await charts.getAttribute('data-points'));
  const now = Date.now();
  const saNew = syntheticSa(2, { spi: 0x5101, key: saKey('inet', 'esp', '192.0.2.2', 0x5101) });
  const [tA] = live().tunnel;
  hub.sendDeltas([
    { kind: 'sa', op: 'upsert', key: saNew.key, value: saNew },
    { kind: 'rotation', op: 'upsert', key: `${A.key}#${0x5101}@${now}`, value: { key: `${A.key}#${0x5101}@${now}`, family: 'xfrm', tunnel: A.key, tunnelName: A.name, time: now, cause: 'daemon-rekey', oldSpi: 0x5001, newSpi: 0x5101, state: 'overlapping' } },
    { kind: 'tunnel', op: 'upsert', key: A.key, value: { ...tA, sas: [saNew.key, saA.key], current: { sa: saNew.key, spi: 0x5101, addedAt: now }, rotations: 161 } },
  ]);
  await expect(charts).toHaveAttribute('data-markers', String(markers + 1));
  await expect(page.getByTestId('tunnel-rotation')).toHaveCount(rows + 1);
  await expect(page.getByTestId('tunnel-rotation').first()).toContainText('0x00005001 → 0x00005101');
  await expect(page.getByTestId('tunnel-rotation').first().getByRole('link', { name: 'open SA' })).toBeVisible();
  // Counters moved (the live sampler takes a point every 10 s at most): the newest point arrives.
  await page.waitForTimeout(10_500);
  hub.sendDeltas([{ kind: 'tunnel', op: 'upsert', key: A.key, value: { ...tA, sas: [saNew.key, saA.key], current: { sa: saNew.key, spi: 0x5101, addedAt: now }, rotations: 161, bytes: '133456789', packets: '133456' } }]);
  await expect.poll(async () => Number(await charts.getAttribute('data-points'))).toBeGreaterThan(points);

  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'CSV' }).click()]);
  expect(csv.suggestedFilename()).toMatch(/\.csv$/);
  const text = Buffer.concat(await (await csv.createReadStream()).toArray()).toString('utf8');
  expect(text.split('\n')[0]).toBe('time,bytes_per_s,packets_per_s,integrity_failures_per_min,replay_failures_per_min,rotations,direction');
  expect(text.split('\n').length).toBeGreaterThan(100);
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'PNG' }).click()]);
  expect(png.suggestedFilename()).toMatch(/\.png$/);
});

test('links: a tunnel row, a wall tile and an alarm open the detail page', async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await fakeHub(page, live);
  await page.goto(`${base}/tunnels`);
  await page.getByRole('link', { name: C.name }).click();
  await expect(page).toHaveURL(`${base}/tunnels/${encodeURIComponent(C.key)}`);
  await expect(page.getByTestId('tunnel-header')).toBeVisible();
  await page.goto(`${base}/wall`);
  // Each tile's last hour from the history, faint at its foot (the fill's tunnels idle from 02:00 to 04:00 UTC: no rows).
  const hour = new Date().getUTCHours();
  if (hour < 2 || hour >= 5) await expect(page.getByTestId('rate-strip')).toHaveCount(3);
  await page.getByRole('link', { name: C.name }).click();
  await expect(page.getByTestId('tunnel-header')).toBeVisible();
  await page.goto(`${base}/`);
  await page.getByTestId('alarm-list').getByRole('link').first().click();
  await expect(page).toHaveURL(`${base}/tunnels/${encodeURIComponent(A.key)}`);
  await expect(page.getByTestId('tunnel-alarms')).toContainText('replay failures');
});

test("a wall tile past its soft expiry waits for the peer's rekey with the hard expiry in N, never 'expired'", async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  const now = Date.now();
  await fakeHub(page, () => ({ tunnel: [syntheticTunnel('gw-a → gw-r esp reqid 7', { countdown: { softExpiresAt: now - 5000, hardExpiresAt: now + 1800_000, softBasis: 'add', hardBasis: 'add' } })], alarm: [], rotation: [] }));
  await page.goto(`${base}/wall`);
  const tile = page.getByTestId('wall-tile');
  await expect(tile).toContainText("waiting for the peer's rekey");
  await expect(tile).toContainText(/hard expiry in 29 min \d+ s/);
  await expect(tile).not.toContainText('expired');
  await expect(tile).toContainText('UP');
});

test('the SA table shows the SPI whole at 1440 px', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await fakeHub(page, () => ({ sa: [syntheticSa(3, { spi: 0x5000, key: saKey('inet', 'esp', '192.0.2.3', 0x5000) }), syntheticSa(4, { spi: 0xc1ffee04 })] }));
  await page.goto(`${base}/sas`);
  for (const spi of ['0x00005000', '0xc1ffee04']) {
    const cell = page.getByRole('gridcell', { name: spi, exact: true });
    await expect(cell).toBeVisible();
    // The text's own width (fractional: a cut of a fraction of a pixel already shows an ellipsis) within the cell's content box.
    const fit = await cell.evaluate((c) => {
      const st = getComputedStyle(c);
      return { text: c.firstElementChild!.getBoundingClientRect().width, box: c.getBoundingClientRect().width - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight) };
    });
    expect(fit.text, `${spi} is not cut (${JSON.stringify(fit)})`).toBeLessThanOrEqual(fit.box);
  }
});
