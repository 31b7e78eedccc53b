// End to end in Debian's Chromium (never a downloaded browser) against the production build, inside a
// throw-away netns (npm run test:e2e → test/netns-run.sh), so the test may add XFRM policies.
import { defineConfig } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// A spec that takes `test` from @playwright/test itself would pass with errors in the browser console.
const here = path.dirname(fileURLToPath(import.meta.url));
for (const f of readdirSync(here).filter((n) => n.endsWith('.spec.ts'))) {
  if (!/from '\.\/fixtures\.ts'/.test(readFileSync(path.join(here, f), 'utf8'))) throw new Error(`test/e2e/${f}: import test and expect from './fixtures.ts' (it fails a test on browser console errors)`);
}

const port = Number(process.env.SASCOPE_E2E_PORT ?? 7399);

export default defineConfig({
  testDir: '.',
  testMatch: /.*\.spec\.ts/,
  outputDir: '../../test-results/e2e',
  timeout: 60_000,
  // A loaded 2-core machine renders slowly: assertions wait up to 15 s.
  expect: { timeout: 15_000 },
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    },
  },
  webServer: {
    // Open loopback access (the browser on 127.0.0.1 needs no token) and a throw-away data dir.
    command: `node server/bin.mjs serve --listen 127.0.0.1:${port} --open-loopback --data-dir "$(mktemp -d /tmp/sascope-e2e-XXXXXX)"`,
    cwd: '../..',
    url: `http://127.0.0.1:${port}/api/v1/health`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
