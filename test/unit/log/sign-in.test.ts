// The start-up word on how to get in: on a terminal the viewer's sign-in URL and where the operator token
// is; in a log only where the tokens are — never a token. (test/integration/firstrun.test.ts runs it for real.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { announceSignIn, localOrigin } from '../../../server/sign-in.ts';
import type { ServeConfig } from '../../../server/config.ts';
import { memoryLogger } from '../memlog.ts';

const viewer = 'v'.repeat(43);
const operator = 'o'.repeat(43);
const config = (from = '/var/lib/sascope/tokens.json') =>
  ({ tokens: { from, tokens: [{ name: 'operator', role: 'operator', token: operator }, { name: 'viewer', role: 'viewer', token: viewer }] }, configFile: '/etc/sascope.json' }) as unknown as ServeConfig;
const terminal = (isTTY: boolean) => {
  const out: string[] = [];
  return { out, isTTY, write: (s: string) => void out.push(s) };
};

test('on a terminal: the viewer URL, and where the operator token is; nothing in the log', () => {
  const { log, lines } = memoryLogger();
  const t = terminal(true);
  announceSignIn(log, config(), 'http://127.0.0.1:7300', t);
  const text = t.out.join('');
  assert.match(text, new RegExp(`http://127\\.0\\.0\\.1:7300/\\?token=${viewer}\\n`));
  assert.match(text, /on http:\/\/127\.0\.0\.1:7300\/login with the operator token from \/var\/lib\/sascope\/tokens\.json/);
  assert.ok(!text.includes(operator), 'no operator token in a URL or anywhere');
  assert.equal(lines.length, 0);
});

test('not a terminal: the log says where the tokens are, and no token', () => {
  for (const from of ['/var/lib/sascope/tokens.json', 'config']) {
    const { log, lines } = memoryLogger();
    const t = terminal(false);
    announceSignIn(log, config(from), 'http://127.0.0.1:7300', t);
    assert.equal(t.out.length, 0);
    const logged = JSON.stringify(lines);
    assert.match(logged, from === 'config' ? /with a token from the config file \/etc\/sascope\.json/ : /with a token from \/var\/lib\/sascope\/tokens\.json/);
    assert.ok(!logged.includes(viewer) && !logged.includes(operator));
  }
});

test('a wildcard listen address is reached on loopback', () => {
  assert.equal(localOrigin('0.0.0.0', 7300, false), 'http://127.0.0.1:7300');
  assert.equal(localOrigin('::', 7300, true), 'https://[::1]:7300');
  assert.equal(localOrigin('192.0.2.5', 80, false), 'http://192.0.2.5:80');
});
