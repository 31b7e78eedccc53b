// errorCode / errorWords: a thrown value's errno name read without a cast (families say "ENOENT", never
// "[object Object]"), and nothing made up for a value that carries none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorCode, errorWords } from '../../../server/sys/errno.ts';

test('errorCode: the code of a Node system error, undefined for anything else', () => {
  let thrown: unknown;
  try {
    readFileSync('/nonexistent/sascope-test');
  } catch (err) {
    thrown = err;
  }
  assert.equal(errorCode(thrown), 'ENOENT');
  assert.equal(errorWords(thrown), 'ENOENT');
  assert.equal(errorCode(new Error('plain')), undefined);
  assert.equal(errorWords(new Error('plain')), 'plain');
  assert.equal(errorCode(Object.assign(new Error('x'), { code: 42 })), undefined, 'a code that is not a name is not an errno name');
  assert.equal(errorCode('ENOENT'), undefined, 'a string thrown is not an error with a code');
  assert.equal(errorWords('just words'), 'just words');
  assert.equal(errorWords(undefined), 'undefined');
});
