// Capture charon's `log` event stream over VICI while a shell command runs: one JSON line per event with
// the keys the failure-reason mapping reads (group, level, ikesa-name, ikesa-uniqueid, msg), for the
// fixtures under test/fixtures/vici/ (log-*.jsonl). charon's vici logger sends level 0-1 only: no keys.
//   tsx test/tools/capture-vici-log.ts --socket …/charon.vici --run 'swanctl --initiate --child x …' --events-ms 3000
import { parseArgs } from 'node:util';
import { execFileSync, execSync } from 'node:child_process';
import { ViciClient } from '../../server/families/vici/client.ts';

const { values } = parseArgs({ options: { socket: { type: 'string', default: '/var/run/charon.vici' }, run: { type: 'string' }, 'events-ms': { type: 'string', default: '3000' } } });
const out: string[] = [];
const client = await ViciClient.connect({
  path: values.socket!,
  onEvent: (name, m) => {
    if (name !== 'log') return;
    const pick = (k: string) => (typeof m[k] === 'string' ? m[k] : undefined);
    out.push(JSON.stringify({ group: pick('group'), level: pick('level'), 'ikesa-name': pick('ikesa-name'), 'ikesa-uniqueid': pick('ikesa-uniqueid'), msg: pick('msg') }));
  },
});
const version = (await client.command('version')).response;
if (!(await client.register('log'))) throw new Error('charon has no log event');
if (values.run) {
  try {
    execSync(values.run, { stdio: ['ignore', 'ignore', 'ignore'] });
  } catch {
    // a failing initiate is what is captured
  }
}
await new Promise((r) => setTimeout(r, Number(values['events-ms'])));
client.close();
console.log(JSON.stringify({ captured: `tsx test/tools/capture-vici-log.ts ${process.argv.slice(2).join(' ')}`, daemon: `${version['daemon']} ${version['version']}`, kernel: execFileSync('uname', ['-r']).toString().trim() }));
for (const l of out) console.log(l);
