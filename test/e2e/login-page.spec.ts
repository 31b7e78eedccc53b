// The sign-in page as a browser without a token sees it: served by the custom server before any Next
// asset, it must not make the browser fetch anything that needs a token (a 401 is a console error,
// which the fixture fails on). Served here from loginPage() itself: the e2e server runs open loopback.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, expect } from './fixtures.ts';
import { loginPage } from '../../server/hub/auth.ts';

let server: Server;
let base = '';
const asked: string[] = [];
test.beforeAll(async () => {
  server = createServer((req, res) => {
    asked.push(req.url ?? '');
    if (req.url?.startsWith('/login')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(loginPage({ error: undefined }));
    } else {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"no-token"}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.afterAll(() => new Promise<void>((r) => server.close(() => r())));

test('the sign-in page asks the server for nothing else (its icon is inline, no /favicon.ico 401)', async ({ page }) => {
  await page.goto(`${base}/login`);
  await expect(page.getByTestId('login-form')).toBeVisible();
  await page.waitForLoadState('networkidle');
  expect(asked).toEqual(['/login']);
});
