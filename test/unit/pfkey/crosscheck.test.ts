// The PF_KEY ⇄ XFRM cross-check on hand-made views of one SA: agree, mismatch, not representable (with
// the reason), missing; recomputed per SA as the model changes, and absent while a source is not ok.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../../server/model/model.ts';
import { PfkeyCrossCheck, checksFor } from '../../../server/model/crosscheck.ts';
import type { OnWire } from '../../../server/wire/entities.ts';
import type { SecurityAssociation } from '../../../server/wire/xfrm.ts';
import type { PfkeySa } from '../../../server/wire/pfkey.ts';

const INF = '18446744073709551615';
type X = OnWire<SecurityAssociation>;
type P = OnWire<PfkeySa>;

function xsa(over: Partial<X> = {}): X {
  return {
    key: 'inet:esp:10.0.0.2:0x00001003', src: '10.0.0.1', dst: '10.0.0.2', spi: 0x1003, proto: 'esp', family: 'inet', mode: 'tunnel',
    reqid: 3, seq: 0, replayWindow: 32, flags: [],
    selector: { family: 'inet', src: '0.0.0.0/0', dst: '0.0.0.0/0', sport: 0, sportMask: 0, dport: 0, dportMask: 0, proto: 0, ifindex: 0, user: 0 },
    lifetime: {
      config: { softByteLimit: INF, hardByteLimit: INF, softPacketLimit: INF, hardPacketLimit: INF, softAddExpiresSeconds: '0', hardAddExpiresSeconds: '0', softUseExpiresSeconds: '0', hardUseExpiresSeconds: '0' },
      current: { bytes: '0', packets: '0', addTime: '1795443042', useTime: '0' },
    },
    stats: { replayWindow: 0, replay: 0, integrityFailed: 0 },
    enc: { name: 'cbc(aes)', keyBits: 128, fingerprint: 'aaaaaaaa' },
    auth: { name: 'hmac(sha256)', keyBits: 256, truncBits: 96, fingerprint: 'bbbbbbbb' },
    ...over,
  } as X;
}

const zero = { allocations: 0, bytes: '0', addTime: '0', useTime: '0' };
function psa(over: Partial<P> = {}): P {
  return {
    key: 'esp/10.0.0.2/0x00001003', satype: 'esp', spi: 0x1003, spiHex: '0x00001003', state: 'mature', replayWindow: 32,
    auth: { id: 5, name: 'hmac-sha256' }, encrypt: { id: 12, name: 'aes-cbc' }, flags: [],
    src: { family: 'inet', address: '10.0.0.1', port: 0, proto: 0, prefixlen: 32 },
    dst: { family: 'inet', address: '10.0.0.2', port: 0, proto: 0, prefixlen: 32 },
    lifetime: { current: { allocations: 0, bytes: '0', addTime: '1795443042', useTime: '0' }, hard: zero, soft: zero },
    authKey: { bits: 256, fingerprint: 'bbbbbbbb' }, encryptKey: { bits: 128, fingerprint: 'aaaaaaaa' },
    mode: 'tunnel', reqid: 3, sequence: 0,
    ...over,
  } as P;
}

const ID = 'inet:esp:10.0.0.2:0x00001003';

test('the same SA seen by both agrees; any field that differs is listed with both values', () => {
  assert.deepEqual(checksFor(ID, [xsa()], psa()), [{ key: ID, xfrmKey: ID, pfkeyKey: 'esp/10.0.0.2/0x00001003', status: 'agree', differences: [] }]);
  const [c] = checksFor(ID, [xsa()], psa({ reqid: 4, encryptKey: { bits: 128, fingerprint: 'cccccccc' } }));
  assert.equal(c!.status, 'mismatch');
  assert.deepEqual(c!.differences, [{ field: 'reqid', xfrm: '3', pfkey: '4' }, { field: 'cipher key fingerprint', xfrm: 'aaaaaaaa', pfkey: 'cccccccc' }]);
});

test('limits: XFRM_INF is 0 on PF_KEY, real limits must match', () => {
  const x = xsa({ lifetime: { ...xsa().lifetime, config: { ...xsa().lifetime.config, hardByteLimit: '200000', softPacketLimit: '1000' } } });
  assert.equal(checksFor(ID, [x], psa({ lifetime: { ...psa().lifetime, hard: { ...zero, bytes: '200000' }, soft: { ...zero, allocations: 1000 } } }))[0]!.status, 'agree');
  assert.deepEqual(checksFor(ID, [x], psa())[0]!.differences.map((d) => d.field), ['hard byte limit', 'soft packet limit']);
});

test('AEAD, marks, if_id, ESN and odd truncation are not representable, with the reason', () => {
  const aead = checksFor(ID, [xsa({ aead: { name: 'rfc4106(gcm(aes))', keyBits: 160, icvBits: 128 }, enc: undefined, auth: undefined })], psa({ auth: { id: 0, name: 'none' }, encrypt: { id: 0, name: 'none' }, authKey: undefined, encryptKey: undefined }))[0]!;
  assert.equal(aead.status, 'not-representable');
  assert.match(aead.reason!, /AEAD rfc4106\(gcm\(aes\)\)/);
  const marked = checksFor(ID, [xsa({ key: `${ID}:mark=0x10/0xff`, mark: { value: 16, mask: 255 } })], psa())[0]!;
  assert.equal(marked.key, `${ID}:mark=0x10/0xff`);
  assert.match(marked.reason!, /mark 0x10\/0xff/);
  assert.match(checksFor(ID, [xsa({ ifId: 42 })], psa())[0]!.reason!, /if_id 42/);
  assert.match(checksFor(ID, [xsa({ flags: ['esn'], antiReplay: { esn: true, seq: 0, oseq: 0, replayWindow: 4096 } })], psa())[0]!.reason!, /ESN/);
  // RFC 4868's 128-bit ICV for hmac(sha256): PF_KEY implies Linux's 96
  assert.match(checksFor(ID, [xsa({ auth: { name: 'hmac(sha256)', keyBits: 256, truncBits: 128 } })], psa())[0]!.reason!, /truncated to 128 bits: PF_KEY implies 96/);
  assert.match(checksFor(ID, [xsa({ proto: 4, enc: undefined, auth: undefined })], undefined)[0]!.reason!, /protocol 4/);
});

test('an SA on one side only is missing', () => {
  assert.equal(checksFor(ID, [xsa()], undefined)[0]!.status, 'missing');
  const only = checksFor(ID, [], psa())[0]!;
  assert.deepEqual([only.status, only.key], ['missing', ID]);
});

test('the cross-check follows the model per SA and only while both sources are ok', async () => {
  const model = new Model();
  const cc = new PfkeyCrossCheck(model);
  model.upsert('sa', ID, xsa());
  model.upsert('pfkey-sa', 'esp/10.0.0.2/0x00001003', psa());
  assert.equal(model.count('pfkey-check'), 0, 'no checks before both sources are ok');
  const status = (id: string, state: string) => model.status({ id, label: id, state: state as 'ok', since: 0, resyncs: 0, decodeErrors: 0 });
  status('pfkey', 'ok');
  status('xfrm-sa', 'ok');
  cc.flush();
  assert.equal((model.get('pfkey-check', ID) as { status: string }).status, 'agree');
  model.upsert('pfkey-sa', 'esp/10.0.0.2/0x00001003', psa({ reqid: 9 }));
  // recomputed a moment later (after the XFRM deltas of the same wake-up), by itself
  assert.equal((model.get('pfkey-check', ID) as { status: string }).status, 'agree');
  await new Promise((r) => setImmediate(r));
  assert.equal((model.get('pfkey-check', ID) as { status: string }).status, 'mismatch');
  model.remove('sa', ID);
  cc.flush();
  assert.equal((model.get('pfkey-check', ID) as { status: string; reason: string }).status, 'missing');
  model.remove('pfkey-sa', 'esp/10.0.0.2/0x00001003');
  cc.flush();
  assert.equal(model.get('pfkey-check', ID), undefined);
  model.upsert('sa', ID, xsa());
  status('pfkey', 'not-available');
  assert.equal(model.count('pfkey-check'), 0, 'checks go when PF_KEY is not available');
  cc.close();
});

test('a marked SA beside the unmarked one of its identity: each its own check, and each goes with its SA', () => {
  const model = new Model();
  const cc = new PfkeyCrossCheck(model);
  for (const id of ['xfrm-sa', 'pfkey']) model.status({ id, label: id, state: 'ok', since: 0, resyncs: 0, decodeErrors: 0 });
  const MARKED = `${ID}:mark=0x10/0xff`;
  model.upsert('sa', MARKED, xsa({ key: MARKED, mark: { value: 16, mask: 255 } }));
  model.upsert('sa', ID, xsa());
  model.upsert('pfkey-sa', 'esp/10.0.0.2/0x00001003', psa());
  cc.flush();
  const status = (k: string) => (model.get('pfkey-check', k) as { status: string } | undefined)?.status;
  assert.deepEqual([status(ID), status(MARKED)], ['agree', 'not-representable']);
  model.remove('sa', MARKED);
  cc.flush();
  assert.deepEqual([status(ID), status(MARKED), model.count('pfkey-check')], ['agree', undefined, 1]);
  model.remove('sa', ID);
  cc.flush();
  assert.deepEqual([status(ID), model.count('pfkey-check')], ['missing', 1], 'the PF_KEY SA alone, keyed by its identity');
  model.upsert('sa', MARKED, xsa({ key: MARKED, mark: { value: 16, mask: 255 } }));
  cc.flush();
  assert.deepEqual([status(ID), status(MARKED)], [undefined, 'not-representable'], 'the identity\'s PF_KEY-only row gives way to the marked SA\'s');
  cc.close();
});

test('the PF_KEY SA an identity has is found whichever side came first and whichever twin went', () => {
  const model = new Model();
  const cc = new PfkeyCrossCheck(model);
  const MARKED = `${ID}:mark=0x10/0xff`;
  const PKEY = 'esp/10.0.0.2/0x00001003';
  const status = (id: string, state: string) => model.status({ id, label: id, state: state as 'ok', since: 0, resyncs: 0, decodeErrors: 0 });
  const check = (k: string) => model.get('pfkey-check', k) as { status: string; pfkeyKey?: string } | undefined;
  model.upsert('pfkey-sa', PKEY, psa());
  model.upsert('sa', MARKED, xsa({ key: MARKED, mark: { value: 16, mask: 255 } }));
  status('pfkey', 'ok');
  status('xfrm-sa', 'ok');
  cc.flush();
  assert.deepEqual([check(MARKED)?.status, check(MARKED)?.pfkeyKey, check(ID)], ['not-representable', PKEY, undefined]);
  model.remove('sa', MARKED);
  cc.flush();
  assert.deepEqual([check(ID)?.status, check(ID)?.pfkeyKey, model.count('pfkey-check')], ['missing', PKEY, 1], 'the marked twin went: the PF_KEY SA alone');
  model.upsert('sa', ID, xsa({ reqid: 4 }));
  cc.flush();
  assert.deepEqual([check(ID)?.status, check(ID)?.pfkeyKey], ['mismatch', PKEY]);
  model.upsert('sa', ID, xsa());
  cc.flush();
  assert.equal(check(ID)?.status, 'agree', 'an XFRM change alone finds the PF_KEY SA');
  status('pfkey', 'not-available');
  model.remove('sa', ID);
  status('pfkey', 'ok');
  cc.flush();
  assert.deepEqual([check(ID)?.status, check(ID)?.pfkeyKey], ['missing', PKEY], 'found again when the sources come back');
  cc.close();
});

test('not representable: each cause also as a code with what it names, in the order of the words', () => {
  const c = checksFor(ID, [xsa({ aead: { name: 'rfc4106(gcm(aes))', keyBits: 160, icvBits: 128 }, enc: undefined, auth: undefined, mark: { value: 16, mask: 255 }, ifId: 42 })], undefined)[0]!;
  assert.equal(c.status, 'not-representable');
  assert.deepEqual(c.causes, [{ code: 'aead', subject: 'rfc4106(gcm(aes))' }, { code: 'mark' }, { code: 'if-id' }]);
  assert.equal(c.reason!.split('; ').length, c.causes!.length);
  const m = checksFor(ID, [xsa({ offload: { ifindex: 3, dir: 'out', type: 'packet' } })], psa({ reqid: 9 }))[0]!;
  assert.equal(m.status, 'mismatch');
  assert.deepEqual(m.causes, [{ code: 'offload', subject: 'packet' }]);
  assert.equal(checksFor(ID, [xsa()], psa())[0]!.causes, undefined, 'nothing when PF_KEY can show it');
});

test('SAs with the same causes share one reason and one frozen list of causes (kept by reference in the model)', () => {
  const aead = (spi: number) => xsa({ key: `inet:esp:10.0.0.2:0x${spi.toString(16).padStart(8, '0')}`, spi, aead: { name: 'rfc4106(gcm(aes))', keyBits: 160, icvBits: 128 }, enc: undefined, auth: undefined });
  const [a, b] = [checksFor(ID, [aead(0x2001)], undefined)[0]!, checksFor(ID, [aead(0x2002)], undefined)[0]!];
  assert.equal(a.causes, b.causes);
  assert.ok(Object.isFrozen(a.causes) && Object.isFrozen(a.causes![0]));
  const model = new Model();
  model.upsert('pfkey-check', a.key, a);
  model.upsert('pfkey-check', b.key, b);
  assert.equal((model.get('pfkey-check', a.key) as typeof a).causes, (model.get('pfkey-check', b.key) as typeof b).causes);
  assert.deepEqual(checksFor(ID, [aead(0x2003)], psa())[0]!.causes, [{ code: 'aead', subject: 'rfc4106(gcm(aes))' }]);
});
