// The AF_ALG probe button on /crypto: operator start, disabled while running, results live, the server's
// refusal (409 while one runs, 403 for a viewer) shown in words. The page's WebSocket is routed to a
// synthetic model and the POST is answered by the test, so no kernel crypto is needed; the last test
// runs the real probe against the server's kernel and expects the outcome this kernel allows.
import { existsSync, readFileSync } from 'node:fs';
import koffi from 'koffi';
import { test, expect as baseExpect, allowConsoleError } from './fixtures.ts';
import { model, routeSynthetic } from './synthetic.ts';

// The machine is shared (VMs, builds): give the page time rather than fail on a slow frame.
const expect = baseExpect.configure({ timeout: 20_000 });

const PROBE = '/api/v1/crypto/probe';

test('an operator starts the probe: the button is disabled while it runs, results arrive live, a refusal is shown', async ({ page }) => {
  const m = model();
  const live = await routeSynthetic(page, m.entities);
  allowConsoleError(/status of 409 .*\/api\/v1\/crypto\/probe/);
  let posts = 0;
  await page.route(`**${PROBE}`, async (route) => {
    expect(route.request().method()).toBe('POST');
    posts++;
    if (posts === 1) {
      const running = { ...m.probe, state: 'running', startedAt: Date.now(), basis: 'in-use', current: 'cbc(aes)' };
      await route.fulfill({ status: 202, contentType: 'application/json', body: JSON.stringify({ probe: running }) });
      live.upsert('crypto-probe', 'probe', running);
    } else {
      await route.fulfill({ status: 409, contentType: 'application/json', body: JSON.stringify({ error: { code: 'probe-running', message: 'a crypto probe is already running (since 2026-01-01T00:00:00.000Z, now measuring hmac(sha256)); wait for it to finish' } }) });
    }
  });
  await page.goto('/crypto');
  const button = page.getByTestId('probe-button');
  await expect(button).toHaveText('Run throughput probe');
  await expect(button).toBeEnabled();
  await expect(page.getByTestId('probe-state')).toHaveText('not run yet');

  await button.click();
  await expect(button).toBeDisabled();
  await expect(button).toHaveText('Probe running…');
  await expect(page.getByTestId('probe-status')).toContainText('measuring cbc(aes)');
  await page.screenshot({ path: 'test-results/crypto-probe-running.png', fullPage: true });

  const started = Date.now() - 3000;
  live.upsert('crypto-probe', 'probe', {
    ...m.probe, state: 'done', startedAt: started, finishedAt: Date.now(), basis: 'in-use',
    results: [
      { name: 'cbc(aes)', type: 'skcipher', keyBits: 256, bytes: 67108864, seconds: 0.082, mbPerSec: 818.4, driver: 'cbc-aes-aesni' },
      { name: 'hmac(sha256)', type: 'hash', keyBits: 256, bytes: 67108864, seconds: 0.31, mbPerSec: 216.5, driver: 'hmac(sha256-ni)' },
      { name: 'rfc4106(gcm(aes))', type: 'aead', keyBits: 160, bytes: 0, seconds: 0, error: 'algif_aead: EAFNOSUPPORT' },
    ],
  });
  await expect(button).toBeEnabled();
  await expect(page.getByTestId('probe-state')).toHaveText('done');
  await expect(page.getByTestId('probe-cbc(aes)')).toContainText('818.4 MB/s');
  await expect(page.getByTestId('probe-cbc(aes)')).toContainText('cbc-aes-aesni');
  await expect(page.getByTestId('probe-rfc4106(gcm(aes))')).toContainText('not measured: algif_aead: EAFNOSUPPORT');

  // Someone else's probe runs already: the server refuses, the page says why and stays usable.
  await button.click();
  await expect(page.getByTestId('probe-error')).toContainText('Refused: a crypto probe is already running');
  await expect(button).toBeEnabled();
  expect(posts).toBe(2);
  await page.screenshot({ path: 'test-results/crypto-probe-done.png', fullPage: true });
});

test('a viewer is refused with the server’s message', async ({ page }) => {
  const m = model();
  await routeSynthetic(page, m.entities);
  allowConsoleError(/status of 403 .*\/api\/v1\/crypto\/probe/);
  await page.route(`**${PROBE}`, (route) =>
    route.fulfill({ status: 403, contentType: 'application/json', body: JSON.stringify({ error: { code: 'forbidden', message: 'POST /api/v1/crypto/probe needs the operator role' } }) }),
  );
  await page.goto('/crypto');
  await page.getByRole('button', { name: 'Run throughput probe' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'needs the operator role' })).toHaveText('Not allowed: POST /api/v1/crypto/probe needs the operator role');
  await expect(page.getByTestId('probe-button')).toBeEnabled();
});

test('a probe that cannot run says why', async ({ page }) => {
  const m = model();
  m.entities['crypto-probe'] = [{ ...m.probe, state: 'unavailable', startedAt: Date.now() - 1000, finishedAt: Date.now(), reason: 'AF_ALG restricted: /proc/sys/crypto/af_alg_restrict is 1' }];
  await routeSynthetic(page, m.entities);
  await page.goto('/crypto');
  await expect(page.getByTestId('probe-reason')).toHaveText('Not available: AF_ALG restricted: /proc/sys/crypto/af_alg_restrict is 1');
  await expect(page.getByTestId('crypto-use-rfc4106(gcm(aes))')).toContainText('rfc4106-gcm-aesni');
});

/** Whether this kernel lets a process use AF_ALG: asked of libc directly (not of sascope), and af_alg_restrict (7.3+). */
function afAlgUsable(): boolean {
  const libc = koffi.load('libc.so.6');
  const fd = libc.func('int socket(int domain, int type, int protocol)')(38 /* AF_ALG */, 5 /* SOCK_SEQPACKET */, 0) as number;
  if (fd < 0) return false;
  libc.func('int close(int fd)')(fd);
  const restrict = '/proc/sys/crypto/af_alg_restrict';
  return !existsSync(restrict) || readFileSync(restrict, 'utf8').trim() === '0';
}

test('the real probe against this kernel: accepted, then done with its results where AF_ALG works, else not available with the reason', async ({ page }) => {
  test.setTimeout(120_000);
  const usable = afAlgUsable();
  await page.goto('/crypto');
  await expect(page.getByTestId('freshness')).toHaveAttribute('data-connected', 'true');
  const button = page.getByTestId('probe-button');
  await expect(button).toBeEnabled();
  const [resp] = await Promise.all([page.waitForResponse((r) => r.url().endsWith(PROBE)), button.click()]);
  expect(resp.status()).toBe(202);
  await expect(page.getByTestId('probe-state')).toHaveText(usable ? 'done' : 'not available', { timeout: 60_000 });
  await expect(button).toBeEnabled();
  if (usable) await expect(page.getByRole('table', { name: 'Probe results' }).getByRole('row').nth(1)).toContainText(/MB\/s|not measured/);
  else await expect(page.getByTestId('probe-reason')).toContainText('AF_ALG');
});
