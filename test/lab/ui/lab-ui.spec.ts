// The console and the wall against a real kernel: sascope in a lab VM watching a strongSwan pair that
// rekeys every ~20 s. The SA table shows the kernel's SAs (checked against ip xfrm state), a rekey
// changes the SPI and a rotation appears without reload (in the tunnels page's list, and as a marker on the
// tunnel's history page), the wall raises an alarm when the tunnel is torn down and says DATA STALE when the
// backend stops. Screenshots go to test-results/.
import { test, expect } from '@playwright/test';

const control = process.env.LAB_UI_CONTROL!;
const viewer = process.env.LAB_UI_VIEWER!;

async function vm(cmd: string): Promise<{ code: number; out: string }> {
  const r = await fetch(control, { method: 'POST', body: JSON.stringify({ cmd }) });
  return (await r.json()) as { code: number; out: string };
}

function spisOf(ipText: string): string[] {
  return [...ipText.matchAll(/proto esp spi (0x[0-9a-f]{8})/g)].map((m) => m[1]!);
}

test.describe.serial('lab UI', () => {
  test('sign in with the viewer token; the SA table shows the kernel SAs', async ({ page }) => {
    await page.setViewportSize({ width: 1600, height: 1000 });
    await page.goto(`/sas?token=${viewer}`);
    await expect(page).not.toHaveURL(/token=/);
    const grid = page.getByRole('grid', { name: 'Security associations' });
    await expect(grid.locator('[role="row"][data-key]').first()).toBeVisible({ timeout: 60_000 });
    // Every SA iproute2 lists now is in the table (a rekey may add one in between: poll).
    await expect
      .poll(
        async () => {
          const spis = spisOf((await vm('ip -n lab-a xfrm state')).out);
          const text = (await grid.textContent()) ?? '';
          return spis.length > 0 && spis.every((s) => text.includes(s));
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    await page.screenshot({ path: 'test-results/lab-console-sas.png' });
  });

  test('a strongSwan rekey changes the SPI and a rotation appears without reload', async ({ page }) => {
    await page.setViewportSize({ width: 1600, height: 1000 });
    await page.goto(`/tunnels?token=${viewer}`);
    const origin = await page.evaluate(() => performance.timeOrigin);
    const rotations = page.locator('[data-testid^="rotation-"]');
    const tunnels = page.locator('table[aria-label="Tunnels"] tbody tr');
    await expect(tunnels.first()).toBeVisible({ timeout: 60_000 });
    // A rotation to an SPI that the kernel has now and did not have when this test began: a rekey seen live.
    // (Not merely more rows, nor any SPI missing from the first read: the list also fills from history after
    // the first paint, with rotations to SPIs long gone — CI mistook both for a rekey.)
    const spiBefore = spisOf((await vm('ip -n lab-a xfrm state')).out);
    const rekeyedTo = async () => {
      const kernelNow = spisOf((await vm('ip -n lab-a xfrm state')).out);
      const shown = (await rotations.allTextContents()).flatMap((t) => [...t.matchAll(/0x[0-9a-f]{8} → (0x[0-9a-f]{8})/g)].map((m) => m[1]!));
      return shown.filter((x) => !spiBefore.includes(x) && kernelNow.includes(x));
    };
    await expect.poll(async () => (await rekeyedTo()).length, { timeout: 120_000, message: 'a rotation to a new SPI the kernel has' }).toBeGreaterThan(0);
    expect(await page.evaluate(() => performance.timeOrigin), 'no reload happened').toBe(origin);
    await page.screenshot({ path: 'test-results/lab-console-tunnels.png', fullPage: true });
  });

  test('the tunnel page draws the next rekey as a new rotation marker and list row, live', async ({ page, baseURL }) => {
    await page.setViewportSize({ width: 1440, height: 1400 });
    // The tunnel that rekeys most (the transport CHILD_SA by its byte limit under the traffic, or the 20 s one).
    const { tunnels } = (await (await fetch(`${baseURL}/api/v1/tunnels`, { headers: { authorization: `Bearer ${viewer}` } })).json()) as { tunnels: Array<{ key: string; rotations: number; state: string }> };
    const t = tunnels.filter((x) => x.state !== 'down').sort((a, b) => b.rotations - a.rotations)[0]!;
    await page.goto(`/tunnels/${encodeURIComponent(t.key)}?range=1h&token=${viewer}`);
    const charts = page.getByTestId('history-charts');
    await expect(charts).toHaveAttribute('data-paint-ms', /\d+/, { timeout: 60_000 });
    const origin = await page.evaluate(() => performance.timeOrigin);
    const markers = Number(await charts.getAttribute('data-markers'));
    const spiBefore = spisOf((await vm('ip -n lab-a xfrm state')).out);
    await expect.poll(async () => Number(await charts.getAttribute('data-markers')), { timeout: 90_000, message: 'a rotation marker more than at first paint' }).toBeGreaterThan(markers);
    // The list's newest row is that rekey: to an SPI the kernel has now and did not have at first paint.
    await expect
      .poll(async () => {
        const to = /→ (0x[0-9a-f]{8})/.exec((await page.getByTestId('tunnel-rotation').first().textContent()) ?? '')?.[1];
        return to !== undefined && !spiBefore.includes(to) && spisOf((await vm('ip -n lab-a xfrm state')).out).includes(to);
      }, { timeout: 30_000 })
      .toBe(true);
    expect(await page.evaluate(() => performance.timeOrigin), 'no reload happened').toBe(origin);
    await page.screenshot({ path: 'test-results/lab-tunnel-history.png', fullPage: true });
  });

  test('the wall raises an alarm when the tunnel is torn down, and DATA STALE when the backend stops', async ({ page }) => {
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.goto(`/wall?token=${viewer}`);
    // A tile per tunnel while they fit, else their count on the host's cell (components/wall/Wall.tsx).
    await expect(page.locator('[data-testid=wall-tile], [data-testid=wall-healthy]').first()).toBeVisible({ timeout: 60_000 });
    await page.screenshot({ path: 'test-results/lab-wall.png' });
    // Tear the tunnel down: the charons stop (deleting their CHILD_SAs) and nothing replaces the SAs.
    await vm('pkill -TERM -f /usr/lib/ipsec/charon; sleep 2; ip -n lab-a xfrm state flush; ip -n lab-b xfrm state flush');
    await expect(page.getByTestId('wall-alarms')).toContainText(/Tunnel down|Hard expiry reached/, { timeout: 60_000 });
    await expect(page.getByTestId('wall-alarms')).toContainText('CRITICAL');
    await page.screenshot({ path: 'test-results/lab-wall-alarm.png' });
    await vm('pkill -TERM -f "server/bin.mjs serve"');
    await expect(page.getByTestId('wall-stale')).toContainText('DATA STALE since', { timeout: 60_000 });
    await page.screenshot({ path: 'test-results/lab-wall-stale.png' });
  });
});
