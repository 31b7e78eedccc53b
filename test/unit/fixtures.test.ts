// One parametrized test over every byte fixture under test/fixtures (*.fixture.json): each message's
// bytes decode to exactly the expected JSON. Fixtures say how they were captured (provenance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMessages } from '../../server/netlink/message.ts';
import { datagramDecoders, decoders } from './decoders.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

function* walk(dir: string): Generator<string> {
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (f.endsWith('.fixture.json')) yield p;
  }
}

const files = [...walk(root)];
test('there are byte fixtures to check', () => assert.ok(files.length > 0));

for (const file of files) {
  const fx = JSON.parse(readFileSync(file, 'utf8')) as { decoder: string; provenance: string[]; messages: Array<{ hex: string; expected: unknown }> };
  test(`fixture ${path.relative(root, file)}`, () => {
    assert.ok(fx.provenance.length > 0, 'a fixture says how it was captured');
    const datagram = datagramDecoders[fx.decoder];
    if (datagram) {
      for (const [i, m] of fx.messages.entries()) assert.deepEqual(datagram(Buffer.from(m.hex, 'hex')), m.expected, `datagram ${i}`);
      return;
    }
    const decode = decoders[fx.decoder];
    assert.ok(decode, `decoder ${fx.decoder} is registered in test/unit/decoders.ts`);
    for (const [i, m] of fx.messages.entries()) {
      const [msg] = parseMessages(Buffer.from(m.hex, 'hex'));
      assert.deepEqual(decode!(msg!), m.expected, `message ${i}`);
    }
  });
}
