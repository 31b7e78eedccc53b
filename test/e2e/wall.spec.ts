// The NOC wall on synthetic data: alarms first and in words, tiles with state and next rekey, a
// rotation in the ticker, healthy tunnels folded into a count when they do not fit, and DATA STALE when
// the socket is down for more than 5 s. The fleet's wall: fleet.spec.ts.
import { test, expect } from './fixtures.ts';
import { fakeHub, syntheticTunnel } from './fake-hub.ts';

test('alarms come first, tiles say their state, and a torn-down tunnel raises an alarm live', async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  const hub = await fakeHub(page, () => ({
    tunnel: [syntheticTunnel('198.51.100.200 → 203.0.113.250 esp reqid 1'), syntheticTunnel('gw-a → gw-c esp reqid 2', { key: 'xfrm:esp:c' })],
    alarm: [],
    rotation: [],
  }));
  await page.goto('/wall');
  await expect(page.getByTestId('wall-alarms')).toContainText('NO ALARMS');
  await expect(page.getByTestId('wall-tile')).toHaveCount(2);
  await expect(page.getByTestId('wall-tile').first()).toContainText('UP');
  await expect(page.getByTestId('wall-tile').first()).toContainText('next rekey');
  await expect(page.getByTestId('wall-tile').first()).toContainText(/2 min/);
  // A long name is shown whole (wrapped, not cut with an ellipsis): nothing of it overflows its box.
  const name = page.getByTestId('wall-tile').first().getByRole('heading');
  await expect(name).toHaveText('198.51.100.200 → 203.0.113.250 esp reqid 1');
  const fits = await name.evaluate((h) => h.scrollWidth <= h.clientWidth && h.scrollHeight <= h.clientHeight + 1);
  expect(fits).toBe(true);

  // The tunnel to gw-c is torn down: tunnel down + alarm + a rotation in the ticker.
  const down = syntheticTunnel('gw-a → gw-c esp reqid 2', { key: 'xfrm:esp:c', state: 'down', alarms: ['hard-expired'] });
  hub.sendDeltas([
    { kind: 'tunnel', op: 'upsert', key: down.key, value: down },
    { kind: 'alarm', op: 'upsert', key: 'hard-expired:tunnel:c', value: { key: 'hard-expired:tunnel:c', type: 'hard-expired', severity: 'critical', ref: 'tunnel:xfrm:esp:c', summary: 'gw-a → gw-c: SA hard-expired, no replacement', since: Date.now() } },
    { kind: 'rotation', op: 'upsert', key: 'r1', value: { key: 'r1', family: 'xfrm', tunnel: 'xfrm:esp:gw-a', tunnelName: 'gw-a → gw-b esp reqid 1', time: Date.now(), cause: 'soft-expire', oldSpi: 1, newSpi: 2, state: 'done' } },
  ]);
  await expect(page.getByTestId('wall-alarms')).toContainText('CRITICAL');
  await expect(page.getByTestId('wall-alarms')).toContainText('Hard expiry reached');
  // Trouble first: the alarmed tile leads.
  await expect(page.getByTestId('wall-tile').first()).toHaveAttribute('data-alarm', 'true');
  await expect(page.getByTestId('wall-tile').first()).toContainText('DOWN');
  await expect(page.getByTestId('wall-ticker')).toContainText('ROTATED gw-a → gw-b esp reqid 1 (soft expire)');
  await page.screenshot({ path: 'test-results/wall-alarm.png' });
});

test('DATA STALE appears only after the socket has been down for more than 5 s', async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  let refuse = false;
  let downSince = 0;
  await page.routeWebSocket(/\/ws/, (ws) => {
    if (refuse) return void ws.close({ code: 4001, reason: 'backend stopped' });
    ws.send(JSON.stringify({ type: 'snapshot', seq: 1, time: Date.now(), server: { version: 't', hostname: 'gw', netns: 'self' }, entities: { source: [], tunnel: [syntheticTunnel('t1')], alarm: [], rotation: [], event: [] } }));
    setTimeout(() => {
      refuse = true;
      downSince = Date.now();
      ws.close({ code: 4001, reason: 'backend stopped' });
    }, 1500);
  });
  await page.goto('/wall');
  await expect(page.getByTestId('wall-tile')).toHaveCount(1);
  await expect(page.getByText('OFFLINE')).toBeVisible({ timeout: 5000 });
  // Looked for every 100 ms from the first close: when it shows, the socket has been down for 5 s.
  await expect.poll(() => page.getByTestId('wall-stale').count(), { timeout: 12_000, intervals: [100] }).toBe(1);
  expect(Date.now() - downSince).toBeGreaterThanOrEqual(5000);
  await expect(page.getByTestId('wall-stale')).toContainText('DATA STALE since');
  await page.screenshot({ path: 'test-results/wall-stale.png' });
});

test('more healthy tunnels than fit fold into a count; more problems than fit cycle in pages', async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  const healthy = Array.from({ length: 40 }, (_, i) => syntheticTunnel(`t${String(i).padStart(2, '0')}`, { key: `k${i}` }));
  let tunnels: object[] = healthy;
  await fakeHub(page, () => ({ tunnel: tunnels, alarm: [], rotation: [] }));
  await page.goto('/wall');
  // 40 healthy tunnels: no tiles and no pages, one count on the host's cell.
  await expect(page.getByTestId('wall-healthy')).toHaveText('✓ 40 up');
  await expect(page.getByTestId('wall-tile')).toHaveCount(0);
  await expect(page.getByTestId('wall-page')).toHaveCount(0);
  // 40 tunnels down: each a problem tile, in pages.
  tunnels = healthy.map((t) => ({ ...t, state: 'down', alarms: ['tunnel-down'] }));
  await page.reload();
  await expect(page.getByTestId('wall-page')).toContainText(/page 1 of \d · 40 problems/);
  await expect(page.getByTestId('wall-page')).toContainText(/page 2 of \d/, { timeout: 15_000 });
});
