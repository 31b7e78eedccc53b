// Playwright in Debian's Chromium on the host, against sascope running in a lab VM (test/lab/ui/run.ts
// boots it and passes LAB_UI_URL, LAB_UI_CONTROL, LAB_UI_VIEWER and LAB_UI_OPERATOR).
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: /.*\.spec\.ts/,
  // One worker runs the files in name order: lab-ui-vici.spec.ts (needs lab-a's charon up) before lab-ui.spec.ts
  // (whose last tests kill charon). A new file that needs charon sorts before lab-ui.spec.ts.
  outputDir: '../../../test-results/lab-ui',
  timeout: 300_000,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: process.env.LAB_UI_URL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    },
  },
});
