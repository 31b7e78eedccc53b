// strongSwan in the console against a real charon (lab-a's, over VICI): the tunnels page names the pair's
// tunnels by connection ('lab/host (10.0.0.2)'), and an operator terminates the host CHILD SA from the
// strongSwan page — the button, the confirmation naming it, confirm — and it goes down: its XFRM SAs leave
// the kernel (ip xfrm state) and the tunnels page shows it down. The CHILD SA is initiated again afterwards
// (this file runs before lab-ui.spec.ts, which needs the pair). Screenshots go to test-results/.
import { test, expect } from '@playwright/test';

const control = process.env.LAB_UI_CONTROL!;
const operator = process.env.LAB_UI_OPERATOR!;
const vici = 'unix:///tmp/sascope-lab/strongswan/lab-a/run/charon.vici';

async function vm(cmd: string): Promise<{ code: number; out: string }> {
  const r = await fetch(control, { method: 'POST', body: JSON.stringify({ cmd }) });
  return (await r.json()) as { code: number; out: string };
}

test('a tunnel row shows its connection name; a terminate from the console takes it down', async ({ page, baseURL }) => {
  await page.setViewportSize({ width: 1600, height: 1000 });
  // An operator signs in with the login form (a token in the URL is for viewers only).
  await page.goto('/login?next=/tunnels');
  await page.locator('#token').fill(operator);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/tunnels$/);
  const rows = page.locator('table[aria-label="Tunnels"] tbody tr');
  // An XFRM tunnel (up, with its SPIs: not the 'down' row of a configured child without SAs) named by strongSwan.
  // (Right after a rekey, until charon's new CHILD SA is read, it has its plain name: polled.)
  for (const name of ['lab/net (10.0.0.2)', 'lab/host (10.0.0.2)']) await expect(rows.filter({ hasText: name }).filter({ hasNotText: 'down' }).filter({ hasText: /0x[0-9a-f]{8}/ }).first()).toBeVisible({ timeout: 120_000 });
  await page.screenshot({ path: 'test-results/lab-vici-tunnels.png' });

  // The host CHILD SA as charon has it; its pings stop first, or its trap policy would bring it back at once.
  await vm('kill $(cat /tmp/sascope-lab/strongswan/ping-host.pid)');
  const { childSas } = (await (await fetch(`${baseURL}/api/v1/vici`, { headers: { authorization: `Bearer ${operator}` } })).json()) as { childSas: Array<{ name: string; uniqueId: number; state: string; spiIn: string; spiOut: string }> };
  const host = childSas.find((c) => c.name === 'host' && c.state === 'INSTALLED')!;
  expect((await vm('ip -n lab-a xfrm state')).out).toContain(`spi 0x${host.spiIn} `);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'strongSwan' }).click();
  await page.getByTestId(`vici-terminate-child-${host.uniqueId}`).click();
  await expect(page.getByRole('dialog').getByTestId('vici-confirm-words')).toContainText(`"host" #${host.uniqueId}`);
  await page.screenshot({ path: 'test-results/lab-vici-confirm.png' });
  await page.getByTestId('vici-confirm-go').click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.locator('[data-testid^="vici-action-"]').filter({ hasText: `terminate CHILD SA #${host.uniqueId}` })).toContainText('ok', { timeout: 60_000 });
  await expect
    .poll(async () => {
      const states = (await vm('ip -n lab-a xfrm state')).out;
      return states.includes(`spi 0x${host.spiIn} `) || states.includes(`spi 0x${host.spiOut} `);
    }, { timeout: 60_000, message: "the host CHILD SA's XFRM SAs leave the kernel" })
    .toBe(false);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tunnels' }).click();
  await expect(rows.filter({ hasText: 'lab/host' }).filter({ hasText: 'down · went down' }).first()).toBeVisible({ timeout: 60_000 });
  await page.screenshot({ path: 'test-results/lab-vici-down.png' });

  // As it was for the specs after this one: host up again, its pings on.
  expect((await vm(`swanctl --initiate --child host --timeout 60 --uri ${vici} >/dev/null 2>&1`)).code).toBe(0);
  await vm('ip netns exec lab-a ping -q -i 0.2 -s 1000 10.0.0.2 >/dev/null 2>&1 & echo $! > /tmp/sascope-lab/strongswan/ping-host.pid');

  // Everything charon said over minutes of 20 s rekeys decoded: a row that does not is dropped (overdue rekey
  // times, a last use ahead of charon's clock were such rows once).
  const { sources } = (await (await fetch(`${baseURL}/api/v1/sources`, { headers: { authorization: `Bearer ${operator}` } })).json()) as { sources: Array<{ id: string; decodeErrors: number; lastDecodeError?: string }> };
  const v = sources.find((s) => s.id === 'vici')!;
  expect(v.decodeErrors, v.lastDecodeError).toBe(0);
});
