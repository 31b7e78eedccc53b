// Devices, Crypto and PF_KEY pages on a synthetic model, light and dark: offload groups and flags, a
// device's features, and screenshots for a human to look at (test-results/).
import { test, expect as baseExpect } from './fixtures.ts';
import { model, routeSynthetic } from './synthetic.ts';

// The machine is shared (VMs, builds): give the page time rather than fail on a slow frame.
const expect = baseExpect.configure({ timeout: 20_000 });

for (const scheme of ['light', 'dark'] as const) {
  test(`devices, crypto and PF_KEY pages render (${scheme})`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.setViewportSize({ width: 1440, height: 1000 });
    const m = model();
    await routeSynthetic(page, m.entities);

    await page.goto('/devices');
    await expect(page.getByTestId('offload-summary')).toContainText('eni0np1');
    await expect(page.getByTestId(`offload-dev-3`)).toContainText('counters from driver, may lag');
    await expect(page.getByTestId(`offload-state-${m.sas[4]!.key}`)).toHaveText('device gone');
    await page.getByTestId('link-eni0np1').click();
    await expect(page).toHaveURL(/dev=3/);
    await expect(page.getByTestId('feature-esp-hw-offload')).toContainText('on');
    await expect(page.getByTestId('feature-esp-tx-csum-hw-offload')).toContainText('requested, not active');
    await page.screenshot({ path: `test-results/devices-${scheme}.png`, fullPage: true });

    await page.goto('/crypto');
    await expect(page.getByTestId('crypto-use-cbc(aes)')).toContainText('cbc-aes-aesni');
    await expect(page.getByTestId('crypto-info')).toContainText('algif_aead: not-loaded');
    await page.screenshot({ path: `test-results/crypto-${scheme}.png`, fullPage: true });

    await page.goto('/pfkey');
    await expect(page.getByTestId('pfkey-summary')).toBeVisible();
    await page.screenshot({ path: `test-results/pfkey-${scheme}.png`, fullPage: true });
  });
}

test('no offload-capable device is said in words', async ({ page }) => {
  const m = model();
  m.entities['offload-info'] = [{ key: 'offload', capableDevices: [], offloadedSas: 0, packetOffloadSas: 0, softwareSas: 5, note: 'no offload-capable device', fallback: '…' }];
  m.entities['offload-dev'] = [];
  await routeSynthetic(page, m.entities);
  await page.goto('/devices');
  await expect(page.getByTestId('no-offload-device')).toHaveText('no offload-capable device');
  await expect(page.getByText('No SA is offloaded to a device')).toBeVisible();
});
