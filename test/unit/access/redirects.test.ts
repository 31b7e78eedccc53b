// Redirect targets (after sign-in, after the URL token exchange) are paths on this server, read the way
// a browser reads a Location: tabs/newlines dropped, backslashes as slashes, dot segments resolved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loginPage, safeNext } from '../../../server/hub/auth.ts';

test('safeNext: nothing that a browser would read as another host', () => {
  for (const next of ['//evil.example', '/\\evil.example', '/\t/evil.example', '/\n/evil.example', '/\r\n/evil.example', '\\/evil.example', 'https://evil.example', 'evil.example', '/\\\\evil.example', '/\t\\evil.example']) {
    assert.equal(safeNext(next), '/', JSON.stringify(next));
  }
});

test('safeNext: dot segments and encoded dots cannot leave a "//" at the start', () => {
  assert.equal(safeNext('/.//evil.example/x'), '/evil.example/x');
  assert.equal(safeNext('/..//evil.example/x'), '/evil.example/x');
  assert.equal(safeNext('/%2e%2e//evil.example'), '/evil.example');
  assert.equal(safeNext('/%2E//evil.example'), '/evil.example');
  assert.equal(safeNext('/a/..//evil.example'), '/evil.example');
});

test('safeNext: encoded slashes and controls stay encoded inside the path', () => {
  assert.equal(safeNext('/%09/evil.example'), '/%09/evil.example');
  assert.equal(safeNext('/%2F%2Fevil.example'), '/%2F%2Fevil.example');
  assert.equal(safeNext('/%5Cevil.example'), '/%5Cevil.example');
  assert.doesNotMatch(safeNext('/a b/é'), /[\s\x80-\uffff]/, 'a header-safe Location');
});

test('safeNext: ordinary paths are kept', () => {
  assert.equal(safeNext('/policies?x=1'), '/policies?x=1');
  assert.equal(safeNext('/wall?view=x#top'), '/wall?view=x#top');
  assert.equal(safeNext(null), '/');
  assert.equal(safeNext(''), '/');
});

test('the login page carries the normalised next', () => {
  assert.match(loginPage({ next: '/\t/evil.example' }), /name="next" value="\/"/);
});
