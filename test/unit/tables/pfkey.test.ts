// The PF_KEY table (server/families/pfkey/spec.ts) against the 7.2 uapi headers of the lab's source tree
// (<linux/pfkeyv2.h>, <linux/ipsec.h>, <linux/udp.h>, <linux/in.h>, <linux/in6.h>): message, SA, extension
// and algorithm numbers (the algorithm tables are in server/wire/pfkey.ts), the KAME enums, every sadb struct's
// layout, and each algorithm id's XFRM names against net/xfrm/xfrm_algo.c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pfkey from '../../../server/families/pfkey/spec.ts';
import { AUTH_ALGS, COMP_ALGS, ENCRYPT_ALGS } from '../../../server/wire/pfkey.ts';
import { assertNamesMatch, assertStructMatches, headerConstants, linuxSource, pairs, structLayouts, uapiHeader } from './kernel.ts';

const src = linuxSource('pfkey tables');
if (src) {
  const headers = ['linux/pfkeyv2.h', 'linux/in.h', 'linux/in6.h'];
  const text = headers.map((h) => uapiHeader(src, h)).join('\n');
  const k = headerConstants(text, uapiHeader(src, 'linux/ipsec.h'), uapiHeader(src, 'linux/udp.h'));
  const structs = [...pfkey.PFKEY_STRUCTS, pfkey.sockaddr_in, pfkey.sockaddr_in6];
  const layouts = structLayouts(src, headers, text, structs.map((s) => s.name));

  for (const s of structs) test(`struct ${s.name} has the kernel's layout`, () => assertStructMatches(s, layouts.get(s.name)!));

  /** 'X_SPDADD' in SADB → SADB_X_SPDADD; 'X_POLICY' in EXT → SADB_X_EXT_POLICY */
  const kame = (prefix: string) => (n: string) => (n.startsWith('X_') ? `SADB_X_${prefix}${n.slice(2)}` : `SADB_${prefix}${n}`);
  const byKey = (o: Record<string, number>) => Object.entries(o).map(([n, v]): [number, string] => [v, n]);
  const named = (m: Record<string, string>) => (n: string) => m[n] ?? `?${n}`;
  const tables: Array<[string, Array<[number, string]>, string, ((n: string) => string)?]> = [
    ['SADB', byKey(pfkey.SADB), '', kame('')],
    ['SATYPE', byKey(pfkey.SATYPE), '', (n) => (n === 'IPCOMP' ? 'SADB_X_SATYPE_IPCOMP' : `SADB_SATYPE_${n}`)],
    ['SATYPE_NAME', pairs(pfkey.SATYPE_NAME), '', (n) => (n === 'ipcomp' ? 'SADB_X_SATYPE_IPCOMP' : `SADB_SATYPE_${n.toUpperCase()}`)],
    ['EXT', byKey(pfkey.EXT), '', kame('EXT_')],
    ['PF_KEY_V2, SADB_MAX, SADB_EXT_MAX', [[pfkey.PF_KEY_V2, 'PF_KEY_V2'], [pfkey.SADB_MAX, 'SADB_MAX'], [pfkey.SADB_EXT_MAX, 'SADB_EXT_MAX']], '', String],
    ['SA_STATE', pairs(pfkey.SA_STATE), 'SADB_SASTATE_'],
    ['SA_FLAGS', pairs(pfkey.SA_FLAGS), 'SADB_SAFLAGS_'],
    ['IDENT_TYPE', pairs(pfkey.IDENT_TYPE), 'SADB_IDENTTYPE_'],
    ['IPSEC_MODE', pairs(pfkey.IPSEC_MODE), 'IPSEC_MODE_'],
    ['IPSEC_DIR', pairs(pfkey.IPSEC_DIR), 'IPSEC_DIR_', named({ any: 'ANY', in: 'INBOUND', out: 'OUTBOUND', fwd: 'FWD', max: 'MAX', invalid: 'INVALID' })],
    ['IPSEC_POLICY', pairs(pfkey.IPSEC_POLICY), 'IPSEC_POLICY_'],
    ['IPSEC_LEVEL', pairs(pfkey.IPSEC_LEVEL), 'IPSEC_LEVEL_'],
    ['IPSEC_PROTO_ANY', [[pfkey.IPSEC_PROTO_ANY, 'IPSEC_PROTO_ANY']], '', String],
    ['NAT_T_TYPE', pairs(pfkey.NAT_T_TYPE), '', named({
      'espinudp-nonike': 'UDP_ENCAP_ESPINUDP_NON_IKE', espinudp: 'UDP_ENCAP_ESPINUDP', 'l2tpinudp': 'UDP_ENCAP_L2TPINUDP', espintcp: 'TCP_ENCAP_ESPINTCP',
    })],
    ...([['AUTH_ALGS', AUTH_ALGS], ['ENCRYPT_ALGS', ENCRYPT_ALGS], ['COMP_ALGS', COMP_ALGS]] as const).map(
      ([what, algs]): [string, Array<[number, string]>, string, (n: string) => string] => [what, algs.map((a) => [a.id, a.constant]), '', String],
    ),
  ];
  for (const [what, table, prefix, name] of tables) test(`${what} matches the headers`, () => assertNamesMatch(what, table, prefix, k, name));

  // The XFRM names of each SADB id are xfrm_algo.c's: the .name and .compat of every entry whose
  // .desc.sadb_alg_id is that id (auth: aalg_list; encrypt: ealg_list and aead_list; comp: calg_list).
  // hmac(rmd160) left xfrm_algo.c before 7.2; kept for the older kernels that still give it that id.
  const olderKernels: Record<string, string[]> = { SADB_X_AALG_RIPEMD160HMAC: ['hmac(rmd160)', 'rmd160'] };
  const algoC = readFileSync(join(src, 'net/xfrm/xfrm_algo.c'), 'utf8');
  const namesById = (lists: string[]) => {
    const out = new Map<number, Set<string>>();
    for (const list of lists) {
      const body = new RegExp(`xfrm_algo_desc ${list}\\[\\] = \\{([\\s\\S]*?)\\n\\};`).exec(algoC)?.[1];
      assert.ok(body, `xfrm_algo.c: no ${list}`);
      for (const entry of body.split(/\n\},?\s*\{/)) {
        const id = /\.sadb_alg_id\s*=\s*(\w+)/.exec(entry)?.[1];
        if (!id) continue; // no SADB id (e.g. cmac(aes), rfc7539esp)
        const names = [/\.name\s*=\s*"([^"]+)"/, /\.compat\s*=\s*"([^"]+)"/].flatMap((re) => re.exec(entry)?.[1] ?? []);
        const v = k.value.get(id);
        assert.ok(v !== undefined, `xfrm_algo.c: ${id} is not in pfkeyv2.h`);
        for (const n of names) (out.get(v) ?? out.set(v, new Set()).get(v)!).add(n);
      }
    }
    return out;
  };
  const algClasses = [['AUTH_ALGS', AUTH_ALGS, ['aalg_list']], ['ENCRYPT_ALGS', ENCRYPT_ALGS, ['ealg_list', 'aead_list']], ['COMP_ALGS', COMP_ALGS, ['calg_list']]] as const;
  for (const [what, algs, lists] of algClasses) {
    test(`${what}: the XFRM names of each id are those net/xfrm/xfrm_algo.c maps to it`, () => {
      const kernel = namesById([...lists]);
      for (const a of algs) {
        const want = [...(kernel.get(a.id) ?? olderKernels[a.constant] ?? [])].sort();
        assert.deepEqual([...a.xfrm].sort(), want, `${a.constant} (${a.id})`);
      }
    });
  }

  test('SATYPE_PROTO and PROTO_SATYPE pair each SA type with its IPPROTO_* (af_key.c pfkey_satype2proto)', () => {
    const k4 = headerConstants(uapiHeader(src, 'linux/in.h'), uapiHeader(src, 'linux/pfkeyv2.h'));
    const proto = { [k4.value.get('SADB_SATYPE_AH')!]: 'IPPROTO_AH', [k4.value.get('SADB_SATYPE_ESP')!]: 'IPPROTO_ESP', [k4.value.get('SADB_X_SATYPE_IPCOMP')!]: 'IPPROTO_COMP' };
    assert.deepEqual(pfkey.SATYPE_PROTO, Object.fromEntries(Object.entries(proto).map(([s, p]) => [s, k4.value.get(p)])));
    assert.deepEqual(pfkey.PROTO_SATYPE, Object.fromEntries(Object.entries(pfkey.SATYPE_PROTO).map(([s, p]) => [p, Number(s)])));
  });
}
