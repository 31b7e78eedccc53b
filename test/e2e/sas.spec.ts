// The SA console on synthetic data: SPI in hex, search by SPI, the drawer with lifetime and sequence
// bars and the fingerprint (never a key), URL state, keyboard.
import { test, expect } from './fixtures.ts';
import { fakeHub, syntheticSa } from './fake-hub.ts';

test('SA table: search by SPI, open the drawer by keyboard, shareable URL', async ({ page }) => {
  const sas = Array.from({ length: 300 }, (_, i) => syntheticSa(i + 1));
  const hub = await fakeHub(page, () => ({ sa: sas, source: [{ key: 'xfrm-sa', id: 'xfrm-sa', label: 'XFRM SAs', state: 'ok', since: Date.now(), resyncs: 0, decodeErrors: 0 }] }));
  await page.goto('/sas');
  const grid = page.getByRole('grid', { name: 'Security associations' });
  await expect(grid).toHaveAttribute('aria-rowcount', '301');
  await expect(grid.getByRole('row').nth(1)).toContainText('0xc1000001');

  await page.getByRole('searchbox', { name: /Search SAs/ }).fill('0xc10000ff');
  await expect(grid).toHaveAttribute('aria-rowcount', '2');
  await expect(page).toHaveURL(/q=0xc10000ff/);

  await grid.focus();
  await page.keyboard.press('Enter');
  const drawer = page.getByTestId('sa-drawer');
  await expect(drawer).toContainText('esp 0xc10000ff');
  await expect(drawer).toContainText('fingerprint ab12cd34');
  await expect(drawer.getByRole('meter', { name: 'bytes to soft limit' })).toHaveAttribute('aria-valuenow', '25');
  await expect(drawer.getByRole('meter', { name: /sequence space used/ })).toBeVisible();
  await expect(page).toHaveURL(/sa=/);
  await page.screenshot({ path: 'test-results/console-sa-drawer.png', fullPage: false });

  // Rows update in place: the counters of the open SA move.
  const sa = sas[254]!;
  hub.sendDeltas([{ kind: 'sa', op: 'upsert', key: sa.key, value: { ...sa, lifetime: { ...sa.lifetime, current: { ...sa.lifetime.current, bytes: '750000' } } } }]);
  await expect(drawer.getByRole('meter', { name: 'bytes to soft limit' })).toHaveAttribute('aria-valuenow', '75');

  // The URL alone reopens the same view.
  const url = page.url();
  await page.goto(url);
  await expect(page.getByTestId('sa-drawer')).toContainText('esp 0xc10000ff');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('sa-drawer')).toHaveCount(0);
});

test('SA table: a column sorts from the keyboard (Tab to its header, Enter) without opening a row', async ({ page }) => {
  const sas = Array.from({ length: 50 }, (_, i) => syntheticSa(i + 1));
  await fakeHub(page, () => ({ sa: sas, source: [{ key: 'xfrm-sa', id: 'xfrm-sa', label: 'XFRM SAs', state: 'ok', since: Date.now(), resyncs: 0, decodeErrors: 0 }] }));
  await page.goto('/sas');
  const grid = page.getByRole('grid', { name: 'Security associations' });
  await expect(grid).toHaveAttribute('aria-rowcount', '51');
  await grid.focus();
  await page.keyboard.press('Tab');
  const button = page.locator(':focus');
  await expect(button).toHaveJSProperty('tagName', 'BUTTON');
  const header = grid.getByRole('columnheader').filter({ has: button });
  const before = await header.getAttribute('aria-sort');
  await page.keyboard.press('Enter');
  await expect(header).not.toHaveAttribute('aria-sort', before ?? 'none');
  await expect(page.getByTestId('sa-drawer')).toHaveCount(0);
});
