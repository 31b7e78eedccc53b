// The PF_KEY request timeout is about silence, not total time: a dump of 100k SAs arrives in thousands of
// messages over tens of seconds and must complete; a kernel that stops answering fails with the timeout
// it was really given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Datagram } from '../../../server/sys/socket.ts';
import { decodeSadbMessage, type SadbMessage } from '../../../server/families/pfkey/message.ts';
import { SADB, SATYPE } from '../../../server/families/pfkey/spec.ts';
import { PfkeyConnection, type PfkeyTransport } from '../../../server/families/pfkey/conn.ts';
import { AF_INET } from '../../../server/sys/libc.ts';
import { reply } from './fake.ts';

const v4 = (address: string) => ({ family: AF_INET, address, port: 0, proto: 255, prefixlen: 32 });
const saReply = (req: SadbMessage, seq: number, spi: number): Buffer =>
  reply(req, { seq, satype: SATYPE.ESP }, { sa: { spi, replay: 32, state: 1, auth: 5, encrypt: 12, flags: 0 }, addressSrc: v4('10.0.0.1'), addressDst: v4('10.0.0.2') });

/** A kernel that answers a dump with `count` SAs, one every `everyMs`; the last one (seq 0) only when `finish`. */
function tricklingKernel(count: number, everyMs: number, finish: boolean): PfkeyTransport {
  let onD: ((d: Datagram) => void) | undefined;
  const timers: NodeJS.Timeout[] = [];
  return {
    start(d) {
      onD = d;
    },
    send(buf) {
      const req = decodeSadbMessage(buf, 'fake kernel');
      for (let i = 1; i <= count; i++) {
        const last = i === count && finish;
        timers.push(setTimeout(() => onD?.({ data: saReply(req, last ? 0 : i, i), senderPort: -1 }), i * everyMs));
      }
    },
    close() {
      onD = undefined;
      for (const t of timers) clearTimeout(t);
    },
  };
}

test('a PF_KEY dump whose messages keep coming for longer than the timeout completes', async () => {
  // 12 messages 30 ms apart: 360 ms in all, never 100 ms without one.
  const conn = new PfkeyConnection('pfkey', tricklingKernel(12, 30, true), 1234);
  const t0 = performance.now();
  const r = await conn.dump({ type: SADB.DUMP, op: 'dump SAs', timeoutMs: 100 });
  assert.ok(performance.now() - t0 > 300, 'the dump took longer than its timeout');
  assert.equal(r.messages.length, 12);
  conn.close();
});

test('a PF_KEY kernel silent for longer than the timeout fails with that timeout in the message', async () => {
  const conn = new PfkeyConnection('pfkey', tricklingKernel(3, 30, false), 1234);
  await assert.rejects(conn.dump({ type: SADB.DUMP, op: 'dump SAs', timeoutMs: 150 }), /^Error: pfkey: dump SAs: no reply from the kernel for 150 ms after 3 of its messages$/);
  const silent = new PfkeyConnection('pfkey', tricklingKernel(0, 30, false), 1234);
  await assert.rejects(silent.request({ type: SADB.GET, op: 'get SA', timeoutMs: 120 }), /^Error: pfkey: get SA: no reply from the kernel for 120 ms$/);
  conn.close();
  silent.close();
});
