// GenlResolver against a fake nlctrl: ops and multicast groups decoded, absent families said clearly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenlResolver, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, ctrlAttrs, encodeGenl, parseGenl } from '../../../server/genl/genl.ts';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import { decodeAttrs } from '../../../server/netlink/spec.ts';
import { NetlinkConnection } from '../../../server/netlink/conn.ts';
import { NetlinkError, DecodeError } from '../../../server/netlink/errors.ts';
import { encodeMessage } from '../../../server/netlink/message.ts';
import { Errno } from '../../../server/sys/errno.ts';
import { fakeTransport, nlError } from './fake.ts';

interface Fam { name: string; id: number; version?: number; ops: number[]; groups?: Record<string, number> }
const families: Fam[] = [{ name: 'ovpn', id: 0x22, version: 1, ops: [1, 2, 5], groups: { peers: 7 } }, { name: 'psp', id: 0x23, ops: [1] }];

/** nlctrl as the kernel answers CTRL_CMD_GETFAMILY: CTRL_CMD_NEWFAMILY with CTRL_ATTR_OPS/MCAST_GROUPS arrays, then the ACK. */
function nlctrl(fams: Fam[]) {
  return fakeTransport((req) => {
    const name = decodeAttrs(ctrlAttrs, parseGenl(req, 'nlctrl request').attrs)['family-name'];
    const f = fams.find((x) => x.name === name);
    if (!f) return [nlError(req, Errno.ENOENT)];
    const w = new AttrWriter().u16(1, f.id).string(2, f.name).u32(3, f.version ?? 1).u32(4, 0).u32(5, 30)
      .nest(6, (ops) => f.ops.forEach((cmd, i) => ops.nest(i + 1, (o) => o.u32(1, cmd).u32(2, 0xa))));
    const groups = Object.entries(f.groups ?? {});
    if (groups.length) w.nest(7, (gs) => groups.forEach(([g, id], i) => gs.nest(i + 1, (x) => x.string(1, g).u32(2, id))));
    return [encodeMessage(GENL_ID_CTRL, 0, req.seq, encodeGenl(1, 2, w.encode())), nlError(req, 0)];
  });
}

test('a family resolves to its id, version, ops and multicast groups', async () => {
  const t = nlctrl(families);
  const r = new GenlResolver(new NetlinkConnection('nlctrl', t));
  const f = await r.family('ovpn');
  assert.equal(f.id, 0x22);
  assert.equal(f.name, 'ovpn');
  assert.equal(f.version, 1);
  assert.deepEqual([...f.ops], [[1, 0xa], [2, 0xa], [5, 0xa]]);
  assert.deepEqual([...f.groups], [['peers', 7]]);
  const req = t.requests[0]!;
  assert.equal(req.type, GENL_ID_CTRL);
  assert.equal(parseGenl(req, 'req').cmd, CTRL_CMD_GETFAMILY);
  const p = await r.family('psp');
  assert.equal(p.groups.size, 0);
  r.close();
});

test('ENOENT → "family … not found (module not loaded …)" with the caller as source', async () => {
  const r = new GenlResolver(new NetlinkConnection('nlctrl', nlctrl(families)));
  await assert.rejects(r.family('wireguard', 'wg'), (e) => {
    assert.ok(e instanceof NetlinkError);
    assert.equal(e.errno, Errno.ENOENT);
    assert.equal(e.message, 'wg: resolve family: ENOENT (family wireguard not found (module not loaded or kernel too old))');
    return true;
  });
  r.close();
});

test('other errors pass through; a malformed reply is a DecodeError', async () => {
  const eperm = new GenlResolver(new NetlinkConnection('nlctrl', fakeTransport((req) => [nlError(req, Errno.EPERM)])));
  await assert.rejects(eperm.family('ovpn'), (e) => e instanceof NetlinkError && e.errno === Errno.EPERM);
  const short = new GenlResolver(new NetlinkConnection('nlctrl', fakeTransport((req) => [encodeMessage(GENL_ID_CTRL, 0, req.seq, Buffer.alloc(2)), nlError(req, 0)])));
  await assert.rejects(short.family('ovpn'), DecodeError);
  eperm.close();
  short.close();
});
