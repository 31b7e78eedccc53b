// Data files are 0600 whatever the umask and whether the data directory was there before: tokens.json,
// fingerprint.key, history.sqlite with its -wal and -shm; one an earlier version left 0644 is narrowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadTokens, parseConfig } from '../../../server/config.ts';
import { loadFingerprintSecret } from '../../../server/families/fingerprint.ts';
import { History } from '../../../server/history/history.ts';
import { Model } from '../../../server/model/model.ts';
import { memoryLogger } from '../memlog.ts';

const mode = (f: string) => statSync(f).mode & 0o777;
/** An existing data directory (mkdtemp made it), under this umask. */
function underUmask<T>(umask: number, fn: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'sascope-files-'));
  const old = process.umask(umask);
  try {
    return fn(dir);
  } finally {
    process.umask(old);
  }
}

function openHistory(dir: string): History {
  const h = new History(new Model(), memoryLogger().log, { dataDir: dir, retentionDays: 7, sampleSeconds: 60, flushMs: 60_000 });
  h.open();
  return h;
}

for (const umask of [0o022, 0o277, 0o000]) {
  test(`umask ${umask.toString(8).padStart(3, '0')}: tokens.json, fingerprint.key, history.sqlite(-wal, -shm) are 0600 in an existing data dir`, () => {
    underUmask(umask, (dir) => {
      loadTokens(parseConfig('c', '{}'), dir);
      assert.ok(loadFingerprintSecret(dir).persisted);
      const h = openHistory(dir);
      try {
        for (const f of ['tokens.json', 'fingerprint.key', 'history.sqlite', 'history.sqlite-wal', 'history.sqlite-shm']) {
          assert.ok(existsSync(path.join(dir, f)), f);
          assert.equal(mode(path.join(dir, f)).toString(8), '600', f);
        }
      } finally {
        h.close();
      }
    });
  });
}

test('files an earlier version left 0644 are narrowed to 0600 on start', () => {
  underUmask(0o022, (dir) => {
    openHistory(dir).close();
    loadTokens(parseConfig('c', '{}'), dir);
    loadFingerprintSecret(dir);
    // As an earlier version left them: the database and a WAL after an unclean stop at 0644 (SQLite gives the
    // WAL the database's mode, so a 0644 WAL stays 0644 unless narrowed).
    writeFileSync(path.join(dir, 'history.sqlite-wal'), '');
    const files = ['history.sqlite', 'history.sqlite-wal', 'tokens.json', 'fingerprint.key'].map((f) => path.join(dir, f));
    for (const f of files) chmodSync(f, 0o644);
    loadTokens(parseConfig('c', '{}'), dir);
    loadFingerprintSecret(dir);
    const h = openHistory(dir);
    try {
      for (const f of files) assert.equal(mode(f).toString(8), '600', f);
    } finally {
      h.close();
    }
  });
});
