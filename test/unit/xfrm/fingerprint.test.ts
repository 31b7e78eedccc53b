// Key fingerprints are HMAC-SHA256(key) under the secret, first 8 hex digits (server/families/fingerprint.ts
// computes it in JS from the secret's midstates): the same value node:crypto's HMAC gives, for keys that end
// inside the first block, at its padding boundary (55/56 bytes) and across several blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { keyFingerprint, useFingerprintSecret } from '../../../server/families/fingerprint.ts';

test('keyFingerprint equals HMAC-SHA256 (node:crypto) truncated to 8 hex digits, for every key length', () => {
  for (let round = 0; round < 8; round++) {
    const secret = randomBytes(32);
    useFingerprintSecret(secret);
    for (const len of [0, 1, 16, 20, 32, 36, 54, 55, 56, 57, 63, 64, 65, 119, 120, 128, 300, 513]) {
      const key = randomBytes(len);
      assert.equal(keyFingerprint(key), createHmac('sha256', secret).update(key).digest('hex').slice(0, 8), `key of ${len} bytes`);
    }
  }
  useFingerprintSecret(Buffer.alloc(32, 1));
  assert.notEqual(keyFingerprint(Buffer.alloc(20, 7)), keyFingerprint(Buffer.alloc(20, 8)), 'different keys, different fingerprints');
});
