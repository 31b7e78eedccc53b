// `sascope snapshot --json`: the document holds every SA and everything derived from them (the tunnel
// tracker publishes 1,000 tunnels per pass, on later turns of the event loop), and the streamed JSON is the
// text JSON.stringify makes, compact or indented, written with the output's backpressure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Model } from '../../../server/model/model.ts';
import { createLogger } from '../../../server/log.ts';
import { XfrmSaSource } from '../../../server/families/xfrm/sa-source.ts';
import { TunnelTracker } from '../../../server/model/tunnels.ts';
import { ConfigSchema } from '../../../server/config.ts';
import { XFRM_MSG, xfrm_usersa_info } from '../../../server/families/xfrm/spec.ts';
import { encodeStruct } from '../../../server/netlink/struct.ts';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import { MappedRows, snapshotDocument } from '../../../server/model/snapshot.ts';
import { readOnce, writeJson } from '../../../server/snapshot.ts';
import { fakeTransport, multipart } from '../netlink/fake.ts';
import { addr, algo, saInfo } from '../xfrm/build.ts';
import '../decoders.ts';

const N = 5000;
const nowSec = BigInt(Math.floor(Date.now() / 1000));

/** SA i: its own destination (so its own tunnel), added now, hard-expiring in 60 s with no soft limit: an 'expiring-soon' alarm each. */
function saPayload(i: number): Buffer {
  const dst = `10.${100 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}`;
  const info = saInfo({ dst, spi: 0x1000 + i });
  info['lft'] = { ...(info['lft'] as object), hard_add_expires_seconds: 60n };
  info['curlft'] = { ...(info['curlft'] as object), add_time: nowSec };
  info['sel'] = { ...(info['sel'] as object), daddr: addr(dst) };
  return Buffer.concat([encodeStruct(xfrm_usersa_info, info), new AttrWriter().bytes(18, algo('rfc4106(gcm(aes))', Buffer.alloc(20, 7), 128)).encode()]);
}

/** A stream that takes a chunk only on a later turn and holds little: writeJson must wait for 'drain'. */
function slowSink(): { out: Writable; text: () => string; drains: () => number } {
  const chunks: Buffer[] = [];
  let drains = 0;
  const out = new Writable({ highWaterMark: 16 * 1024, write: (c: Buffer, _e, cb) => void setImmediate(() => (chunks.push(c), cb())) });
  out.on('drain', () => drains++);
  return { out, text: () => Buffer.concat(chunks).toString('utf8'), drains: () => drains };
}

test(`snapshot --json of ${N} SAs through the fake transport holds every SA, tunnel and alarm`, async () => {
  const payloads = Array.from({ length: N }, (_, i) => saPayload(i));
  const model = new Model();
  const tunnels = new TunnelTracker(model, { thresholds: ConfigSchema.parse({}).alarms, tickMs: 0 });
  const sas = new XfrmSaSource(model, createLogger('silent'), { transport: fakeTransport((req) => multipart(req, XFRM_MSG.NEWSA, payloads)), refreshIntervalMs: 0 });
  const ready = sas.start();
  const settled = async () => {
    await ready;
    await tunnels.whenSettled();
  };
  const read = await readOnce({ model, ready, settled, stop: () => (sas.stop(), tunnels.close()) });
  const sink = slowSink();
  await writeJson(sink.out, snapshotDocument((kind) => read.list(kind), { time: Date.now(), server: { version: 't', hostname: 'h', netns: 'self' } }));
  assert.ok(sink.drains() > 0, 'the writer waited for the stream to drain');
  const doc = JSON.parse(sink.text()) as {
    sas: Array<{ key: string; lifetime: { current: { bytes: number } } }>;
    tunnels: Array<{ key: string; sas: string[]; alarms: string[] }>;
    alarms: Array<{ type: string; ref?: string }>;
  };
  assert.equal(doc.sas.length, N);
  assert.equal(typeof doc.sas[0]!.lifetime.current.bytes, 'number', 'SA counters as JSON numbers');
  assert.equal(doc.tunnels.length, N, 'every SA has its tunnel');
  const inTunnels = new Set(doc.tunnels.flatMap((t) => t.sas));
  assert.ok(doc.sas.every((s) => inTunnels.has(s.key)), 'every SA is in a tunnel');
  assert.ok(doc.tunnels.every((t) => t.alarms.includes('expiring-soon')), 'every tunnel carries its alarm');
  assert.equal(doc.alarms.filter((a) => a.type === 'expiring-soon').length, N, 'every alarm is in the document');
});

test('the streamed JSON is the text JSON.stringify makes, compact and with --pretty', async () => {
  const rows = [{ a: 1, b: [1, 2, { c: 'x\ny' }], d: {} }, { a: 2, e: [] }];
  const doc = {
    time: 't',
    nothing: undefined,
    none: null,
    empty: [],
    emptyObject: {},
    rows,
    mapped: new MappedRows(rows, (r) => ({ ...r, mapped: true })),
    nested: { deeper: { list: rows, value: 3 }, one: rows[0], zero: 0 },
  };
  for (const pretty of [false, true]) {
    const sink = slowSink();
    await writeJson(sink.out, doc, pretty);
    assert.equal(sink.text(), `${JSON.stringify(doc, null, pretty ? 2 : undefined)}\n`, pretty ? 'pretty' : 'compact');
  }
});
