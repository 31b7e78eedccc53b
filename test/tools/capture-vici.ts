// Capture what charon sends over VICI as fixture material: one exchange at a time on its socket — version,
// a command charon does not know (CMD_UNKNOWN), the stream and state events registered (EVENT_CONFIRM, or
// EVENT_UNKNOWN for one this charon lacks), list-conns, list-sas, list-certs — then, with --run, a shell command (swanctl
// --rekey/--terminate/--initiate) and the events it causes for --events-ms. Every packet charon sent is
// printed as one hex line, length header included (what decodeFramedPacket reads), after '#' provenance
// lines; what each packet is goes to stderr. Pipe it to test/tools/make-fixture.ts --decoder vici.
//   tsx test/tools/capture-vici.ts --socket /tmp/sascope-lab/strongswan/lab-a/run/charon.vici --run 'swanctl --rekey --child net --uri unix://…' --events-ms 8000
import net from 'node:net';
import { parseArgs } from 'node:util';
import { execFileSync, spawn } from 'node:child_process';
import { decodePacket, encodePacket, SegmentReader, type EncodableSection, type PacketTypeName } from '../../server/families/vici/spec.ts';
import { VICI_EVENTS } from '../../server/families/vici/source.ts';

const { values } = parseArgs({
  options: {
    socket: { type: 'string', default: '/var/run/charon.vici' },
    run: { type: 'string' },
    'events-ms': { type: 'string', default: '5000' },
  },
});
const kernel = execFileSync('uname', ['-r']).toString().trim();
const socket = net.createConnection({ path: values.socket! });
await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
const reader = new SegmentReader();
let waiting: ((type: string) => void) | undefined;
const lines: string[] = [];
let version = '';

socket.on('data', (chunk) => {
  for (const seg of reader.push(chunk)) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(seg.length, 0);
    lines.push(Buffer.concat([len, seg]).toString('hex'));
    const p = decodePacket(seg);
    console.error(`<- ${p.type}${p.name ? ` ${p.name}` : ''} (${seg.length + 4} bytes)`);
    if (p.type === 'CMD_RESPONSE' && typeof p.message?.version === 'string' && !version) version = `${p.message.daemon} ${p.message.version}`;
    if (p.type !== 'EVENT') waiting?.(p.type);
  }
});

/** Send one packet and wait for its answer (events meanwhile are recorded as they come). */
function exchange(type: PacketTypeName, name: string, message?: EncodableSection): Promise<string> {
  console.error(`-> ${type} ${name}`);
  return new Promise((resolve) => {
    waiting = (t) => ((waiting = undefined), resolve(t));
    socket.write(encodePacket(type, name, type === 'CMD_REQUEST' ? message ?? {} : undefined));
  });
}

await exchange('CMD_REQUEST', 'version');
await exchange('CMD_REQUEST', 'sascope-no-such-command');
for (const e of ['list-conn', 'list-sa', 'list-cert', ...VICI_EVENTS]) await exchange('EVENT_REGISTER', e);
await exchange('CMD_REQUEST', 'list-conns');
await exchange('CMD_REQUEST', 'list-sas');
await exchange('CMD_REQUEST', 'list-certs');
if (values.run) {
  console.error(`run: ${values.run}`);
  // not execSync: events charon sends while the command runs are read as they come (a blocked loop would
  // leave them unread when the socket is closed right after); its words to stderr: stdout is the capture
  await new Promise((resolve) => spawn('sh', ['-c', values.run!], { stdio: ['ignore', 2, 2] }).on('close', resolve));
  await new Promise((r) => setTimeout(r, Number(values['events-ms'])));
}
socket.end();
console.log(`# captured with: tsx test/tools/capture-vici.ts ${process.argv.slice(2).join(' ')}`);
console.log(`# daemon: ${version}; kernel: ${kernel}`);
for (const l of lines) console.log(l);
