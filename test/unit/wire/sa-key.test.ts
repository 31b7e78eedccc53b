// The SA key is made in one place (server/wire): the XFRM decoder's key of an SA is saKey() of its own typed
// fields, and the PF_KEY ⇄ XFRM cross-check finds the same SA on both sides of the lab's SA zoo (captured by
// XFRM and by PF_KEY from the same `sa-zoo.sh add`), IPv6 and a marked SA included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMessages } from '../../../server/netlink/message.ts';
import { decoders } from '../decoders.ts';
import { decodePfkeyDatagram } from '../pfkey/fixture-decoder.ts';
import { Model } from '../../../server/model/model.ts';
import { PfkeyCrossCheck } from '../../../server/model/crosscheck.ts';
import { saKey, spiHex } from '../../../server/wire/xfrm.ts';
import { pfkeySaIdentity, pfkeySaKey, type PfkeyCheck } from '../../../server/wire/pfkey.ts';
import type { EntityKinds } from '../../../server/wire/protocol.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures');
const hexes = (f: string) => (JSON.parse(readFileSync(path.join(fixtures, f), 'utf8')) as { messages: Array<{ hex: string }> }).messages.map((m) => Buffer.from(m.hex, 'hex'));
const xsas = hexes('xfrm/sa-dump-zoo.fixture.json').map((b) => (decoders['xfrm-sa']!(parseMessages(b)[0]!) as { sa: EntityKinds['sa'] }).sa);
const psas = hexes('pfkey/sa-dump-zoo.fixture.json').map((b) => (decodePfkeyDatagram(b) as { sa: EntityKinds['pfkey-sa'] }).sa);

test('saKey of an SA\'s own fields is the key the XFRM decoder gave it; pfkeySaKey likewise for PF_KEY', () => {
  assert.equal(xsas.length, 14);
  for (const s of xsas) assert.equal(saKey(s.family, s.proto, s.dst, s.spi, s.mark), s.key);
  assert.ok(xsas.some((s) => s.mark) && xsas.some((s) => s.family === 'inet6'), 'the zoo has a marked and an IPv6 SA');
  assert.equal(saKey('inet6', 'esp', 'fd00::2', 0x1006, { value: 0x10, mask: 0xff }), 'inet6:esp:[fd00::2]:0x00001006:mark=0x10/0xff');
  assert.equal(saKey('inet', 'esp', '10.0.0.2', 0x1008, { value: 0, mask: 0 }), 'inet:esp:10.0.0.2:0x00001008', 'a zero mark is no mark');
  for (const p of psas) assert.equal(pfkeySaKey(p.satype, p.dst.address, p.spi), p.key);
  assert.equal(spiHex(0xc1000001), '0xc1000001');
});

test('the cross-check\'s identity of a PF_KEY SA is the XFRM decoder\'s key of the same SA (mark aside)', () => {
  const model = new Model();
  const cc = new PfkeyCrossCheck(model);
  for (const s of xsas) model.upsert('sa', s.key, s);
  for (const p of psas) model.upsert('pfkey-sa', p.key, p);
  for (const id of ['xfrm-sa', 'pfkey']) model.status({ id, label: id, state: 'ok', since: 0, resyncs: 0, decodeErrors: 0 });
  cc.flush();
  const same = (x: EntityKinds['sa'], p: EntityKinds['pfkey-sa']) => p.spi === x.spi && p.dst.address === x.dst && p.satype === x.proto;
  const both = xsas.filter((x) => psas.some((p) => same(x, p)));
  assert.ok(both.length >= 12, `${both.length} SAs in both captures`);
  for (const x of both) {
    const p = psas.find((q) => same(x, q))!;
    const c = model.get('pfkey-check', x.key) as PfkeyCheck | undefined;
    assert.equal(c?.pfkeyKey, p.key, `${x.key} meets ${p.key}`);
  }
  // Without the XFRM side, a PF_KEY SA's check is keyed by its identity: the XFRM key of the same SA, unless marked.
  for (const x of xsas) model.remove('sa', x.key);
  cc.flush();
  for (const x of both.filter((s) => !s.mark)) {
    const c = model.get('pfkey-check', x.key) as PfkeyCheck | undefined;
    assert.deepEqual([c?.status, c?.pfkeyKey], ['missing', psas.find((q) => same(x, q))!.key], x.key);
  }
  assert.ok(both.some((x) => x.mark) && both.some((x) => x.family === 'inet6'));
  // XFRM calls IPComp "comp" (the zoo's XFRM capture has no IPComp SA to meet)
  assert.equal(pfkeySaIdentity(psas.find((p) => p.satype === 'ipcomp')!).proto, 'comp');
  cc.close();
});
