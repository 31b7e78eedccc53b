// Turn the output of test/tools/capture.ts (stdin) into a fixture file: provenance comments, the hex of
// each message, and the expected decoded JSON as the named decoder gives it today. Check the expected
// JSON against an independent view (ip xfrm …, ip -d link …) before committing the fixture, and note
// that view in --note.
//   tsx test/tools/capture.ts … | tsx test/tools/make-fixture.ts --decoder xfrm-policy --note "…" --out test/fixtures/xfrm/x.fixture.json
import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseMessages } from '../../server/netlink/message.ts';
import { datagramDecoders, decoders } from '../unit/decoders.ts';

const { values } = parseArgs({ options: { decoder: { type: 'string' }, out: { type: 'string' }, note: { type: 'string', default: '' } } });
const datagram = datagramDecoders[values.decoder ?? ''];
const decode = decoders[values.decoder ?? ''];
if (!decode && !datagram) throw new Error(`--decoder must be one of ${[...Object.keys(decoders), ...Object.keys(datagramDecoders)].join(', ')}`);
const lines = readFileSync(0, 'utf8').split('\n');
const provenance = lines.filter((l) => l.startsWith('#')).map((l) => l.replace(/^#\s?/, ''));
const messages = lines.filter((l) => /^[0-9a-f]+$/.test(l.trim())).map((hex) => {
  // PF_KEY and other non-netlink sockets: one line is one datagram (capture-pfkey.ts).
  if (datagram) return { hex: hex.trim(), expected: datagram(Buffer.from(hex.trim(), 'hex')) };
  const [m] = parseMessages(Buffer.from(hex.trim(), 'hex'));
  return { hex: hex.trim(), expected: decode!(m!) };
});
const fixture = { decoder: values.decoder, provenance, note: values.note, messages };
writeFileSync(values.out!, `${JSON.stringify(fixture, null, 2)}\n`);
console.log(`wrote ${values.out}: ${messages.length} messages`);
