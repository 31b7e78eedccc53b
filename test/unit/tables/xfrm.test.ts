// The NETLINK_XFRM table (server/families/xfrm/spec.ts) against the 7.2 uapi headers of the lab's source
// tree: message types, groups, XFRMA_* numbers, every fixed struct's layout, and the enum and flag names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as xfrm from '../../../server/families/xfrm/spec.ts';
import { IP_PROTO } from '../../../server/families/names.ts';
import type { StructSpec } from '../../../server/netlink/struct.ts';
import type { AttrSet } from '../../../server/netlink/spec.ts';
import { assertAttrsMatchEnum, assertAttrsMatchPolicy, nlaPolicy, assertNamesMatch, assertStructMatches, headerConstants, linuxSource, pairs, structLayouts, uapiHeader } from './kernel.ts';

const src = linuxSource('xfrm tables');
if (src) {
  const header = uapiHeader(src, 'linux/xfrm.h');
  const k = headerConstants(header, uapiHeader(src, 'linux/udp.h'), uapiHeader(src, 'linux/in.h'), uapiHeader(src, 'linux/in6.h'), uapiHeader(src, 'linux/ipsec.h'));
  const structs = Object.values(xfrm).filter((v): v is StructSpec => typeof v === 'object' && v !== null && (v as StructSpec).kind === 'struct');
  const layouts = structLayouts(src, ['linux/xfrm.h'], header, structs.map((s) => s.name));

  for (const s of structs) test(`struct ${s.name} has the kernel's layout`, () => assertStructMatches(s, layouts.get(s.name)!));

  test('message types are XFRM_MSG_*', () => assertNamesMatch('XFRM_MSG', Object.entries(xfrm.XFRM_MSG).map(([n, v]) => [v, n]), 'XFRM_MSG_', k, String));
  test('multicast groups are XFRMNLGRP_*', () => assertNamesMatch('XFRMNLGRP', Object.entries(xfrm.XFRMNLGRP).map(([n, v]) => [v, n]), 'XFRMNLGRP_', k, String));

  const sets: Array<[string, AttrSet, string]> = [
    ['xfrmAttrs', xfrm.xfrmAttrs, 'XFRMA_'],
    ['sadInfoAttrs', xfrm.sadInfoAttrs, 'XFRMA_SAD_'],
    ['spdInfoAttrs', xfrm.spdInfoAttrs, 'XFRMA_SPD_'],
  ];
  test('xfrmAttrs, XFRM_MSG and XFRMNLGRP declare every member up to the header\'s *_MAX', () => {
    // Unknown attributes are kept redacted, so a gap is not a decode error; but the table says "Linux 7.2 uapi".
    const max = (name: string) => k.value.get(name);
    assert.deepEqual([...xfrm.xfrmAttrs.attrs.keys()].sort((a, b) => a - b), Array.from({ length: max('XFRMA_MAX')! }, (_, i) => i + 1));
    assert.deepEqual(Object.values(xfrm.XFRM_MSG).sort((a, b) => a - b), Array.from({ length: max('XFRM_MSG_MAX')! - max('XFRM_MSG_BASE')! + 1 }, (_, i) => i + max('XFRM_MSG_BASE')!));
    assert.equal(Math.max(...Object.values(xfrm.XFRMNLGRP)), max('XFRMNLGRP_MAX'));
  });
  for (const [name, set, prefix] of sets) {
    test(`${name} numbers are ${prefix}*`, () => assertAttrsMatchEnum(set, prefix, k));
  }
  test('xfrmAttrs types are those of the kernel\'s xfrma_policy (net/xfrm/xfrm_user.c)', () => {
    assertAttrsMatchPolicy(xfrm.xfrmAttrs, 'XFRMA_', nlaPolicy(src, 'net/xfrm/xfrm_user.c', 'xfrma_policy'));
  });
  test('spdInfoAttrs types are those of the kernel\'s xfrma_spd_policy', () => {
    assertAttrsMatchPolicy(xfrm.spdInfoAttrs, 'XFRMA_SPD_', nlaPolicy(src, 'net/xfrm/xfrm_user.c', 'xfrma_spd_policy'));
  });

  const named = (m: Record<string, string>) => (n: string) => m[n] ?? `?${n}`;
  const enums: Array<[string, Array<[number, string]>, string, ((n: string) => string)?]> = [
    ['sa-dir', pairs(xfrm.xfrmAttrs.attrs.get(33)!.enum!), 'XFRM_SA_DIR_'],
    ['POLICY_DIR (own sockets: XFRM_POLICY_MAX + dir)', pairs(xfrm.POLICY_DIR).filter(([v]) => v < 3), 'XFRM_POLICY_'],
    ['POLICY_ACTION', pairs(xfrm.POLICY_ACTION), 'XFRM_POLICY_'],
    ['POLICY_SHARE', pairs(xfrm.POLICY_SHARE), 'XFRM_SHARE_'],
    ['POLICY_TYPE', pairs(xfrm.POLICY_TYPE), 'XFRM_POLICY_TYPE_'],
    ['POLICY_FLAGS', pairs(xfrm.POLICY_FLAGS), 'XFRM_POLICY_'],
    ['SA_FLAGS', pairs(xfrm.SA_FLAGS), 'XFRM_STATE_'],
    ['SA_EXTRA_FLAGS', pairs(xfrm.SA_EXTRA_FLAGS), 'XFRM_SA_XFLAG_'],
    ['AE_FLAGS', pairs(xfrm.AE_FLAGS), 'XFRM_AE_'],
    ['OFFLOAD_FLAGS', pairs(xfrm.OFFLOAD_FLAGS), 'XFRM_OFFLOAD_'],
    ['XFRM_MODE', pairs(xfrm.XFRM_MODE), 'XFRM_MODE_', named({ transport: 'TRANSPORT', tunnel: 'TUNNEL', ro: 'ROUTEOPTIMIZATION', in_trigger: 'IN_TRIGGER', beet: 'BEET', iptfs: 'IPTFS' })],
    ['ENCAP_TYPE', pairs(xfrm.ENCAP_TYPE), '', named({ 'espinudp-nonike': 'UDP_ENCAP_ESPINUDP_NON_IKE', espinudp: 'UDP_ENCAP_ESPINUDP', espintcp: 'TCP_ENCAP_ESPINTCP' })],
    ['XFRM_PROTO', pairs(xfrm.XFRM_PROTO), '', named({ esp: 'IPPROTO_ESP', ah: 'IPPROTO_AH', comp: 'IPPROTO_COMP', route2: 'IPPROTO_ROUTING', hao: 'IPPROTO_DSTOPTS', 'ipsec-any': 'IPSEC_PROTO_ANY' })],
    ['IP_PROTO', pairs(IP_PROTO), 'IPPROTO_', named({
      icmp: 'ICMP', igmp: 'IGMP', ipip: 'IPIP', tcp: 'TCP', udp: 'UDP', ipv6: 'IPV6', gre: 'GRE', esp: 'ESP', ah: 'AH',
      'ipv6-icmp': 'ICMPV6', sctp: 'SCTP', udplite: 'UDPLITE', mh: 'MH',
    })],
  ];
  for (const [what, table, prefix, name] of enums) test(`${what} matches the header`, () => assertNamesMatch(what, table, prefix, k, name));
  test('per-socket policy directions are XFRM_POLICY_MAX + dir', () => {
    for (const [v, n] of pairs(xfrm.POLICY_DIR).filter(([v]) => v >= 3)) assert.equal(xfrm.POLICY_DIR[v - k.value.get('XFRM_POLICY_MAX')!], n.replace(/^socket /, ''));
  });
}
