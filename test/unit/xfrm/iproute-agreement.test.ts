// The lab capture of the SA zoo, decoded by sascope, agrees with `ip -s xfrm state` of the same run on
// every field both show — including each key fingerprint recomputed from the key iproute2 printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMessages } from '../../../server/netlink/message.ts';
import { decodeSaMessage } from '../../../server/families/xfrm/sa.ts';
import { toWire } from '../../../server/model/model.ts';
import { friendlySa } from '../../../server/hub/http.ts';
import { compareStates, parseIpState, parseIpPolicy, type SnapSa } from '../../lab/scenarios/xfrm-iproute.ts';
import { TEST_FINGERPRINT_SECRET } from '../decoders.ts';
import type { EntityKinds } from '../../../server/wire/protocol.ts';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/xfrm');

test('SA zoo dump (lab, 7.2) = ip -s xfrm state of the same run', () => {
  const fx = JSON.parse(readFileSync(path.join(dir, 'sa-dump-zoo.fixture.json'), 'utf8')) as { messages: Array<{ hex: string }> };
  const ours = fx.messages.map((m) => {
    const d = decodeSaMessage(parseMessages(Buffer.from(m.hex, 'hex'))[0]!);
    assert.ok(d?.kind === 'upsert');
    return friendlySa(toWire(d.sa) as EntityKinds['sa']) as SnapSa;
  });
  const theirs = parseIpState(readFileSync(path.join(dir, 'sa-dump-zoo.ip-state.txt'), 'utf8'));
  assert.equal(theirs.length, 14);
  assert.ok(theirs.some((t) => t.antiReplay?.esn) && theirs.some((t) => t.encap) && theirs.some((t) => t.mark) && theirs.some((t) => t.ifId));
  assert.deepEqual(compareStates(ours, theirs, { counters: true, secret: TEST_FINGERPRINT_SECRET }), []);
  // every key iproute2 printed is absent from what we produce
  const json = JSON.stringify(ours);
  for (const t of theirs) for (const a of t.algs) if (a.keyHex) assert.ok(!json.includes(a.keyHex), `key of ${a.name} leaked`);
});

test('iproute2 policy text parses (templates, dirs)', () => {
  const pols = parseIpPolicy(readFileSync(path.join(dir, 'sa-dump-zoo.ip-policy.txt'), 'utf8'));
  assert.ok(pols.length >= 4);
  assert.ok(pols.every((p) => p.dir && p.tmpls.every((t) => t.proto === 'esp')));
});
