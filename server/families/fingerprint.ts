// Keyed key fingerprints, one function for every family that sees keys (XFRM and PF_KEY: the same key reads
// the same through both): HMAC-SHA256(key) under a random 32-byte secret, first 8 hex digits. Operators can
// tell keys apart and see that a rekey changed them; without the secret (mode 0600 in the data directory)
// a fingerprint says nothing about the key, and 32 bits are too few to confirm a guessed key offline anyway.
// The secret is generated once and kept so fingerprints stay comparable across restarts; when the data
// directory cannot be written it lives in memory only and the caller says so (source status + log).
import { createHmac, hash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createPrivateFile, narrowToOwner } from '../sys/private-file.ts';
import { errorCode, errorWords } from '../sys/errno.ts';

export const DEFAULT_DATA_DIR = '/var/lib/sascope';
const SECRET_FILE = 'fingerprint.key';
const SECRET_BYTES = 32;

export interface FingerprintSecretState {
  persisted: boolean;
  path?: string;
  /** Why the secret is in memory only. */
  reason?: string;
}

let secret: Buffer = randomBytes(SECRET_BYTES);
let state: FingerprintSecretState = { persisted: false, reason: 'no data directory loaded yet' };

/**
 * HMAC-SHA256 (RFC 2104) as two one-shot hashes over the secret's padded blocks, made once per secret:
 * an Hmac object per SA was a fifth of an SA's decode time (it is made and torn down natively each time).
 * The key is copied into `inner` only for the first hash and wiped right after.
 */
const BLOCK = 64;
const MAX_KEY = 512;
let inner = Buffer.alloc(BLOCK + MAX_KEY);
let outer = Buffer.alloc(BLOCK + 32);
function padBlocks(): void {
  inner = Buffer.alloc(BLOCK + MAX_KEY);
  outer = Buffer.alloc(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    const k = i < secret.length ? secret[i]! : 0; // the secret (32 bytes) is shorter than a block: zero-padded
    inner[i] = k ^ 0x36;
    outer[i] = k ^ 0x5c;
  }
}
padBlocks();

/** The fingerprint of key bytes (a view into the datagram; nothing here keeps it). */
export function keyFingerprint(key: Buffer): string {
  if (key.length > MAX_KEY) return createHmac('sha256', secret).update(key).digest('hex').slice(0, 8);
  key.copy(inner, BLOCK);
  const innerHash = hash('sha256', inner.subarray(0, BLOCK + key.length), 'buffer');
  inner.fill(0, BLOCK, BLOCK + key.length);
  innerHash.copy(outer, BLOCK);
  return hash('sha256', outer, 'buffer').toString('hex', 0, 4);
}

export function fingerprintSecretState(): FingerprintSecretState {
  return { ...state };
}

/** Test seam: a fixed secret so fixtures' fingerprints are stable. */
export function useFingerprintSecret(s: Buffer, st: FingerprintSecretState = { persisted: false, reason: 'test secret' }): void {
  if (s.length !== SECRET_BYTES) throw new Error(`fingerprint secret must be ${SECRET_BYTES} bytes`);
  secret = Buffer.from(s);
  padBlocks();
  state = st;
}

/**
 * Load the secret from dataDir/fingerprint.key, or create it (dir 0700, file 0600, O_EXCL so two processes
 * starting together agree on the first one written). Never throws: on failure the secret stays in memory.
 */
export function loadFingerprintSecret(dataDir: string = DEFAULT_DATA_DIR): FingerprintSecretState {
  const file = path.join(dataDir, SECRET_FILE);
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    let s: Buffer | undefined;
    try {
      s = readFileSync(file);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
    if (!s) {
      const fresh = randomBytes(SECRET_BYTES);
      try {
        createPrivateFile(file, fresh);
        s = fresh;
      } catch (err) {
        if (errorCode(err) !== 'EEXIST') throw err;
        s = readFileSync(file);
      }
    }
    if (s.length !== SECRET_BYTES) throw new Error(`${file} holds ${s.length} bytes, expected ${SECRET_BYTES}`);
    narrowToOwner(file);
    secret = s;
    padBlocks();
    state = { persisted: true, path: file };
  } catch (err) {
    secret = randomBytes(SECRET_BYTES);
    padBlocks();
    state = {
      persisted: false,
      path: file,
      reason: `cannot keep the fingerprint secret in ${dataDir} (${errorWords(err)}): using a secret in memory, fingerprints change across restarts`,
    };
  }
  return fingerprintSecretState();
}
