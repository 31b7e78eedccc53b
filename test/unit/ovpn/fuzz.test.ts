// Mutated ovpn and psp messages never throw anything but a DecodeError out of the decoders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import { DecodeError } from '../../../server/netlink/errors.ts';
import { encodeGenl } from '../../../server/genl/genl.ts';
import { encodeMessage, parseMessages } from '../../../server/netlink/message.ts';
import { decodeOvpnMessage } from '../../../server/families/ovpn/peer.ts';
import { decodePspMessage } from '../../../server/families/psp/dev.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const samples: Array<[string, (b: Buffer) => unknown, Buffer]> = [
  ['ovpn peer-get', (b) => decodeOvpnMessage(parseMessages(b)[0]!), encodeMessage(0x1d, 2, 1, encodeGenl(3, 1, new AttrWriter().nest(2, (p) => p.u32(1, 1).bytes(2, Buffer.from([1, 2, 3, 4])).be16(5, 1194).u64(16, 5n).u32(17, 6).bytes(9, Buffer.alloc(16))).encode()))],
  ['ovpn key-swap-ntf', (b) => decodeOvpnMessage(parseMessages(b)[0]!), encodeMessage(0x1d, 0, 0, encodeGenl(9, 1, new AttrWriter().u32(1, 5).nest(3, (k) => k.u32(1, 1).u16(3, 2)).encode()))],
  ['psp dev-get', (b) => decodePspMessage(parseMessages(b)[0]!), encodeMessage(0x22, 2, 1, encodeGenl(1, 1, new AttrWriter().u32(1, 1).u32(2, 3).u32(3, 15).u32(4, 1).nest(5, (a) => a.u32(1, 4).u32(2, -1)).flag(7).encode()))],
  ['psp get-stats', (b) => decodePspMessage(parseMessages(b)[0]!), encodeMessage(0x22, 0, 1, encodeGenl(10, 1, new AttrWriter().u32(1, 1).u64(2, 3n).u32(4, 9).encode()))],
];

for (const [name, decode, good] of samples) {
  test(`fuzz ${name}: 3000 mutations, only DecodeError escapes`, () => {
    decode(good); // the unmutated sample decodes
    const r = rng(name.length * 7919);
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(good);
      const flips = 1 + Math.floor(r() * 4);
      for (let f = 0; f < flips; f++) b[16 + Math.floor(r() * (b.length - 16))] = Math.floor(r() * 256);
      const cut = r() < 0.2 ? b.subarray(0, 16 + Math.floor(r() * (b.length - 16))) : b;
      cut.writeUInt32LE(cut.length, 0);
      try {
        decode(cut);
      } catch (err) {
        assert.ok(err instanceof DecodeError, `mutation ${i}: ${String(err)}`);
      }
    }
  });
}
