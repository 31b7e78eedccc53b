// Capture raw PF_KEY datagrams as fixture material (the PF_KEY mode of test/tools/capture.ts: PF_KEY is
// not netlink, so it has its own tool). Every datagram is printed in hex, one per line, after provenance
// comments. Run as root in the lab (af_key), e.g.:
//   tsx test/tools/capture-pfkey.ts --request dump              # SADB_DUMP, SA type unspec
//   tsx test/tools/capture-pfkey.ts --request spddump           # SADB_X_SPDDUMP
//   tsx test/tools/capture-pfkey.ts --request register --satype 3
//   tsx test/tools/capture-pfkey.ts --promisc --run 'ip xfrm state add …' --settle 500
//   tsx test/tools/capture-pfkey.ts --add '{"spi":4096,"src":"10.0.0.1","dst":"10.0.0.2","encrypt":12,"encryptKeyHex":"…"}'
// --promisc prints every datagram a promiscuous socket gets while --run's command runs (duplicates and
// our own included, each preceded by a "# n: …" comment line) — the raw view the monitor filters.
import { parseArgs } from 'node:util';
import { execFileSync, execSync } from 'node:child_process';
import { openPfkeySocket } from '../../server/families/pfkey/conn.ts';
import { encodeSadbMessage } from '../../server/families/pfkey/message.ts';
import { SADB, SADB_NAME } from '../../server/families/pfkey/spec.ts';
import { buildAddSa, buildDeleteSa } from './pfkey-sa.ts';

const { values } = parseArgs({
  options: {
    request: { type: 'string' },
    satype: { type: 'string', default: '0' },
    promisc: { type: 'boolean', default: false },
    run: { type: 'string' },
    settle: { type: 'string', default: '300' },
    add: { type: 'string' },
    delete: { type: 'string' },
    timeout: { type: 'string', default: '5000' },
  },
});

const kernel = execFileSync('uname', ['-r']).toString().trim();
console.log(`# captured with: tsx test/tools/capture-pfkey.ts ${process.argv.slice(2).map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}`);
console.log(`# kernel: ${kernel}`);

const sock = openPfkeySocket('capture', 4 * 1024 * 1024);
const pid = process.pid;
// Armed after the request is sent: REGISTER blocks inside sendmsg while the kernel probes algorithms,
// and an overdue timer would fire before the queued reply is read.
let timer: NodeJS.Timeout | undefined;
const arm = () => {
  timer = setTimeout(() => {
    console.error('timeout waiting for the kernel');
    sock.close();
    process.exit(2);
  }, Number(values.timeout));
};
const done = (code = 0) => {
  clearTimeout(timer);
  sock.close();
  process.exit(code);
};

const typeName = (d: Buffer) => SADB_NAME[d[1]!] ?? String(d[1]);

if (values.promisc) {
  let n = 0;
  sock.onReadable(
    (d) => {
      const seq = d.data.readUInt32LE(8), p = d.data.readUInt32LE(12);
      console.log(`# ${n++}: ${typeName(d.data)} errno ${d.data[2]} satype ${d.data[3]} len ${d.data.readUInt16LE(4)} seq ${seq} pid ${p}${p === pid ? ' (ours)' : ''}`);
      console.log(d.data.toString('hex'));
    },
    (e) => console.error(String(e)),
  );
  sock.send(encodeSadbMessage({ type: SADB.X_PROMISC, satype: 1, seq: 1, pid }));
  setTimeout(() => {
    if (values.run) {
      console.log(`# run: ${values.run}`);
      execSync(values.run, { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    setTimeout(() => done(0), Number(values.settle));
  }, 100);
} else {
  let msg: Buffer;
  let dump = false;
  if (values.add) {
    const o = JSON.parse(values.add);
    msg = buildAddSa({
      ...o,
      authKey: o.authKeyHex ? Buffer.from(o.authKeyHex, 'hex') : undefined,
      encryptKey: o.encryptKeyHex ? Buffer.from(o.encryptKeyHex, 'hex') : undefined,
      pid,
    });
  } else if (values.delete) {
    msg = buildDeleteSa({ ...JSON.parse(values.delete), pid });
  } else {
    const type = { dump: SADB.DUMP, spddump: SADB.X_SPDDUMP, register: SADB.REGISTER, flush: SADB.FLUSH, spdflush: SADB.X_SPDFLUSH }[values.request ?? ''];
    if (type === undefined) throw new Error('--request dump|spddump|register|flush|spdflush, --add JSON, --delete JSON or --promisc');
    dump = type === SADB.DUMP || type === SADB.X_SPDDUMP;
    msg = encodeSadbMessage({ type, satype: Number(values.satype), seq: 7, pid });
  }
  const reqType = msg[1]!;
  const onDatagram = (d: { data: Buffer }) => {
      const h = d.data;
      if (h.readUInt32LE(12) !== pid || h[1] !== reqType) {
        console.log(`# (broadcast, not ours: ${typeName(h)} pid ${h.readUInt32LE(12)})`);
        return;
      }
      console.log(h.toString('hex'));
      if (!dump || h.readUInt32LE(8) === 0 || h[2] !== 0) done(0);
  };
  // When the request left (ms since the epoch): promiscuous sockets get their copy inside this sendmsg.
  console.log(`# send-at ${(performance.timeOrigin + performance.now()).toFixed(3)}`);
  sock.send(msg);
  for (let d = sock.recv(); d; d = sock.recv()) onDatagram(d);
  arm();
  sock.onReadable(onDatagram, (e) => console.error(String(e)));
}
