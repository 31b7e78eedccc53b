// A source's reason names neither the source nor its state; the text that stands alone (a banner, the log,
// the API's refusal) puts the name before it once: "PF_KEY not available (module af_key not loaded)", never
// "PF_KEY: PF_KEY not available (…)".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno, SyscallError } from '../../../server/sys/errno.ts';
import { Model } from '../../../server/model/model.ts';
import { PfkeySource, RegisterBusyError } from '../../../server/families/pfkey/source.ts';
import { sourceSentence, type SourceStatus } from '../../../server/wire/entities.ts';
import type { PfkeyRegister } from '../../../server/wire/pfkey.ts';
import { memoryLogger } from '../memlog.ts';

test('sourceSentence: the name, the state in words, the reason in parentheses when there is one', () => {
  assert.equal(sourceSentence('PF_KEY', { state: 'not-available', reason: 'module af_key not loaded' }), 'PF_KEY not available (module af_key not loaded)');
  assert.equal(sourceSentence('XFRM SAs', { state: 'stale' }), 'XFRM SAs stale');
});

for (const [errno, state, sentence] of [
  [Errno.EAFNOSUPPORT, 'not-available', 'PF_KEY not available (module af_key not loaded)'],
  [Errno.EPERM, 'no-permission', 'PF_KEY no permission (a PF_KEY socket needs CAP_NET_ADMIN)'],
] as const) {
  test(`PF_KEY socket() fails with ${errno}: the reason says why without naming PF_KEY; each standalone text names it once`, async () => {
    const model = new Model();
    const { log, lines } = memoryLogger();
    // opening the request socket fails, as socket(PF_KEY) does without af_key or CAP_NET_ADMIN
    const socketFails = { promiscSocket: null, get transport(): never { throw new SyscallError('pfkey', 'socket', errno); } };
    const src = new PfkeySource(model, log, socketFails);
    await src.start();
    const status = model.get('source', 'pfkey') as SourceStatus;
    assert.equal(status.state, state);
    assert.equal(sourceSentence('PF_KEY', status), sentence, 'the banner');
    assert.equal((model.get('pfkey-register', 'register') as PfkeyRegister).reason, status.reason, 'the register panel says "Not available: <reason>"');
    assert.throws(() => src.startRegister(), (e: unknown) => e instanceof RegisterBusyError && e.message === sentence, 'the API refuses REGISTER in a sentence');
    assert.ok(lines.some((l) => l.msg === `pfkey: ${state} (${status.reason})`), 'the log line');
    src.stop();
  });
}
