// Which kernel driver serves each algorithm the SAs use: the SAs' aead / enc / auth / comp names grouped,
// each matched to the highest-priority usable /proc/crypto entry of that name — what the kernel's by-name
// lookup picks (e.g. rfc4106(gcm(aes)) → an AES-NI driver rather than the generic template instance).
import type { OnWire } from '../wire/entities.ts';
import type { SecurityAssociation } from '../wire/xfrm.ts';
import { candidatesFor, type CryptoAlgorithm, type CryptoUse, type NoDriverCause } from '../wire/crypto.ts';

const ROLES = ['aead', 'enc', 'auth', 'comp'] as const;
const KIND: Record<CryptoUse['role'], 'aead' | 'skcipher' | 'hash' | 'comp'> = { aead: 'aead', enc: 'skcipher', auth: 'hash', comp: 'comp' };
const NULL_ALGS = new Set(['ecb(cipher_null)', 'cipher_null', 'digest_null', 'compress_null']);
const MAX_SA_KEYS = 50;
const NO_DRIVER_WORDS: Record<NoDriverCause, string> = {
  'null-algorithm': 'null algorithm (no encryption or authentication)',
  'proc-crypto-not-read': '/proc/crypto not read',
  'not-instantiated': 'no /proc/crypto entry by this name (not instantiated yet: the kernel builds it from templates on first use)',
};

export function cryptoUses(sas: readonly OnWire<SecurityAssociation>[], algs: readonly CryptoAlgorithm[]): CryptoUse[] {
  const uses = new Map<string, CryptoUse>();
  for (const sa of sas) {
    for (const role of ROLES) {
      const a = sa[role];
      if (!a?.name) continue;
      const key = `${role}:${a.name}`;
      let u = uses.get(key);
      if (!u) {
        u = { key, name: a.name, role, keyBits: [], sas: [], saCount: 0, alternatives: [] };
        if (role === 'aead' && a.icvBits) u.icvBits = a.icvBits;
        uses.set(key, u);
      }
      u.saCount++;
      if (u.sas.length < MAX_SA_KEYS) u.sas.push(sa.key);
      if (!u.keyBits.includes(a.keyBits)) u.keyBits.push(a.keyBits);
    }
  }
  for (const u of uses.values()) {
    u.keyBits.sort((x, y) => x - y);
    const c = candidatesFor(algs, u.name, KIND[u.role]);
    const top = c[0];
    if (top) {
      u.driver = top.driver;
      u.priority = top.priority;
      u.module = top.module;
      u.type = top.type;
      u.selftest = top.selftest;
      u.alternatives = c.slice(1).map((a) => ({ driver: a.driver, priority: a.priority, module: a.module }));
    } else {
      u.noDriver = NULL_ALGS.has(u.name) ? 'null-algorithm' : algs.length === 0 ? 'proc-crypto-not-read' : 'not-instantiated';
      u.note = NO_DRIVER_WORDS[u.noDriver];
    }
  }
  return [...uses.values()].sort((a, b) => a.key.localeCompare(b.key));
}
