// Every generic netlink family with a YAML spec in the kernel (Documentation/netlink/specs of the lab's 7.2
// source tree, resolved by the kernel's ynl): its attribute sets from each root down every nest (names,
// numbers, types, byte order, multi-attr, enums), its commands and notifications, its multicast groups and
// its enums. A new family adds one entry to `families`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttrSet } from '../../../server/netlink/spec.ts';
import type { GenlFamilySpec } from '../../../server/genl/client.ts';
import * as genl from '../../../server/genl/genl.ts';
import * as ovpn from '../../../server/families/ovpn/spec.ts';
import * as psp from '../../../server/families/psp/spec.ts';
import * as ethtool from '../../../server/families/ethtool/spec.ts';
import * as wireguard from '../../../server/families/wireguard/spec.ts';
import { assertEnumMatchesSpec, assertSetMatchesSpec, headerConstants, linuxSource, pairs, uapiHeader, ynlSpec, type YnlFamily } from './kernel.ts';

interface FamilyTable {
  spec: string;
  family?: GenlFamilySpec<string>;
  /** the uapi header and macro of the genlmsghdr version the family speaks */
  version?: [string, string];
  /** our root sets and the spec's set each mirrors */
  roots: Array<[AttrSet, string]>;
  /** command tables: NAME → number, against the spec's request (or, for `reply`, reply/notification) ids */
  commands: Array<{ names: Record<string, number>; reply?: boolean }>;
  /** the module's exports and the uapi headers (generated from the spec) that define them by C name */
  module: object;
  headers: string[];
  /** prefixes tried before a constant's own name (ETHTOOL_A_ + HEADER_DEV_INDEX), and object names spelled otherwise in C */
  prefixes?: string[];
  renamed?: Record<string, string>;
  /** our enums and the spec's enum each mirrors */
  enums: Array<[string, Array<[number, string]>, string, boolean?]>;
}

/** NAME_OF_FLAG → mask as the spec's [mask, 'name-of-flag'] pairs. */
const flagPairs = (t: Record<string, number>): Array<[number, string]> => Object.entries(t).map(([n, v]) => [v, n.toLowerCase().replace(/_/g, '-')]);

const families: FamilyTable[] = [
  {
    spec: 'ovpn',
    family: ovpn.ovpnFamily,
    version: ['linux/ovpn.h', 'OVPN_FAMILY_VERSION'],
    roots: [[ovpn.ovpnAttrs, 'ovpn']],
    commands: [{ names: ovpn.OVPN_CMD }],
    module: ovpn,
    headers: ['linux/ovpn.h'],
    enums: [['CIPHER_ALG', pairs(ovpn.CIPHER_ALG), 'cipher-alg'], ['DEL_PEER_REASON', pairs(ovpn.DEL_PEER_REASON), 'del-peer-reason'], ['KEY_SLOT', pairs(ovpn.KEY_SLOT), 'key-slot']],
  },
  {
    spec: 'psp',
    family: psp.pspFamily,
    version: ['linux/psp.h', 'PSP_FAMILY_VERSION'],
    roots: [[psp.devAttrs, 'dev'], [psp.statsAttrs, 'stats']],
    commands: [{ names: psp.PSP_CMD }],
    module: psp,
    headers: ['linux/psp.h'],
    enums: [['PSP_VERSION (psp-versions-cap/-ena, enum-as-flags)', pairs(psp.PSP_VERSION), 'version', true]],
  },
  {
    spec: 'ethtool',
    family: ethtool.ethtoolFamily,
    version: ['linux/ethtool_netlink_generated.h', 'ETHTOOL_GENL_VERSION'],
    roots: [[ethtool.strsetAttrs, 'strset'], [ethtool.featuresAttrs, 'features']],
    // directional ids: ETHTOOL_MSG_* user → kernel, ETHTOOL_MSG_*_REPLY / _NTF kernel → user
    commands: [{ names: ethtool.ETHTOOL_MSG }, { names: ethtool.ETHTOOL_MSG_KERNEL, reply: true }],
    module: ethtool,
    headers: ['linux/ethtool_netlink_generated.h', 'linux/ethtool.h'],
    prefixes: ['ETHTOOL_A_'],
    renamed: { ETHTOOL_MSG_KERNEL: 'ETHTOOL_MSG' },
    enums: [['ETHTOOL_FLAG_COMPACT_BITSETS', [[ethtool.ETHTOOL_FLAG_COMPACT_BITSETS, 'compact-bitsets']], 'header-flags']],
  },
  {
    spec: 'wireguard',
    family: wireguard.wireguardFamily,
    version: ['linux/wireguard.h', 'WG_GENL_VERSION'],
    roots: [[wireguard.deviceAttrs, 'wgdevice']],
    commands: [{ names: wireguard.WG_CMD }],
    module: wireguard,
    headers: ['linux/wireguard.h'],
    enums: [['WGDEVICE_F', flagPairs(wireguard.WGDEVICE_F), 'wgdevice-flags'], ['WGPEER_F', flagPairs(wireguard.WGPEER_F), 'wgpeer-flags'], ['WGALLOWEDIP_F', flagPairs(wireguard.WGALLOWEDIP_F), 'wgallowedip-flags']],
  },
  {
    spec: 'nlctrl',
    roots: [[genl.ctrlAttrs, 'ctrl-attrs']],
    // CTRL_CMD_NEWFAMILY is getfamily's reply
    commands: [{ names: { GETFAMILY: genl.CTRL_CMD_GETFAMILY } }, { names: { GETFAMILY: genl.CTRL_CMD_NEWFAMILY }, reply: true }],
    module: {}, // genl.ts's constants are held in netlink.test.ts
    headers: [],
    enums: [],
  },
];

const src = linuxSource('genl tables');
if (src) {
  for (const f of families) {
    const spec: YnlFamily = ynlSpec(src, f.spec);
    for (const [set, name] of f.roots) test(`${f.spec}: ${set.name} and every set under it match the spec's ${name}`, () => assertSetMatchesSpec(set, spec, name));

    test(`${f.spec}: commands have the spec's ids`, () => {
      for (const { names, reply } of f.commands) {
        for (const [n, v] of Object.entries(names)) {
          const op = n.toLowerCase().replace(/_reply$/, '').replace(/_/g, '-');
          const o = spec.ops.find((x) => x.name === op);
          assert.ok(o, `${f.spec}: ${n} — no operation ${op} in the spec`);
          assert.equal(v, reply || o.async ? o.rsp : o.req, `${f.spec}: ${n} is ${v}, the spec's ${op} is ${reply || o.async ? o.rsp : o.req}`);
        }
      }
    });

    if (f.family) {
      const fam = f.family;
      test(`${f.spec}: the family's requests, notifications and groups are in the spec`, () => {
        assert.equal(fam.name, spec.name);
        for (const [op, cmd] of Object.entries(fam.requests)) {
          const o = spec.ops.find((x) => x.name === op);
          assert.ok(o && !o.async && o.req === cmd, `${f.spec}: request ${op} = ${cmd}; the spec's is ${o?.req}`);
        }
        for (const [cmd, op] of Object.entries(fam.notifications ?? {})) {
          const o = spec.ops.find((x) => x.name === op);
          assert.ok(o && o.rsp === Number(cmd), `${f.spec}: notification ${cmd} ${op}; the spec's ${op} is ${o?.rsp}`);
        }
        for (const g of fam.groups ?? []) assert.ok(spec.mcastGroups.includes(g), `${f.spec}: no multicast group ${g} in the spec`);
        if (f.version) assert.equal(fam.version, headerConstants(uapiHeader(src, f.version[0])).value.get(f.version[1]), `${f.spec}: version, ${f.version[1]}`);
      });
    }

    test(`${f.spec}: every numeric constant the module exports is the uapi header's`, () => {
      const k = headerConstants(...f.headers.map((h) => uapiHeader(src, h)));
      for (const [name, v] of Object.entries(f.module)) {
        if (!/^[A-Z][A-Z0-9_]+$/.test(name)) continue;
        const entries: Array<[string, unknown]> = typeof v === 'number' ? [[name, v]]
          : v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'number') && !/^\d/.test(Object.keys(v)[0] ?? '0')
            ? Object.entries(v).map(([key, x]) => [`${f.renamed?.[name] ?? name}_${key}`, x]) : [];
        for (const [c, x] of entries) {
          const defined = [c, ...(f.prefixes ?? []).map((p) => p + c)].find((n) => k.value.has(n));
          assert.ok(defined, `${f.spec}: ${name} (${c}) is in none of ${f.headers.join(', ')}`);
          assert.equal(x, k.value.get(defined), `${f.spec}: ${c} is ${String(x)}, the header's ${defined} is ${k.value.get(defined)}`);
        }
      }
    });

    for (const [what, table, name, asFlags] of f.enums) test(`${f.spec}: ${what} matches the spec's enum ${name}`, () => assertEnumMatchesSpec(what, table, spec, name, asFlags));
  }
}
