// Read the enums of a kernel uapi header (the YNL-generated ones: <linux/ovpn.h>, <linux/psp.h>) so a
// family's table can be checked against the running kernel's source. The headers are read where the lab
// extracted them, never copied into the repo; tests skip when they are absent.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export const UAPI_DIR = process.env.SASCOPE_UAPI_DIR ?? path.join(homedir(), '.cache/sascope-lab/src/linux-7.2/include/uapi/linux');

/** NAME → value for every enumerator in the header (implicit values counted as C does). */
export function uapiEnums(header: string): Map<string, number> | undefined {
  const file = path.join(UAPI_DIR, header);
  if (!existsSync(file)) return undefined;
  const src = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const out = new Map<string, number>();
  for (const block of src.matchAll(/enum\s*\w*\s*\{([^}]*)\}/g)) {
    let next = 0;
    for (const raw of block[1]!.split(',')) {
      const item = raw.trim();
      if (!item) continue;
      const m = /^(\w+)\s*(?:=\s*(.+))?$/.exec(item);
      if (!m) continue;
      let v = next;
      if (m[2] !== undefined) {
        const expr = m[2].trim();
        const paren = /^\((\w+)\s*-\s*1\)$/.exec(expr);
        v = /^\d+$/.test(expr) ? Number(expr) : paren ? out.get(paren[1]!)! - 1 : NaN;
      }
      out.set(m[1]!, v);
      next = v + 1;
    }
  }
  return out;
}

/** UPPER_SNAKE of a spec name: "remote-ipv4" → "REMOTE_IPV4". */
export const cName = (name: string): string => name.toUpperCase().replace(/-/g, '_');
