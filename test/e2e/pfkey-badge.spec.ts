// PF_KEY ⇄ XFRM cross-check in the UI: a mismatch is a worded badge on the SA table, the PF_KEY page sums
// the results and links a mismatch to the SA drawer; PF_KEY absent is said in words. Synthetic model.
import { test, expect as baseExpect, allowConsoleError } from './fixtures.ts';
import { model, routeSynthetic, source } from './synthetic.ts';
import { spiHex } from '../../server/wire/xfrm.ts';

// The machine is shared (VMs, builds): give the page time rather than fail on a slow frame.
const expect = baseExpect.configure({ timeout: 20_000 });

test('a mismatch is a visible badge on the SA table, with the differences on hover', async ({ page }) => {
  const m = model();
  await routeSynthetic(page, m.entities);
  await page.setViewportSize({ width: 1600, height: 900 });
  await page.goto('/sas');
  const mismatch = m.sas[2]!.key;
  const badge = page.getByTestId(`pfkey-badge-${mismatch}`);
  await expect(badge).toBeVisible();
  await expect(badge).toHaveText('≠ mismatch (1)');
  await expect(badge).toHaveAttribute('title', 'reqid: XFRM 102 ≠ PF_KEY 999');
  await expect(page.getByTestId(`pfkey-badge-${m.sas[0]!.key}`)).toHaveText('agrees');
  await expect(page.getByTestId(`pfkey-badge-${m.sas[3]!.key}`)).toHaveText('not representable');
  await page.screenshot({ path: 'test-results/sas-pfkey-badges.png' });
});

test('the PF_KEY page sums the cross-check and a mismatch opens the SA drawer', async ({ page }) => {
  const m = model();
  await routeSynthetic(page, m.entities);
  await page.setViewportSize({ width: 1440, height: 1000 });
  await page.goto('/pfkey');
  await expect(page.getByTestId('pfkey-count-mismatch')).toContainText('1');
  await expect(page.getByTestId('pfkey-count-agree')).toContainText('1');
  await expect(page.getByTestId('pfkey-count-not-representable')).toContainText('2');
  await expect(page.getByTestId('pfkey-count-missing')).toContainText('1');
  await expect(page.getByTestId('pfkey-reasons')).toContainText('AEAD rfc4106(gcm(aes))');
  await page.screenshot({ path: 'test-results/pfkey-page.png', fullPage: true });

  await page.getByTestId('pfkey-count-mismatch').click();
  await expect(page).toHaveURL(/status=mismatch/);
  const grid = page.getByRole('grid', { name: 'Cross-check results' });
  await expect(grid.locator('[role="row"][data-key]')).toHaveCount(1);
  await expect(grid).toContainText('reqid: XFRM 102 ≠ PF_KEY 999');
  // the SA in words from its row's typed fields (protocol, SPI, destination), not parsed from the key
  await expect(grid).toContainText(`esp ${spiHex(m.sas[2]!.spi)} → ${m.sas[2]!.dst}`);

  // Keyboard: focus the grid, Enter opens the check's detail.
  await grid.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('pfkey-check-detail')).toContainText('reqid');

  await page.getByTestId('pfkey-check-detail').getByRole('link', { name: 'Open the SA’s details' }).click();
  await expect(page).toHaveURL(new RegExp(`/sas\\?sa=${encodeURIComponent(m.sas[2]!.key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const drawer = page.getByTestId('sa-drawer');
  await expect(drawer).toBeVisible();
  await expect(drawer).toContainText('mismatch');
  await expect(drawer).toContainText('XFRM 102 ≠ PF_KEY 999');
});

test('without af_key the PF_KEY page says so in words', async ({ page }) => {
  const m = model();
  m.entities.source = [source('xfrm-sa', 'XFRM security associations'), source('pfkey', 'PF_KEY v2', 'not-available', 'module af_key not loaded')];
  m.entities['pfkey-sa'] = [];
  m.entities['pfkey-policy'] = [];
  m.entities['pfkey-alg'] = [];
  m.entities['pfkey-register'] = [{ key: 'register', state: 'unavailable', reason: 'module af_key not loaded' }];
  m.entities['pfkey-check'] = [];
  await routeSynthetic(page, m.entities);
  await page.goto('/pfkey');
  await expect(page.getByTestId('source-notice-pfkey')).toContainText('PF_KEY not available (module af_key not loaded)');
  await expect(page.getByTestId('source-notice-pfkey')).not.toContainText('PF_KEY:'); // the name once, before the reason
  await expect(page.locator('section[aria-labelledby="pfkey-check-title"]').getByRole('alert')).toContainText('PF_KEY not available (module af_key not loaded)');
  await expect(page.getByRole('heading', { name: /Algorithms PF_KEY REGISTER advertises/ })).toBeVisible();
  await expect(page.getByTestId('pfkey-register-button')).toBeDisabled();
  await expect(page.getByTestId('pfkey-register-state')).toHaveText('not available');
  await page.screenshot({ path: 'test-results/pfkey-not-available.png', fullPage: true });
});

test('REGISTER is sent only when an operator asks: idle, probing, the list, a refusal in words', async ({ page }) => {
  const m = model();
  const algs = m.entities['pfkey-alg'] as Array<{ key: string }>;
  m.entities['pfkey-alg'] = [];
  m.entities['pfkey-register'] = [{ key: 'register', state: 'idle' }];
  const live = await routeSynthetic(page, m.entities);
  allowConsoleError(/status of 403 .*\/api\/v1\/pfkey\/register/);
  let posts = 0;
  await page.route('**/api/v1/pfkey/register', async (route) => {
    expect(route.request().method()).toBe('POST');
    posts++;
    if (posts === 1) {
      const running = { key: 'register', state: 'running', startedAt: Date.now() };
      await route.fulfill({ status: 202, contentType: 'application/json', body: JSON.stringify({ register: running }) });
      live.upsert('pfkey-register', 'register', running);
    } else {
      await route.fulfill({ status: 403, contentType: 'application/json', body: JSON.stringify({ error: { code: 'forbidden', message: 'POST /api/v1/pfkey/register needs the operator role' } }) });
    }
  });
  await page.goto('/pfkey');
  const button = page.getByTestId('pfkey-register-button');
  await expect(page.getByTestId('pfkey-register-state')).toHaveText('not asked yet');
  await expect(page.locator('section[aria-labelledby="pfkey-algs-title"]')).toContainText('Not asked yet: the list appears once an operator asks the kernel.');
  await expect(page.locator('section[aria-labelledby="pfkey-algs-title"]')).toContainText('holding the XFRM configuration lock');
  await button.click();
  await expect(button).toBeDisabled();
  await expect(page.getByTestId('pfkey-register-state')).toHaveText('kernel probing…');
  for (const a of algs) live.upsert('pfkey-alg', a.key, a);
  live.upsert('pfkey-register', 'register', { key: 'register', state: 'done', startedAt: Date.now() - 2300, finishedAt: Date.now(), tookMs: 2300 });
  await expect(page.getByTestId('pfkey-register-state')).toHaveText('answered');
  await expect(page.getByTestId('pfkey-register-status')).toContainText('answered in 2.3 s');
  await expect(page.getByRole('heading', { name: `Algorithms PF_KEY REGISTER advertises (${algs.length})` })).toBeVisible();
  await expect(button).toHaveText('Ask again');
  await button.click();
  await expect(page.getByTestId('pfkey-register-error')).toHaveText('Not allowed: POST /api/v1/pfkey/register needs the operator role');
  expect(posts).toBe(2);
  await page.screenshot({ path: 'test-results/pfkey-register.png', fullPage: true });
});
