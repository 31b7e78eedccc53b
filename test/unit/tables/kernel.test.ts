// The header reader the table checks rely on, on a header written here (runs without the kernel tree).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerConstants } from './kernel.ts';

test('headerConstants: #defines, enum members with implicit increments, (1 << n) and references to earlier names', () => {
  const k = headerConstants(`
#define BASE 0x10 /* a comment */
#define MASK (1U << 3) | 2
#define SELF SELF
#define LATER (B_MAX + 1)
enum named {
  A_UNSPEC,
  A_FIRST = BASE, // line comment
#define A_FIRST A_FIRST
  A_SECOND,
  A_FLAG = 1 << 4,
  __A_MAX
};
enum { B_ONE = A_SECOND + 1, B_TWO, B_MAX = (B_TWO - 1) };
#define A_MAX (__A_MAX - 1)
`);
  const want = { BASE: 16, MASK: 10, A_UNSPEC: 0, A_FIRST: 16, A_SECOND: 17, A_FLAG: 16, __A_MAX: 17, A_MAX: 16, B_ONE: 18, B_TWO: 19, B_MAX: 18, LATER: 19 };
  for (const [n, v] of Object.entries(want)) assert.equal(k.value.get(n), v, n);
  assert.equal(k.value.has('SELF'), false);
});
