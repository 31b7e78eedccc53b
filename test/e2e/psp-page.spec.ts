// The PSP page on a synthetic model: versions, associated devices from other namespaces, every
// device statistic, and a key rotation arriving live.
import { test, expect as baseExpect } from './fixtures.ts';
import { fakeHub } from './fake-hub.ts';

const expect = baseExpect.configure({ timeout: 20_000 });
const stats = { keyRotations: '3', staleEvents: '1', rxPackets: '1000', rxBytes: '1048576', rxAuthFail: '2', rxError: '4', rxBad: '5', txPackets: '900', txBytes: '2097152', txError: '6' };
const dev = (over: Record<string, unknown> = {}) => ({
  key: '1', id: 1, ifindex: 3, ifname: 'eni0np1', versionsCapable: ['hdr0-aes-gcm-128', 'hdr0-aes-gcm-256'], versionsEnabled: ['hdr0-aes-gcm-128'],
  associated: [{ ifindex: 7, nsid: 42 }], byAssociation: false, stats, rotations: 0, ...over,
});

test('PSP devices: associated devices, all statistics, and a live key rotation', async ({ page }) => {
  const hub = await fakeHub(page, () => ({ 'psp-dev': [dev()], source: [{ key: 'psp', id: 'psp', label: 'PSP', state: 'ok', since: Date.now(), resyncs: 0, decodeErrors: 0 }] }));
  await page.goto('/psp');
  const row = page.getByRole('row').filter({ hasText: 'eni0np1' });
  await expect(row).toContainText('hdr0-aes-gcm-256');
  await expect(row).toContainText('1: ifindex 7 (nsid 42)');
  await expect(row).toContainText('rx 1.00 MiB (1,000 pkt, 2 auth fail, 4 error, 5 bad)');
  await expect(row).toContainText('tx 2.00 MiB (900 pkt, 6 error)');
  await expect(row).toContainText('none seen');
  hub.sendDeltas([{ kind: 'psp-dev', op: 'upsert', key: '1', value: dev({ rotations: 1, lastRotation: Date.now(), associated: [] }) }]);
  await expect(row).toContainText(/1 · last/);
  await expect(row).toContainText('none');
  await page.screenshot({ path: 'test-results/psp.png', fullPage: true });
});
