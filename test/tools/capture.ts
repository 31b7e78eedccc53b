// Capture raw kernel replies as fixture material: runs one netlink request through sascope's own sys
// layer and prints every reply message (header included) in hex, one per line, with how it was made.
// Usage (as root, in the lab or a netns):
//   tsx test/tools/capture.ts --proto xfrm --type 21 --dump            # XFRM_MSG_GETPOLICY dump
//   tsx test/tools/capture.ts --proto route --type 18 --dump --payload 00000000000000000000000000000000
//   tsx test/tools/capture.ts --proto xfrm --monitor 3,4 --count 5     # five events from groups SA, POLICY
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { NetlinkConnection, openNetlinkTransport } from '../../server/netlink/conn.ts';
import { openMonitor } from '../../server/netlink/monitor.ts';
import { encodeMessage } from '../../server/netlink/message.ts';

const PROTO: Record<string, number> = { route: 0, xfrm: 6, generic: 16 };
const { values } = parseArgs({
  options: {
    proto: { type: 'string', default: 'xfrm' },
    type: { type: 'string' },
    dump: { type: 'boolean', default: false },
    payload: { type: 'string', default: '' },
    monitor: { type: 'string' },
    count: { type: 'string', default: '1' },
  },
});
const proto = PROTO[values.proto!];
if (proto === undefined) throw new Error(`unknown --proto ${values.proto}`);
const kernel = execFileSync('uname', ['-r']).toString().trim();
console.log(`# captured with: tsx test/tools/capture.ts ${process.argv.slice(2).join(' ')}`);
console.log(`# kernel: ${kernel}`);

if (values.monitor) {
  let left = Number(values.count);
  const mon = openMonitor(
    { source: 'capture', protocol: proto, groups: values.monitor.split(',').map(Number) },
    {
      onMessage: (m) => {
        console.log(encodeMessage(m.type, m.flags, m.seq, m.payload, m.pid).toString('hex'));
        if (--left <= 0) {
          mon.close();
          process.exit(0);
        }
      },
      onOverrun: (r) => console.error(`overrun: ${r}`),
      onError: (e) => console.error(String(e)),
    },
  );
} else {
  const conn = new NetlinkConnection('capture', openNetlinkTransport('capture', proto));
  const payload = Buffer.from(values.payload!, 'hex');
  const type = Number(values.type);
  const msgs = values.dump ? await conn.dump(type, payload, { op: 'capture dump' }) : await conn.do(type, payload, { op: 'capture' });
  for (const m of msgs) console.log(encodeMessage(m.type, m.flags, m.seq, m.payload, m.pid).toString('hex'));
  conn.close();
}
