// The fleet console (serve --fleet) on synthetic data from the fake hub: the overview with one row per
// host (one of three stale), the host filter that every page obeys, the fleet-wide search, and the wall
// with the whole fleet on one 1080p screen (50 hosts × 10 tunnels without paging or scrolling).
import { test, expect } from './fixtures.ts';
import { fakeHub, syntheticFleet } from './fake-hub.ts';

const threeHosts = () => syntheticFleet(3, 3, { stale: ['gw-02'], alarmed: ['gw-03/t02'] });

test('fleet overview: a row per host with its state, last seen and counts; sortable and keyboard-usable', async ({ page }) => {
  const fleet = threeHosts();
  await fakeHub(page, () => fleet, { fleet: { hosts: 3 } });
  await page.goto('/');
  // The Fleet link and the host filter appear only on a fleet console.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fleet' }).click();
  await expect(page).toHaveURL(/\/fleet$/);
  const table = page.getByRole('table', { name: 'Hosts' });
  await expect(table.getByRole('row')).toHaveCount(4);
  // Worst first: the stale host leads.
  await expect(table.getByRole('row').nth(1)).toContainText('gw-02');
  await expect(page.getByTestId('host-state-gw-02')).toHaveText('stale');
  await expect(page.getByTestId('host-gw-02')).toContainText(/\d+ s ago/);
  await expect(page.getByTestId('host-gw-02')).toContainText('xfrm-sa'); // its source not ok
  await expect(page.getByTestId('host-gw-01')).toContainText('up');
  await expect(page.getByTestId('host-gw-03').getByRole('cell').nth(5)).toHaveText('1'); // its alarm
  await page.screenshot({ path: 'test-results/fleet-overview.png' });

  // Sorted by host on a click; the header says so.
  await table.getByRole('button', { name: 'Host' }).click();
  await expect(table.getByRole('columnheader', { name: 'Host' })).toHaveAttribute('aria-sort', 'ascending');
  await expect(table.getByRole('row').nth(1)).toContainText('gw-01');
  // Keyboard: the first row takes focus, arrows move, Enter shows the console filtered to that host.
  await table.getByRole('row').nth(1).focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/\?host=gw-03$/);
  await expect(page.getByTestId('host-filter')).toHaveValue('gw-03');
  await expect(page.getByTestId('count-sa')).toContainText(/^3/);
  await expect(page.getByTestId('alarm-list')).toContainText(/gw-03.*Hard expiry reached.*t02/);
  // A link that names no host (the overview's SA count) keeps the chosen one.
  await page.getByTestId('count-sa').click();
  await expect(page).toHaveURL(/\/sas\?host=gw-03$/);
  await expect(page.getByRole('grid', { name: 'Security associations' })).toHaveAttribute('aria-rowcount', '4');
});

test('fleet overview: loading, then the empty fleet in words', async ({ page }) => {
  await fakeHub(page, () => ({ host: [] }), { fleet: { hosts: 0 } });
  await page.goto('/fleet');
  await expect(page.getByText('No host has reported yet')).toBeVisible();
});

test('single-host serve: no Fleet link, no host filter, no fleet search', async ({ page }) => {
  await fakeHub(page, () => ({ tunnel: [], alarm: [] }));
  await page.goto('/');
  await expect(page.getByTestId('freshness')).toHaveAttribute('data-connected', 'true');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fleet' })).toHaveCount(0);
  await expect(page.getByTestId('host-filter')).toHaveCount(0);
  await expect(page.getByRole('searchbox', { name: 'Search the fleet' })).toHaveCount(0);
});

test('the host filter narrows every page and goes along in the links; search finds SPI, address, tunnel and host', async ({ page }) => {
  const fleet = threeHosts();
  await fakeHub(page, () => fleet, { fleet: { hosts: 3 } });
  await page.goto('/sas');
  const grid = page.getByRole('grid', { name: 'Security associations' });
  await expect(grid).toHaveAttribute('aria-rowcount', '10');
  await page.getByTestId('host-filter').selectOption('gw-03');
  await expect(page).toHaveURL(/host=gw-03/);
  await expect(grid).toHaveAttribute('aria-rowcount', '4');
  await expect(grid).toContainText('198.51.3.1');
  await expect(grid).not.toContainText('198.51.1.1');
  // The filter follows the navigation.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tunnels' }).click();
  await expect(page).toHaveURL(/\/tunnels\?host=gw-03/);
  await expect(page.getByRole('table', { name: 'Tunnels' }).getByRole('row')).toHaveCount(4);
  await expect(page.getByRole('table', { name: 'Tunnels' }).getByRole('columnheader', { name: 'Host' })).toBeVisible();
  await page.getByTestId('host-filter').selectOption('');
  await expect(page.getByRole('table', { name: 'Tunnels' }).getByRole('row')).toHaveCount(10);

  // Fleet-wide search from the header: an SPI (gw-02's second SA), then a tunnel name, an address, a host.
  const search = page.getByRole('searchbox', { name: 'Search the fleet' });
  await search.fill('c10007d1');
  await search.press('Enter');
  await expect(page).toHaveURL(/\/search\?q=c10007d1/);
  const sas = page.getByRole('table', { name: 'SAs found' });
  await expect(sas.getByRole('row')).toHaveCount(2);
  await expect(sas).toContainText('gw-02');
  await expect(page.getByRole('table', { name: 'Tunnels found' })).toContainText('gw-02 → peer-t02');
  const box = page.getByRole('searchbox', { name: /Search the fleet by/ });
  await box.fill('peer-t03');
  await expect(page.getByRole('table', { name: 'Tunnels found' }).getByRole('row')).toHaveCount(4);
  await box.fill('198.51.3.1');
  await expect(page.getByRole('table', { name: 'SAs found' }).getByRole('row')).toHaveCount(4);
  await box.fill('gw-03');
  await expect(page.getByRole('table', { name: 'Hosts found' }).getByRole('row')).toHaveCount(2);
  await page.screenshot({ path: 'test-results/fleet-search.png' });
  // A result opens where it lives, on its host.
  await page.getByRole('table', { name: 'Tunnels found' }).getByRole('row').nth(1).click();
  await expect(page).toHaveURL(/\/tunnels\?host=gw-03&tunnel=gw-03%2Fxfrm%3Aesp%3At01/);
  // Its rotations: a rotation names its tunnel by the key it has on its host.
  await expect(page.getByRole('table', { name: 'Rotations' }).getByRole('row')).toHaveCount(2);
  await expect(page.getByRole('table', { name: 'Rotations' })).toContainText('gw-03 → peer-t01');
});

test('fleet wall: alarms first across hosts, a stale host is an alarm tile, tiles grouped by host and a count per host', async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  const fleet = threeHosts();
  await fakeHub(page, () => fleet, { fleet: { hosts: 3 } });
  await page.goto('/wall');
  await expect(page.getByTestId('wall-hosts').getByTestId('wall-host')).toHaveCount(3);
  // The critical alarm first, then the stale host's own alarm.
  const alarms = page.getByTestId('wall-alarms').getByRole('listitem');
  await expect(alarms.nth(0)).toContainText('CRITICAL');
  await expect(alarms.nth(0)).toContainText('gw-03');
  await expect(alarms.nth(1)).toContainText('Host stale');
  // Trouble first: the stale host's tile, then the down tunnel with its host.
  const tile = page.getByTestId('wall-host-tile');
  await expect(tile).toHaveCount(1);
  await expect(tile).toContainText('HOST STALE');
  await expect(tile).toContainText('gw-02');
  await expect(tile).toContainText(/last seen \d+ s ago/);
  await expect(page.getByTestId('wall-tile').first()).toHaveAttribute('data-alarm', 'true');
  await expect(page.getByTestId('wall-tile').first()).toHaveAttribute('data-host', 'gw-03');
  await expect(page.locator('[data-testid=wall-host][data-host=gw-02]')).toHaveAttribute('data-state', 'stale');
  await expect(page.locator('[data-testid=wall-host][data-host=gw-01]').getByTestId('wall-healthy')).toHaveText('✓ 3');
  await expect(page.locator('[data-testid=wall-host][data-host=gw-03]')).toContainText('⚠ 1');
  await page.screenshot({ path: 'test-results/wall-fleet.png' });
});

test('fleet wall: 50 hosts × 10 tunnels fit one 1920×1080 screen without paging or scrolling', async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  const fleet = syntheticFleet(50, 10, { stale: ['gw-17'], alarmed: ['gw-04/t03', 'gw-31/t10'] });
  await fakeHub(page, () => fleet, { fleet: { hosts: 50 } });
  await page.goto('/wall');
  const cells = page.getByTestId('wall-host');
  await expect(cells).toHaveCount(50);
  await expect(page.getByTestId('wall-host-tile')).toHaveCount(1);
  await expect(page.locator('[data-testid=wall-tile][data-alarm=true]')).toHaveCount(2);
  // A down tunnel's tile has no rekey countdown beside "Hard expiry reached" (its last SA's countdown was shown).
  const down = page.locator('[data-testid=wall-tile][data-state=down]');
  await expect(down).toHaveCount(2);
  await expect(down.filter({ hasText: 'next rekey' })).toHaveCount(0);
  await expect(page.getByTestId('wall-page')).toHaveCount(0);
  // Nothing scrolls, and every host cell and problem tile lies wholly on screen.
  const fits = await page.evaluate(() => {
    const doc = document.documentElement;
    const wall = document.querySelector('[data-testid=wall]')!;
    const boxes = [...document.querySelectorAll('[data-testid=wall-host], [data-testid=wall-host-tile], [data-testid=wall-tile], [data-testid=wall-ticker]')].map((e) => e.getBoundingClientRect());
    return {
      scroll: doc.scrollHeight <= innerHeight && doc.scrollWidth <= innerWidth && wall.scrollHeight <= wall.clientHeight,
      offscreen: boxes.filter((b) => b.top < 0 || b.left < 0 || b.bottom > innerHeight || b.right > innerWidth).length,
    };
  });
  expect(fits).toEqual({ scroll: true, offscreen: 0 });
  await expect(page.locator('[data-testid=wall-host][data-host=gw-12]').getByTestId('wall-healthy')).toHaveText('✓ 10');
  await page.screenshot({ path: 'test-results/wall-fleet-50x10.png' });
});
