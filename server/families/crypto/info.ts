// The crypto panel's header facts, each read from /proc or a socket: fips_enabled, whether an AF_ALG
// socket can be opened, which AF_ALG modules are loaded (/proc/modules) or built in (/sys/module without
// a /proc/modules line), and /proc/sys/crypto/af_alg_restrict (absent in 7.2; 7.3 may add it).
// File access goes through a reader so tests can hand in captured text.
import { readFileSync, existsSync } from 'node:fs';
import { KernelSocket } from '../../sys/socket.ts';
import { AF_ALG, SOCK_SEQPACKET } from '../../sys/libc.ts';
import type { CryptoInfo, KernelModuleState } from '../../wire/crypto.ts';
import { errorCode } from '../../sys/errno.ts';

export interface FileReader {
  /** The file's text, or undefined when it does not exist (other errors throw). */
  read(path: string): string | undefined;
  exists(path: string): boolean;
}

export const procReader: FileReader = {
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  },
  exists: (path) => existsSync(path),
};

export const PROC_CRYPTO = '/proc/crypto';
export const FIPS_ENABLED = '/proc/sys/crypto/fips_enabled';
export const AF_ALG_RESTRICT = '/proc/sys/crypto/af_alg_restrict';
export const AF_ALG_MODULES = ['af_alg', 'algif_hash', 'algif_skcipher', 'algif_aead', 'algif_rng'] as const;
export const AF_ALG_NOTE = 'AF_ALG is deprecated as of Linux 7.2 and may be restricted from 7.3: the throughput probe is optional, nothing else depends on it';

/** Module names listed in /proc/modules (first column), or undefined when the file is absent. */
export function loadedModules(text: string | undefined): Set<string> | undefined {
  if (text === undefined) return undefined;
  const s = new Set<string>();
  for (const line of text.split('\n')) {
    const name = line.split(' ', 1)[0];
    if (name) s.add(name);
  }
  return s;
}

export function moduleState(name: string, loaded: Set<string> | undefined, fs: FileReader): KernelModuleState {
  if (loaded?.has(name)) return { name, state: 'loaded' };
  // Built-in code with a module name appears under /sys/module (when it has parameters or a version);
  // a loadable module that is not loaded has no entry.
  if (fs.exists(`/sys/module/${name}`)) return { name, state: 'built-in', note: 'in /sys/module but not in /proc/modules' };
  if (!loaded) return { name, state: 'unknown', note: 'no /proc/modules (kernel without module support): built in, or not in this kernel' };
  return { name, state: 'not-loaded', note: 'not loaded; the kernel loads it on first use when it has it as a module' };
}

export function fipsState(text: string | undefined): Pick<CryptoInfo, 'fipsEnabled' | 'fipsNote'> {
  if (text === undefined) return { fipsNote: `${FIPS_ENABLED} absent (kernel without CONFIG_CRYPTO_FIPS or without /proc/sys/crypto): not in FIPS mode` };
  const v = text.trim();
  if (v === '1') return { fipsEnabled: true };
  if (v === '0') return { fipsEnabled: false };
  return { fipsNote: `${FIPS_ENABLED} holds "${v}"` };
}

/** Can an AF_ALG socket be opened? (EAFNOSUPPORT: not in this kernel.) The socket is closed at once. */
export function afAlgSocket(): { ok: boolean; error?: string } {
  try {
    KernelSocket.open('crypto', AF_ALG, SOCK_SEQPACKET, 0, 64).close();
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

export function readCryptoInfo(fs: FileReader, socket: () => { ok: boolean; error?: string } = afAlgSocket): Omit<CryptoInfo, 'algorithms' | 'readAt' | 'procCryptoError'> {
  const loaded = loadedModules(fs.read('/proc/modules'));
  const sock = socket();
  const restrict = fs.read(AF_ALG_RESTRICT);
  return {
    key: 'crypto',
    ...fipsState(fs.read(FIPS_ENABLED)),
    afAlg: {
      socket: sock.ok,
      ...(sock.error ? { socketError: sock.error } : {}),
      modules: AF_ALG_MODULES.map((m) => moduleState(m, loaded, fs)),
      procModules: loaded !== undefined,
      restrict: restrict === undefined ? { present: false } : { present: true, value: restrict.trim() },
      note: AF_ALG_NOTE,
    },
  };
}

/** Why AF_ALG cannot be used, or undefined when it may be (restrict absent or 0, socket opens). */
export function afAlgUnavailable(info: Pick<CryptoInfo, 'afAlg'>): string | undefined {
  const a = info.afAlg;
  if (!a.socket) return `AF_ALG socket cannot be opened: ${a.socketError ?? 'unknown error'}`;
  if (a.restrict.present && a.restrict.value !== undefined && a.restrict.value !== '0') {
    return `AF_ALG is restricted: ${AF_ALG_RESTRICT} = ${a.restrict.value}`;
  }
  return undefined;
}
