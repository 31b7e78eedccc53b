// strongSwan's page: connections (one up, one configured but down), IKE and CHILD SAs, the operator actions'
// confirmation naming exactly what will happen (only the confirmation posts), a refusal (409 while another
// action runs on the same SA) shown in words, the audit list live, a viewer's buttons disabled with the
// reason, and the server's 403 shown as not allowed. The page's WebSocket is routed to a synthetic model; the
// POSTs and whoami are answered here.
import { test, expect as baseExpect, allowConsoleError } from './fixtures.ts';
import { routeSynthetic, source } from './synthetic.ts';

const expect = baseExpect.configure({ timeout: 20_000 });
const now = Date.now();

function viciModel() {
  const conn = (name: string, children: string[]) => ({ key: name, name, version: 'IKEv2', localAddrs: ['192.0.2.1'], remoteAddrs: ['192.0.2.2'], local: [{ round: 'local-1', class: 'pre-shared key' }], remote: [{ round: 'remote-1', class: 'pre-shared key' }], children: children.map((n) => ({ name: n, mode: 'TUNNEL', localTs: [], remoteTs: [] })) });
  return {
    source: [source('vici', 'strongSwan (VICI)', 'ok', 'charon 5.9.8')],
    'vici-conn': [conn('site', ['net', 'net2']), { ...conn('badpsk', ['net']), lastReason: { code: 'auth-failed', time: now - 30_000 } }, conn('idle', ['net'])],
    'vici-ike': [{ key: '3', name: 'site', uniqueId: 3, state: 'ESTABLISHED', version: 2, remoteHost: '192.0.2.2', remoteId: 'moon.example', localHost: '192.0.2.1', establishedAt: now - 60_000 }],
    'vici-child': [
      { key: '7', name: 'net', uniqueId: 7, ikeName: 'site', ikeUniqueId: 3, state: 'INSTALLED', mode: 'TUNNEL', protocol: 'ESP', spiIn: 'c1d2e3f4', spiOut: 'c5d6e7f8', reqid: 1, localTs: ['10.0.0.0/24'], remoteTs: ['10.1.0.0/24'], bytesIn: '1000', bytesOut: '2000' },
      { key: '8', name: 'net2', uniqueId: 8, ikeName: 'site', ikeUniqueId: 3, state: 'INSTALLED', mode: 'TUNNEL', protocol: 'ESP', spiIn: 'c1d2e3f5', spiOut: 'c5d6e7f9', reqid: 2, localTs: ['10.0.1.0/24'], remoteTs: ['10.1.1.0/24'] },
    ],
    'vici-action': [] as unknown[],
    'vici-cert': [{ key: 'AA:BB', fingerprint: 'AA:BB', subject: 'CN=moon.lab', issuer: 'CN=lab CA', serial: '01', notBefore: now - 86400_000, notAfter: now + 3 * 86400_000, hasPrivateKey: false }],
  };
}

test('an operator terminates an IKE SA after a confirmation naming it; a second action on it is refused in words', async ({ page }) => {
  const m = viciModel();
  const live = await routeSynthetic(page, m);
  allowConsoleError(/status of 409 .*\/api\/v1\/vici\/rekey/);
  await page.route('**/api/v1/whoami', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ name: 'alice', role: 'operator' }) }));
  const posts: string[] = [];
  await page.route('**/api/v1/vici/**', async (route) => {
    expect(route.request().method()).toBe('POST');
    const url = new URL(route.request().url());
    posts.push(`${url.pathname}${url.search}`);
    if (url.pathname.endsWith('/terminate')) {
      const row = { key: 'a1', action: 'terminate', target: { ikeId: 3 }, by: 'alice', startedAt: Date.now(), result: 'running', log: [] };
      await route.fulfill({ status: 202, contentType: 'application/json', body: JSON.stringify({ action: row }) });
      live.upsert('vici-action', 'a1', row);
    } else {
      await route.fulfill({ status: 409, contentType: 'application/json', body: JSON.stringify({ error: { code: 'action-running', message: 'terminate of IKE SA #3 (by alice, started 2026-12-07T17:00:00.000Z) is still running; rekey of IKE SA #3 refused' } }) });
    }
  });
  await page.goto('/vici');
  await expect(page.getByTestId('vici-conn-state-site')).toHaveText('up');
  await expect(page.getByTestId('vici-conn-state-badpsk')).toHaveText('down');
  await expect(page.getByTestId('vici-conn-reason-badpsk')).toContainText('peer authentication failed');
  await expect(page.getByTestId('vici-conn-reason-idle')).toHaveText('never established while watched');
  await expect(page.getByTestId('vici-cert-CN=moon.lab')).toContainText('CN=lab CA');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'strongSwan' })).toBeVisible();

  // Cancel posts nothing.
  await page.getByTestId('vici-terminate-ike-3').click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByTestId('vici-confirm-words')).toHaveText('charon deletes IKE SA #3 of "site" with 192.0.2.2 (moon.example) and its CHILD SAs "net" #7, "net2" #8: traffic through them stops until the connection is initiated again.');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  expect(posts).toEqual([]);

  await page.getByTestId('vici-terminate-ike-3').click();
  await page.getByTestId('vici-confirm-go').click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.getByTestId('vici-action-a1')).toContainText('terminate IKE SA #3');
  await expect(page.getByTestId('vici-action-a1')).toContainText('alice');
  live.upsert('vici-action', 'a1', { key: 'a1', action: 'terminate', target: { ikeId: 3 }, by: 'alice', startedAt: Date.now(), endedAt: Date.now(), result: 'ok', log: ['[IKE] deleting IKE_SA site[3] between 192.0.2.1[sun]...192.0.2.2[moon]'] });
  await expect(page.getByTestId('vici-action-a1')).toContainText('ok');

  // Someone else's action on the same SA still runs: the server refuses, the dialog says why and stays.
  await page.getByTestId('vici-rekey-ike-3').click();
  await page.getByTestId('vici-confirm-go').click();
  await expect(page.getByTestId('vici-action-error')).toHaveText('Refused: terminate of IKE SA #3 (by alice, started 2026-12-07T17:00:00.000Z) is still running; rekey of IKE SA #3 refused');
  await expect(page.getByRole('dialog')).toBeVisible();
  expect(posts).toEqual(['/api/v1/vici/terminate?ike-id=3', '/api/v1/vici/rekey?ike-id=3']);
  await page.screenshot({ path: 'test-results/vici-actions.png', fullPage: true });
});

test('a viewer sees the action buttons disabled with the reason; the remote-users page lists who has a virtual IP', async ({ page }) => {
  const m = viciModel();
  m['vici-ike'].push({ key: '5', name: 'rw', uniqueId: 5, state: 'ESTABLISHED', version: 2, remoteHost: '198.51.100.9', remoteId: 'alice@example.org', localHost: '192.0.2.1', establishedAt: now - 120_000, remoteVips: ['10.9.0.1'] } as never);
  await routeSynthetic(page, m);
  await page.route('**/api/v1/whoami', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ name: 'wall', role: 'viewer' }) }));
  await page.goto('/vici');
  const b = page.getByTestId('vici-terminate-ike-3');
  await expect(b).toBeDisabled();
  await expect(b).toHaveAttribute('title', 'Operators only: this console was opened with a viewer token');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'VPN users' }).click();
  await expect(page.getByTestId('vici-user-5')).toContainText('alice@example.org');
  await expect(page.getByTestId('vici-user-5')).toContainText('10.9.0.1');
  await expect(page.getByTestId('vici-disconnect-5')).toBeDisabled();
});

test("the server's 403 (the token is no longer an operator's) shown as not allowed; initiating a down connection's child and terminating a CHILD SA name exactly what happens", async ({ page }) => {
  await routeSynthetic(page, viciModel());
  allowConsoleError(/status of 403 .*\/api\/v1\/vici\/(initiate|terminate)/);
  // the page was opened as an operator; the server now answers as to a viewer (the token was replaced)
  await page.route('**/api/v1/whoami', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ name: 'alice', role: 'operator' }) }));
  const posts: string[] = [];
  await page.route('**/api/v1/vici/**', async (route) => {
    const url = new URL(route.request().url());
    posts.push(`${url.pathname}${url.search}`);
    await route.fulfill({ status: 403, contentType: 'application/json', body: JSON.stringify({ error: { code: 'forbidden', message: `POST ${url.pathname} needs the operator role` } }) });
  });
  await page.goto('/vici');
  await page.getByTestId('vici-initiate-badpsk-net').click();
  await expect(page.getByRole('dialog').getByTestId('vici-confirm-words')).toHaveText('charon initiates connection "badpsk" to 192.0.2.2: an IKE SA, then CHILD SA "net" in the kernel.');
  await page.getByTestId('vici-confirm-go').click();
  await expect(page.getByTestId('vici-action-error')).toHaveText('Not allowed: POST /api/v1/vici/initiate needs the operator role');
  await expect(page.getByRole('dialog')).toBeVisible();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

  await page.getByTestId('vici-terminate-child-8').click();
  await expect(page.getByRole('dialog').getByTestId('vici-confirm-words')).toHaveText('charon deletes CHILD SA "net2" #8 of "site" (SPIs c1d2e3f5 in, c5d6e7f9 out) and its kernel SAs: traffic through it stops; the IKE SA stays.');
  await page.getByTestId('vici-confirm-go').click();
  await expect(page.getByTestId('vici-action-error')).toHaveText('Not allowed: POST /api/v1/vici/terminate needs the operator role');
  expect(posts).toEqual(['/api/v1/vici/initiate?conn=badpsk&child=net', '/api/v1/vici/terminate?child-id=8']);
});
