// Every spec takes `test` and `expect` from here (playwright.config.ts refuses a spec that does not): a
// page that logs a console error or throws an uncaught exception fails its test, so a hydration mismatch
// or a broken render cannot pass unseen. A test that provokes an error on purpose (a refused POST shows
// in Chromium's console as "Failed to load resource … 403") says so with allowConsoleError().
import { test as base, expect } from '@playwright/test';

export { expect };

const ALLOWED = 'allowed console error';

/** In the running test, console errors matching `pattern` are expected (the annotation shows in the report). */
export function allowConsoleError(pattern: RegExp): void {
  test.info().annotations.push({ type: ALLOWED, description: pattern.source });
}

export const test = base.extend<{ consoleErrors: void }>({
  consoleErrors: [
    async ({ page }, use, testInfo) => {
      const seen: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') seen.push(`console error on ${page.url()}: ${m.text()}${m.location().url ? ` (${m.location().url})` : ''}`);
      });
      page.on('pageerror', (e) => seen.push(`uncaught on ${page.url()}: ${e.message}`));
      await use();
      const allowed = testInfo.annotations.filter((a) => a.type === ALLOWED).map((a) => new RegExp(a.description ?? ''));
      expect(seen.filter((s) => !allowed.some((p) => p.test(s))), 'errors in the browser console').toEqual([]);
    },
    { auto: true },
  ],
});
