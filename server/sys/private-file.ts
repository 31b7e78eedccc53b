// Data files only sascope's own user may read (tokens, the fingerprint secret, history): mode 0600 whatever
// the umask, and whether or not the data directory was there before (its 0700 only applies when created).
import { chmodSync, closeSync, constants as fsc, fchmodSync, openSync, statSync, writeFileSync } from 'node:fs';
import { errorCode } from './errno.ts';

/** Create `file` with `data`, mode 0600; throws EEXIST when it exists (two processes starting together agree on one). */
export function createPrivateFile(file: string, data: string | Buffer): void {
  const fd = openSync(file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  try {
    fchmodSync(fd, 0o600); // open's mode passes through the umask
    writeFileSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

/** Create `file` empty with mode 0600, or narrow it to 0600 when it exists and group or others may read it. */
export function ensurePrivateFile(file: string): void {
  try {
    createPrivateFile(file, '');
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw err;
    narrowToOwner(file);
  }
}

/** Narrow an existing file to 0600 when group or others may read it (one an earlier version left 0644). Missing is fine. */
export function narrowToOwner(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return;
    throw err;
  }
  if (mode & 0o077) chmodSync(file, 0o600);
}
