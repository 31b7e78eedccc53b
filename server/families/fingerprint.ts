// Keyed key fingerprints, one function for every family that sees keys (XFRM and PF_KEY: the same key reads
// the same through both): HMAC-SHA256(key) under a random 32-byte secret, first 8 hex digits. Operators can
// tell keys apart and see that a rekey changed them; without the secret (mode 0600 in the data directory)
// a fingerprint says nothing about the key, and 32 bits are too few to confirm a guessed key offline anyway.
// The secret is generated once and kept so fingerprints stay comparable across restarts; when the data
// directory cannot be written it lives in memory only and the caller says so (source status + log).
import { randomBytes } from 'node:crypto';
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
 * HMAC-SHA256 (RFC 2104) computed here, in JS, from the secret's two padded blocks hashed once per secret
 * (the midstates): a fingerprint is then two SHA-256 compressions and no native call. Node's one-shot
 * hash() twice per key (four compressions, two Buffers, two calls into OpenSSL) was 40 % of an SA's
 * decode. The key is read into `msg` and `w` only, both wiped before returning.
 */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const BLOCK = 64;
const w = new Int32Array(64);
/** Message blocks of the inner hash (the key and its padding), grown for a longer key. */
let msg = new Uint8Array(2 * BLOCK);

/** One SHA-256 compression of bytes[at, at+64) into state (FIPS 180-4, 6.2.2). */
function compress(state: Int32Array, bytes: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++, at += 4) w[i] = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15]!, b = w[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!, e = state[4]!, f = state[5]!, g = state[6]!, h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0; state[1] = (state[1]! + b) | 0; state[2] = (state[2]! + c) | 0; state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0; state[5] = (state[5]! + f) | 0; state[6] = (state[6]! + g) | 0; state[7] = (state[7]! + h) | 0;
}

/** The state after one block of the secret XOR pad (zero-padded: the 32-byte secret is shorter than a block). */
function midstate(pad: number): Int32Array {
  const block = new Uint8Array(BLOCK);
  for (let i = 0; i < BLOCK; i++) block[i] = (i < secret.length ? secret[i]! : 0) ^ pad;
  const state = Int32Array.from(IV);
  compress(state, block, 0);
  block.fill(0);
  return state;
}
let innerStart = midstate(0x36);
let outerStart = midstate(0x5c);
function padBlocks(): void {
  innerStart = midstate(0x36);
  outerStart = midstate(0x5c);
}
const hashState = new Int32Array(8);
const outerBlock = new Uint8Array(BLOCK);

/** The fingerprint of key bytes (a view into the datagram; nothing here keeps it). */
export function keyFingerprint(key: Uint8Array): string {
  // Inner hash: the key after the ipad block, then 0x80, zeros, and the bit length of both (big-endian).
  const blocks = Math.ceil((key.length + 9) / BLOCK);
  if (msg.length < blocks * BLOCK) msg = new Uint8Array(blocks * BLOCK);
  msg.set(key);
  msg[key.length] = 0x80;
  const bits = (BLOCK + key.length) * 8;
  const end = blocks * BLOCK;
  msg.fill(0, key.length + 1, end - 4);
  msg[end - 4] = bits >>> 24; msg[end - 3] = bits >>> 16; msg[end - 2] = bits >>> 8; msg[end - 1] = bits;
  hashState.set(innerStart);
  for (let at = 0; at < end; at += BLOCK) compress(hashState, msg, at);
  msg.fill(0, 0, key.length);
  w.fill(0);
  // Outer hash: the inner hash (32 bytes) after the opad block, padded to one block ((64 + 32) * 8 bits).
  for (let i = 0; i < 8; i++) {
    const v = hashState[i]!;
    outerBlock[i * 4] = v >>> 24; outerBlock[i * 4 + 1] = v >>> 16; outerBlock[i * 4 + 2] = v >>> 8; outerBlock[i * 4 + 3] = v;
  }
  outerBlock[32] = 0x80;
  outerBlock[62] = 0x03; // 768 bits
  hashState.set(outerStart);
  compress(hashState, outerBlock, 0);
  return (hashState[0]! >>> 0).toString(16).padStart(8, '0');
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
