import { test, expect } from './fixtures.ts';
import { execFileSync } from 'node:child_process';

const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });

test.beforeAll(() => {
  if (!process.env.SASCOPE_TEST_NETNS) throw new Error('run through npm run test:e2e (a throw-away netns)');
  sh('ip xfrm policy flush');
});

test('a policy added in the kernel appears without reload, and goes away when deleted', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('freshness')).toHaveAttribute('data-connected', 'true');
  await expect(page.getByText('No XFRM policies')).toBeVisible();
  const before = await page.evaluate(() => performance.timeOrigin);

  sh('ip xfrm policy add src 10.77.0.0/16 dst 10.78.0.0/16 dir out priority 123 tmpl src 192.0.2.7 dst 192.0.2.8 proto esp mode tunnel reqid 77');
  const row = page.locator('table[aria-label="XFRM policies"] tbody tr', { hasText: '10.77.0.0/16' });
  await expect(row).toBeVisible({ timeout: 2000 });
  await expect(row).toContainText('reqid 77');
  await expect(row).toContainText('123');
  // Same document: no reload happened.
  expect(await page.evaluate(() => performance.timeOrigin)).toBe(before);
  await expect(page.getByTestId('event-log')).toContainText('NEWPOLICY');
  await page.screenshot({ path: 'test-results/console-overview.png', fullPage: true });

  // Keyboard: the table is reachable and rows take focus.
  await row.focus();
  await expect(row).toBeFocused();

  sh('ip xfrm policy delete src 10.77.0.0/16 dst 10.78.0.0/16 dir out');
  await expect(row).toHaveCount(0, { timeout: 2000 });
  await expect(page.getByTestId('event-log')).toContainText('DELPOLICY');
});

test('sources and devices are shown with their state', async ({ page }) => {
  await page.goto('/devices');
  await expect(page.getByTestId('link-lo')).toBeVisible();
  await page.goto('/');
  await expect(page.locator('[data-source="xfrm-policy"]')).toHaveAttribute('data-state', 'ok');
  await expect(page.locator('[data-source="link"]')).toHaveAttribute('data-state', 'ok');
});

test('the page says so when the connection drops, and reconnects by itself', async ({ page }) => {
  let current: import('@playwright/test').WebSocketRoute | undefined;
  let cut = false; // while cut, reconnect attempts are refused (the page stays disconnected until we look)
  await page.routeWebSocket(/\/ws/, (ws) => {
    if (cut) return void ws.close({ code: 4001, reason: 'still cut by test' });
    current = ws;
    ws.connectToServer();
  });
  await page.goto('/');
  await expect(page.getByTestId('freshness')).toHaveAttribute('data-connected', 'true');
  cut = true;
  await current!.close({ code: 4000, reason: 'cut by test' });
  await expect(page.getByRole('alert').filter({ hasText: 'Connection to the server lost' })).toBeVisible();
  await expect(page.getByTestId('freshness')).toContainText(/Disconnected|Connecting|Reconnecting/);
  await page.screenshot({ path: 'test-results/console-disconnected.png' });
  cut = false;
  await expect(page.getByTestId('freshness')).toHaveAttribute('data-connected', 'true', { timeout: 25000 });
});
