// What one ovpn refresh costs with many peers: the source against a fake transport that answers a peer-get
// dump of N peers (every attribute, as 7.2 sends them) and key-get for both slots, into the real Model.
// The kernel side is not measured (no kernel here); this is sascope's own CPU per refresh tick.
//   node --import tsx test/bench/ovpn-refresh.ts [peers=10000] [rounds=5]
import { AttrWriter } from '../../server/netlink/attr.ts';
import { Model } from '../../server/model/model.ts';
import { createLogger } from '../../server/log.ts';
import { OvpnSource } from '../../server/families/ovpn/source.ts';
import { OVPN_CMD } from '../../server/families/ovpn/spec.ts';
import { genlDo, genlDump, genlFake } from '../unit/netlink/genl-fake.ts';
import { linkFake } from '../unit/netlink/link-fake.ts';
import { LinkWatch } from '../../server/families/link/watch.ts';

const peers = Number(process.argv[2] ?? 10_000);
const rounds = Number(process.argv[3] ?? 5);
let tick = 0n;
let dumpBytes = 0;

function peerAttrs(id: number): Buffer {
  return new AttrWriter()
    .nest(2, (w) => {
      w.u32(1, id).u32(24, id).bytes(8, Buffer.from([10, 8, id >> 8, id & 255])).u32(13, 10).u32(14, 60)
        .bytes(2, Buffer.from([192, 0, 2, id & 255])).be16(5, 1194).bytes(10, Buffer.from([192, 0, 2, 254])).be16(12, 1194);
      for (let a = 16; a <= 23; a++) w.u64(a, tick * BigInt(id)); // every counter moves every tick
    })
    .encode();
}

const genl = genlFake([{ name: 'ovpn', id: 0x1d, ops: [3, 7], groups: { peers: 9 } }], (req) => {
  if (req.cmd === OVPN_CMD.PEER_GET) {
    const parts = Array.from({ length: peers }, (_, i) => peerAttrs(i + 1));
    dumpBytes = parts.reduce((n, p) => n + p.length + 20, 0);
    return genlDump(req, OVPN_CMD.PEER_GET, parts);
  }
  const slot = req.attrs.readUInt32LE(20);
  const peerId = req.attrs.readUInt32LE(12);
  return genlDo(req, OVPN_CMD.KEY_GET, new AttrWriter().nest(3, (k) => k.u32(1, peerId).u32(2, slot).u32(3, slot + 1).u32(4, 1)).encode());
});
const model = new Model();
let deltas = 0;
model.onChange(() => deltas++);
const src = new OvpnSource(model, createLogger('silent'), new LinkWatch({ transport: linkFake([{ index: 5, name: 'ovpn0', kind: 'ovpn', ovpnMode: 1 }]) }), { genlTransport: genl, refreshIntervalMs: 0 });
const refresh = () => (src as unknown as { refresh(): Promise<void> }).refresh();

const t0 = performance.now();
await src.start();
console.log(`start with ${peers} peers: ${(performance.now() - t0).toFixed(0)} ms (${src.status.state})`);
for (let r = 0; r < rounds; r++) {
  tick++;
  deltas = 0;
  const keyReqs = genl.genlRequests.length;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await refresh();
  const wall = performance.now() - w0;
  const cpu = process.cpuUsage(cpu0);
  console.log(`refresh ${r + 1}: wall ${wall.toFixed(0)} ms, cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, requests ${genl.genlRequests.length - keyReqs} (1 dump + key-gets), dump ≈ ${(dumpBytes / 1e6).toFixed(2)} MB, model deltas ${deltas}`);
}
src.stop();
