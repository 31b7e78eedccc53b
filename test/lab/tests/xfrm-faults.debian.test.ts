// Bad input from the real kernel's dump: one datagram of a GETSA dump (zoo + 300 SAs, several datagrams)
// is cut short on its way in. That dump fails with a clear error and leaves the model alone; the next
// dump, untouched, recovers and agrees with `ip xfrm state`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../../server/model/model.ts';
import { createLogger } from '../../../server/log.ts';
import { openNetlinkTransport, type Transport } from '../../../server/netlink/conn.ts';
import { NETLINK_XFRM } from '../../../server/netlink/constants.ts';
import { XfrmSaSource } from '../../../server/families/xfrm/sa-source.ts';
import { batchSAs, saZoo, sh } from '../scenarios/index.ts';

after(async () => {
  await sh('bash test/lab/scenarios/sa-zoo.sh flush ""', { allowFail: true });
});

test('a truncated dump part fails that dump with a clear error; the next dump recovers', { timeout: 180_000 }, async () => {
  await saZoo('');
  await batchSAs('', 300);
  const real = openNetlinkTransport('xfrm', NETLINK_XFRM);
  let cutNext = false;
  let datagrams = 0;
  const wrapped: Transport = {
    portId: real.portId,
    send: (b) => real.send(b),
    close: () => real.close(),
    start: (onD, onE) =>
      real.start((d) => {
        datagrams++;
        if (cutNext && datagrams === 2) {
          cutNext = false;
          return onD({ ...d, data: d.data.subarray(0, d.data.length - 100) });
        }
        onD(d);
      }, onE),
  };
  const model = new Model();
  const src = new XfrmSaSource(model, createLogger('silent'), { transport: wrapped, refreshIntervalMs: 0 });
  await src.start();
  assert.equal(src.status.state, 'ok');
  const want = Number((await sh('ip xfrm state count')).match(/(\d+)/)![1]);
  assert.ok(want >= 300);
  assert.equal(model.count('sa'), want);
  assert.ok(datagrams >= 3, `the dump came in ${datagrams} datagrams`);

  datagrams = 0;
  cutNext = true;
  await assert.rejects(src.resync('fault'), /xfrm reply: message length \d+ runs past the datagram/);
  assert.equal(src.status.state, 'error');
  assert.match(src.status.reason ?? '', /runs past the datagram/);
  assert.equal(model.count('sa'), want, 'the model keeps what it had');

  // the rest of the cut dump is still being read (and ignored: its sequence number is done with); a new
  // dump on the same socket before the kernel finished the old one would get EBUSY
  await new Promise((r) => setTimeout(r, 1000));
  datagrams = 0;
  await src.resync('recover');
  assert.equal(src.status.state, 'ok');
  assert.equal(model.count('sa'), want);
  src.stop();
});
