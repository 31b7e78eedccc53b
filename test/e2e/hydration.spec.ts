// Every page hydrates the server's HTML without a mismatch (React #418): the HTML is built without data
// and without a clock, so what the browser renders first must not depend on its time, time zone, locale
// or data that arrived early. The browser here is in another zone and locale than the server; the
// console-error fixture (./fixtures.ts) fails the test on any hydration error.
import { test, expect } from './fixtures.ts';
import { model, routeSynthetic } from './synthetic.ts';
import { syntheticTunnel } from './fake-hub.ts';

test.use({ locale: 'de-DE', timezoneId: 'Pacific/Chatham' });

const PAGES = ['/', '/sas', '/tunnels', '/policies', '/devices', '/ovpn', '/psp', '/crypto', '/pfkey', '/events', '/fleet', '/search', '/wall'];

test('every page loads without a console error, in another time zone and locale', async ({ page }) => {
  const m = model();
  const t = Date.now();
  m.entities.tunnel = [syntheticTunnel('gw-a'), syntheticTunnel('gw-b', { state: 'down', alarms: ['tunnel-down'] })];
  m.entities.alarm = [{ key: 'tunnel-down:gw-b', type: 'tunnel-down', severity: 'critical', ref: 'tunnel:xfrm:esp:gw-b', summary: 'gw-b is down', since: t - 90_000 }];
  m.entities.rotation = [{ key: 'r1', family: 'xfrm', tunnel: 'xfrm:esp:gw-a', tunnelName: 'gw-a', time: t - 30_000, cause: 'soft-expire', state: 'done', oldSpi: 0xc0ffee00, newSpi: 0xc0ffee01 }];
  m.entities.event = [{ key: '1', id: 1, time: t - 5_000, source: 'xfrm-sa', type: 'NEWSA', summary: 'esp 0xc0ffee01' }];
  await routeSynthetic(page, m.entities);
  for (const path of PAGES) {
    await page.goto(path);
    // Hydrated and fed: the socket's data is on the page.
    if (path === '/wall') await expect(page.getByTestId('wall-tile')).toHaveCount(2);
    else await expect(page.getByTestId('freshness')).toHaveAttribute('data-connected', 'true');
  }
});
