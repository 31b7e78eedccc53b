// A small synthetic model for UI specs: every kind the Devices, Crypto and PF_KEY pages read, shaped like
// the server's wire entities, and a helper that routes the page's WebSocket to it (no kernel needed).
import type { Page } from '@playwright/test';
import type { EntityKind } from '../../server/wire/protocol.ts';
import { fakeHub, syntheticSa } from './fake-hub.ts';
import { pfkeySaKey } from '../../server/wire/pfkey.ts';
import { spiHex } from '../../server/wire/xfrm.ts';

const INF = '18446744073709551615';
const now = () => Date.now();

export function source(id: string, label: string, state = 'ok', reason?: string) {
  return { key: id, id, label, state, ...(reason ? { reason } : {}), since: now() - 60_000, lastData: now() - 2000, resyncs: 0, decodeErrors: 0 };
}

/** An SA with cbc(aes) + hmac(sha256) (the fake hub's default is AEAD), counters growing with i. */
export function sa(i: number, over: Record<string, unknown> = {}) {
  const base = syntheticSa(10 + i);
  return syntheticSa(10 + i, {
    src: `198.51.100.${10 + i}`,
    reqid: 100 + i,
    dir: i % 2 ? 'out' : 'in',
    lifetime: { ...base.lifetime, config: { ...base.lifetime.config, softByteLimit: INF, hardByteLimit: INF }, current: { ...base.lifetime.current, bytes: String(1_500_000 * (i + 1)), packets: String(1200 * (i + 1)) } },
    aead: undefined,
    enc: { name: 'cbc(aes)', keyBits: 256, fingerprint: `a1b2c3${i}0` },
    auth: { name: 'hmac(sha256)', keyBits: 256, truncBits: 128, fingerprint: `d4e5f6${i}0` },
    ...over,
  });
}

const feature = (name: string, active: boolean, requested = active, changeable = true) => ({ name, active, requested, changeable, nochange: false });

export function model() {
  const sas = [
    sa(0),
    sa(1, { offload: { ifindex: 3, dir: 'out', type: 'crypto', flags: [] } }),
    sa(2, { offload: { ifindex: 3, dir: 'in', type: 'packet', flags: [] } }),
    sa(3, { aead: { name: 'rfc4106(gcm(aes))', keyBits: 160, icvBits: 128, fingerprint: '0badc0de' }, enc: undefined, auth: undefined }),
    sa(4),
  ];
  const links = [
    { key: '1', index: 1, name: 'lo', type: 'loopback', flags: ['UP', 'LOOPBACK', 'RUNNING'], operState: 'unknown', mtu: 65536, address: '00:00:00:00:00:00', stats: { rxPackets: '120', txPackets: '120', rxBytes: '10240', txBytes: '10240', rxErrors: '0', txErrors: '0', rxDropped: '0', txDropped: '0' } },
    { key: '3', index: 3, name: 'eni0np1', type: 'ether', flags: ['UP', 'BROADCAST', 'RUNNING'], operState: 'up', mtu: 1500, address: '02:00:00:00:00:03', stats: { rxPackets: '88000', txPackets: '91000', rxBytes: '123456789', txBytes: '98765432', rxErrors: '0', txErrors: '2', rxDropped: '5', txDropped: '0' } },
    { key: '4', index: 4, name: 'ipsec7', kind: 'xfrm', type: 'none', flags: ['UP', 'NOARP', 'RUNNING'], operState: 'unknown', mtu: 1400, link: 3, xfrmIfId: 7, stats: { rxPackets: '5', txPackets: '7', rxBytes: '700', txBytes: '900', rxErrors: '0', txErrors: '0', rxDropped: '0', txDropped: '0' } },
    { key: '5', index: 5, name: 'veth-a', kind: 'veth', type: 'ether', flags: ['BROADCAST'], operState: 'down', mtu: 1500, address: '02:00:00:00:00:05', stats: { rxPackets: '0', txPackets: '0', rxBytes: '0', txBytes: '0', rxErrors: '0', txErrors: '0', rxDropped: '0', txDropped: '0' } },
    { key: '6', index: 6, name: 'ovpn0', kind: 'ovpn', type: 'none', flags: ['UP', 'RUNNING'], operState: 'unknown', mtu: 1420, ovpnMode: 'mp' },
  ];
  const ethEni = {
    key: '3', ifindex: 3, ifname: 'eni0np1', updatedAt: now() - 30_000,
    features: [feature('rx-checksum', true, true, false), feature('tx-checksum-ip-generic', true), feature('tcp-segmentation-offload', true), feature('esp-hw-offload', true), feature('esp-tx-csum-hw-offload', false, true), feature('rx-gro-hw', false, false, false), feature('hw-tc-offload', false), feature('psp-hw-offload', false, false, false)],
    ipsec: { espHwOffload: feature('esp-hw-offload', true), espTxCsum: feature('esp-tx-csum-hw-offload', false, true), capable: true },
    driverStats: { count: 42, ipsec: ['ipsec_rx_drop', 'ipsec_tx_drop'], psp: [], note: 'values not offered over netlink by this kernel (stats-get carries only the standard groups)' },
  };
  const ethVeth = { key: '5', ifindex: 5, ifname: 'veth-a', updatedAt: now() - 30_000, features: [feature('rx-checksum', true), feature('esp-hw-offload', false, false, false)], ipsec: { espHwOffload: feature('esp-hw-offload', false, false, false), capable: false }, driverStats: { count: 3, ipsec: [], psp: [], note: '' } };
  const osa = (s: ReturnType<typeof sa>, mode: 'crypto' | 'packet', state = 'offloaded', note?: string) => ({
    key: s.key, spi: s.spi, src: s.src, dst: s.dst, dir: ((s as Record<string, unknown>)['offload'] as { dir: 'in' | 'out' }).dir, mode, bytes: s.lifetime.current.bytes, packets: s.lifetime.current.packets, countersFromDriver: mode === 'packet', state, ...(note ? { note } : {}),
  });
  const offloadDev = {
    key: '3', ifindex: 3, ifname: 'eni0np1', operState: 'up', present: true, espHwOffload: ethEni.ipsec.espHwOffload, espTxCsum: ethEni.ipsec.espTxCsum, capable: true,
    sas: [osa(sas[1]!, 'crypto'), osa(sas[2]!, 'packet', 'offloaded', 'SA counters come from the driver and may lag (packet offload)')],
    counts: { in: 1, out: 1, crypto: 1, packet: 1 }, saTotals: { bytes: '7500000', packets: '6000' },
    nic: { rxBytes: '123456789', txBytes: '98765432', rxPackets: '88000', txPackets: '91000', rxDropped: '5', txDropped: '0' },
    driverStats: ethEni.driverStats, policies: ['12:out'], notes: ['SA counters come from the driver and may lag (packet offload)'],
  };
  const offloadGone = {
    key: '9', ifindex: 9, present: false, capable: false, sas: [{ ...osa({ ...sas[4]!, offload: { ifindex: 9, dir: 'out', type: 'crypto', flags: [] } } as ReturnType<typeof sa>, 'crypto', 'device-gone', 'ifindex 9 names no link in this network namespace') }],
    counts: { in: 0, out: 1, crypto: 1, packet: 0 }, saTotals: { bytes: '7500000', packets: '6000' }, policies: [], notes: [],
  };
  const offloadInfo = { key: 'offload', capableDevices: [{ ifindex: 3, ifname: 'eni0np1' }], offloadedSas: 3, packetOffloadSas: 1, softwareSas: 2, fallback: 'The kernel keeps no trace of an offload request that did not take: …' };

  const palg = (key: string, cls: 'auth' | 'encrypt', id: number, name: string, constant: string, xfrmNames: string[], minBits: number, maxBits: number, ivlen = 0) => ({ key, class: cls, id, name, constant, xfrmNames, ivlen, minBits, maxBits, satypes: ['esp', 'ah'] });
  const pAddr = (a: string) => ({ family: 'inet', address: a, port: 0, proto: 'any', prefixlen: 32 });
  const psa = (s: ReturnType<typeof sa>, over: Record<string, unknown> = {}) => ({
    key: pfkeySaKey('esp', s.dst, s.spi), satype: 'esp', spi: s.spi, spiHex: spiHex(s.spi), state: 'mature', replayWindow: 32,
    auth: { id: 5, name: 'hmac-sha256', constant: 'SADB_X_AALG_SHA2_256HMAC' }, encrypt: { id: 12, name: 'aes-cbc', constant: 'SADB_X_EALG_AESCBC' }, flags: [],
    src: pAddr(s.src), dst: pAddr(s.dst), lifetime: { current: { allocations: 1200, bytes: s.lifetime.current.bytes, addTime: s.lifetime.current.addTime, useTime: '0' } },
    authKey: { bits: 256 }, encryptKey: { bits: 256 }, mode: 'tunnel', reqid: s.reqid, ...over,
  });
  const pfkeySas = [psa(sas[0]!), psa(sas[1]!), psa(sas[2]!, { reqid: 999 }), psa(sas[3]!, { auth: { id: 0, name: 'none' }, encrypt: { id: 0, name: 'none' } })];
  const checks = [
    { key: sas[0]!.key, status: 'agree', differences: [], xfrmKey: sas[0]!.key, pfkeyKey: pfkeySas[0]!.key },
    { key: sas[1]!.key, status: 'not-representable', differences: [], reason: 'crypto offload on ifindex 3: not in PF_KEY', causes: [{ code: 'offload', subject: 'crypto' }], xfrmKey: sas[1]!.key, pfkeyKey: pfkeySas[1]!.key },
    { key: sas[2]!.key, status: 'mismatch', differences: [{ field: 'reqid', xfrm: '102', pfkey: '999' }], reason: 'packet offload on ifindex 3: not in PF_KEY', causes: [{ code: 'offload', subject: 'packet' }], xfrmKey: sas[2]!.key, pfkeyKey: pfkeySas[2]!.key },
    { key: sas[3]!.key, status: 'not-representable', differences: [], reason: 'AEAD rfc4106(gcm(aes)): PF_KEY shows encrypt=0, auth=0 and no key', causes: [{ code: 'aead', subject: 'rfc4106(gcm(aes))' }], xfrmKey: sas[3]!.key, pfkeyKey: pfkeySas[3]!.key },
    { key: sas[4]!.key, status: 'missing', differences: [], reason: 'in the XFRM SA table but not in the PF_KEY dump', xfrmKey: sas[4]!.key },
  ];
  const calg = (name: string, driver: string, module: string, priority: number, type: string, over: Record<string, unknown> = {}) => ({ key: driver, name, driver, module, priority, refcnt: 1, selftest: 'passed', internal: false, type, fields: {}, ...over });
  const cryptoAlgs = [
    calg('cbc(aes)', 'cbc-aes-aesni', 'aesni_intel', 400, 'skcipher'),
    calg('cbc(aes)', 'cbc(aes-generic)', 'kernel', 100, 'skcipher'),
    calg('hmac(sha256)', 'hmac(sha256-ni)', 'kernel', 170, 'shash'),
    calg('rfc4106(gcm(aes))', 'rfc4106-gcm-aesni', 'aesni_intel', 400, 'aead'),
    calg('__gcm(aes)', '__generic-gcm-aesni', 'aesni_intel', 400, 'aead', { internal: true }),
    calg('sha256', 'sha256-generic', 'kernel', 100, 'shash', { selftest: 'unknown' }),
  ];
  const use = (role: string, name: string, keyBits: number[], s: typeof sas, driver: string, priority: number, module: string, type: string, alternatives: unknown[] = [], icvBits?: number) => ({
    key: `${role}:${name}`, name, role, keyBits, ...(icvBits ? { icvBits } : {}), sas: s.map((x) => x.key), saCount: s.length, driver, priority, module, type, selftest: 'passed', alternatives,
  });
  const cryptoUses = [
    use('enc', 'cbc(aes)', [256], [sas[0]!, sas[1]!, sas[2]!, sas[4]!], 'cbc-aes-aesni', 400, 'aesni_intel', 'skcipher', [{ driver: 'cbc(aes-generic)', priority: 100, module: 'kernel' }]),
    use('auth', 'hmac(sha256)', [256], [sas[0]!, sas[1]!, sas[2]!, sas[4]!], 'hmac(sha256-ni)', 170, 'kernel', 'shash'),
    use('aead', 'rfc4106(gcm(aes))', [160], [sas[3]!], 'rfc4106-gcm-aesni', 400, 'aesni_intel', 'aead', [], 128),
  ];
  const cryptoInfo = {
    key: 'crypto', fipsEnabled: false, algorithms: cryptoAlgs.length, readAt: now() - 20_000,
    afAlg: { socket: true, modules: [{ name: 'af_alg', state: 'loaded' }, { name: 'algif_hash', state: 'loaded' }, { name: 'algif_skcipher', state: 'loaded' }, { name: 'algif_aead', state: 'not-loaded', note: 'loaded on first use' }], procModules: true, restrict: { present: false }, note: 'AF_ALG is deprecated from Linux 7.2: the probe is optional, never a dependency.' },
  };
  const probe = { key: 'probe', state: 'idle', limits: { seconds: 1, bytes: 64 * 1024 * 1024 }, results: [] };

  const entities: Partial<Record<EntityKind, unknown[]>> = {
    source: [
      source('link', 'Network devices (rtnetlink)'), source('xfrm-sa', 'XFRM security associations'), source('xfrm-policy', 'XFRM policies'),
      source('pfkey', 'PF_KEY v2'), source('ethtool', 'Device features (ethtool netlink)'), source('crypto', 'Kernel crypto (/proc/crypto, AF_ALG)'),
    ],
    link: links, sa: sas, policy: [], event: [],
    'ethtool-dev': [ethEni, ethVeth], 'offload-dev': [offloadDev, offloadGone], 'offload-info': [offloadInfo],
    'pfkey-sa': pfkeySas,
    'pfkey-policy': [{ key: '12:out', id: 12, dir: 'out', type: 'ipsec', priority: 2080, src: { ...pAddr('10.1.0.0'), prefixlen: 16 }, dst: { ...pAddr('10.2.0.0'), prefixlen: 16 }, lifetime: {}, requests: [{ proto: 'esp', mode: 'tunnel', level: 'require', reqid: 101, tunnelSrc: '198.51.100.11', tunnelDst: '192.0.2.11' }], refcount: 2 }],
    'pfkey-alg': [palg('auth:5', 'auth', 5, 'hmac-sha256', 'SADB_X_AALG_SHA2_256HMAC', ['hmac(sha256)'], 256, 256), palg('encrypt:12', 'encrypt', 12, 'aes-cbc', 'SADB_X_EALG_AESCBC', ['cbc(aes)'], 128, 256, 8)],
    'pfkey-register': [{ key: 'register', state: 'done', startedAt: now() - 60_000, finishedAt: now() - 58_500, tookMs: 1500 }],
    'pfkey-check': checks,
    'crypto-alg': cryptoAlgs, 'crypto-info': [cryptoInfo], 'crypto-use': cryptoUses, 'crypto-probe': [probe],
  };
  return { sas, entities, probe, checks };
}

/** Route the page's WebSocket to the synthetic model (test/e2e/fake-hub.ts); `upsert` pushes a delta. */
export async function routeSynthetic(page: Page, entities: Partial<Record<EntityKind, unknown[]>>) {
  const hub = await fakeHub(page, () => entities as Record<string, unknown[]>);
  return {
    upsert(kind: EntityKind, key: string, value: unknown) {
      hub.sendDeltas([{ kind, op: 'upsert', key, value }]);
    },
  };
}
