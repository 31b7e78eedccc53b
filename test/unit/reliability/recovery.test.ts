// Recovery pieces the lab's fault tests rely on, without privileges: a not-available source tries again
// (and stops trying once asked to), the --netns watch notices the name going away, and the monitor's
// receive buffer override (SASCOPE_MONITOR_RCVBUF) parses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Source, type ModelSink } from '../../../server/families/source.ts';
import { createLogger } from '../../../server/log.ts';
import { watchNetns } from '../../../server/sys/netns.ts';
import { monitorReceiveBufferOverride } from '../../../server/netlink/monitor.ts';
import { SyscallError } from '../../../server/sys/errno.ts';

const sink: ModelSink = { replaceAll() {}, upsert() {}, patch: () => false, remove() {}, event() {}, status() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Flaky extends Source {
  available = false;
  starts = 0;
  stops = 0;
  constructor() {
    super('flaky', 'Flaky', sink, createLogger('silent'));
  }
  async start(): Promise<void> {
    this.starts++;
    try {
      if (!this.available) throw new SyscallError('flaky', 'socket', 97); // EAFNOSUPPORT
      await this.resync('start');
      this.setState('ok');
    } catch (err) {
      this.failed(err);
    }
  }
  stop(): void {
    this.stops++;
  }
  protected async dumpAll(): Promise<void> {}
}

test('a not-available source is stopped and started again until its module is there', async () => {
  const s = new Flaky();
  s.retryWhenNotAvailable(20);
  await s.start();
  assert.equal(s.status.state, 'not-available');
  await sleep(70);
  assert.ok(s.starts >= 2, `retried (${s.starts} starts)`);
  s.available = true;
  await sleep(60);
  assert.equal(s.status.state, 'ok');
  const n = s.starts;
  await sleep(60);
  assert.equal(s.starts, n, 'no retries once ok');
  assert.equal(s.stops, n - 1, 'each retry stops the old one first');
});

test('retryWhenNotAvailable(0) cancels a pending retry (shutdown)', async () => {
  const s = new Flaky();
  s.retryWhenNotAvailable(20);
  await s.start();
  s.retryWhenNotAvailable(0);
  await sleep(60);
  assert.equal(s.starts, 1);
});

test('watchNetns: the name deleted, or replaced by another namespace, is told once', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'netns-watch-'));
  try {
    writeFileSync(path.join(dir, 'a'), '');
    writeFileSync(path.join(dir, 'b'), '');
    const got: string[] = [];
    const wa = watchNetns('a', (how) => got.push(`a ${how}`), dir);
    const wb = watchNetns('b', (how) => got.push(`b ${how}`), dir);
    writeFileSync(path.join(dir, 'other'), '');
    await sleep(50);
    assert.deepEqual(got, [], 'other files do not count');
    rmSync(path.join(dir, 'a'));
    rmSync(path.join(dir, 'b'));
    writeFileSync(path.join(dir, 'b'), ''); // a new file: another inode
    await sleep(100);
    assert.deepEqual(got.sort(), ['a deleted', 'b replaced']);
    wa.close();
    wb.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SASCOPE_MONITOR_RCVBUF: a positive integer or nothing', () => {
  assert.equal(monitorReceiveBufferOverride({ SASCOPE_MONITOR_RCVBUF: '4096' }), 4096);
  assert.equal(monitorReceiveBufferOverride({}), undefined);
  assert.equal(monitorReceiveBufferOverride({ SASCOPE_MONITOR_RCVBUF: 'big' }), undefined);
  assert.equal(monitorReceiveBufferOverride({ SASCOPE_MONITOR_RCVBUF: '-1' }), undefined);
});
