// /proc/crypto (crypto/proc.c c_show): one block per registered algorithm, "key : value" lines, blocks
// separated by an empty line. The first lines (name, driver, module, priority, refcnt, selftest, internal,
// fips) are common; "type" then names the type-specific lines that follow (crypto_type->show), which are
// kept as the kernel gives them. Unknown lines are kept too. Which entry a by-name lookup picks is
// servingDriver (server/wire/crypto.ts).
import { DecodeError } from '../../netlink/errors.ts';
import type { CryptoAlgorithm } from '../../wire/crypto.ts';

const COMMON = new Set(['name', 'driver', 'module', 'priority', 'refcnt', 'selftest', 'internal', 'fips', 'type']);

function value(v: string): string | number {
  return /^-?\d+$/.test(v) ? Number(v) : v;
}

/**
 * Parse the text of /proc/crypto. Throws DecodeError only when a block has no name or driver; lines
 * without " : " are skipped. Duplicate driver names (should not happen) get a "#2" suffix on the key.
 */
export function parseProcCrypto(text: string, what = '/proc/crypto'): CryptoAlgorithm[] {
  const out: CryptoAlgorithm[] = [];
  const seen = new Map<string, number>();
  let line = 0;
  for (const block of text.split(/\n\s*\n/)) {
    const startLine = line;
    line += block.split('\n').length + 1;
    if (!block.trim()) continue;
    const kv = new Map<string, string>();
    for (const raw of block.split('\n')) {
      const i = raw.indexOf(':');
      if (i < 0) continue;
      kv.set(raw.slice(0, i).trim(), raw.slice(i + 1).trim());
    }
    const name = kv.get('name');
    const driver = kv.get('driver');
    if (!name || !driver) throw new DecodeError(what, startLine, `entry without ${name ? 'driver' : 'name'}`);
    const fields: Record<string, string | number> = {};
    for (const [k, v] of kv) if (!COMMON.has(k)) fields[k] = value(v);
    const n = (seen.get(driver) ?? 0) + 1;
    seen.set(driver, n);
    const a: CryptoAlgorithm = {
      key: n === 1 ? driver : `${driver}#${n}`,
      name,
      driver,
      module: kv.get('module') ?? 'unknown',
      priority: Number(kv.get('priority') ?? 0) || 0,
      refcnt: Number(kv.get('refcnt') ?? 0) || 0,
      selftest: kv.get('selftest') ?? 'unknown',
      internal: kv.get('internal') === 'yes',
      type: kv.get('type') ?? 'unknown',
      fields,
    };
    const fips = kv.get('fips');
    if (fips !== undefined) a.fips = fips === 'yes';
    out.push(a);
  }
  return out;
}
