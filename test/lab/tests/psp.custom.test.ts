// PSP against the custom kernel's netdevsim PSP device: "no PSP device" before it exists, then dev-add-ntf,
// dev-get (versions by name, device name), dev-set → dev-change-ntf, key-rotate → key-rotate-ntf as a
// rotation with get-stats counting it, dev-assoc/dev-disassoc → the associated devices, and dev-del-ntf when the port goes. The lab's pspDevice()/pspDevices() (kernel YNL CLI) are the independent view.
// SASCOPE_LAB_CAPTURE=1 also prints raw replies and notifications as fixture material.
import { test, before, after } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { LiveClient, getJson, startServer, type RunningServer } from '../../helpers.ts';
import { pspDevice, pspDevices, type PspDevice } from '../scenarios/index.ts';
import { sh, ynl } from '../scenarios/ovpn.ts';
import { GenlClient, type GenlMessage } from '../../../server/genl/client.ts';
import { pspFamily } from '../../../server/families/psp/spec.ts';
import { statsRequest } from '../../../server/families/psp/dev.ts';
import { encodeMessage } from '../../../server/netlink/message.ts';
import type { EntityKinds } from '../../../server/wire/protocol.ts';

type Dev = EntityKinds['psp-dev'];
let server: RunningServer;
let dev: (PspDevice & { nsim: { ifname: string; down(): Promise<void> } }) | undefined;
let client: LiveClient;

const pspDevs = async () => (await getJson<{ devices: Dev[] }>(`${server.url}/api/v1/psp`)).devices;
const pspSource = async () => (await getJson<{ sources: Array<{ id: string; state: string; reason?: string }> }>(`${server.url}/api/v1/sources`)).sources.find((s) => s.id === 'psp');

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}: ${JSON.stringify(await pspDevs())}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function eventDelta(type: string) {
  return client.waitForDelta((d) => d.kind === 'event' && d.op === 'upsert' && d.value.type === type, 10_000).then((x) => {
    if (x.delta.op !== 'upsert' || x.delta.kind !== 'event') throw new Error('unreachable');
    return x.delta.value;
  });
}

before(async () => {
  server = await startServer({ timeoutMs: 400_000 });
  client = new LiveClient(server.url);
  await client.opened();
});

after(async () => {
  client?.close();
  sh('ip link del psp-d0 2>/dev/null; ip netns del psp-x 2>/dev/null; true');
  if (server) assert.equal(await server.stop(), 0, 'SIGTERM gives a clean exit');
  await dev?.nsim.down().catch(() => undefined);
});

test('psp: before any netdevsim port the source says "no PSP device"', async () => {
  const s = await until('the psp source to settle', async () => {
    const x = await pspSource();
    return x && x.state !== 'starting' ? x : undefined;
  });
  assert.equal(s.state, 'ok');
  assert.equal(s.reason, 'no PSP device in this network namespace');
  assert.deepEqual(await pspDevs(), []);
});

test('psp: a netdevsim port brings dev-add-ntf and a device with its versions by name, as YNL reads it', async () => {
  dev = await pspDevice({ nsimId: 7 });
  const ev = await eventDelta('dev-add-ntf');
  assert.match(ev.summary, new RegExp(`PSP device ${dev.id} .*appeared`));
  const d = await until('the device', async () => (await pspDevs()).find((x) => x.id === dev!.id));
  assert.equal(d.ifindex, dev.ifindex);
  assert.equal(d.ifname, dev.nsim.ifname);
  assert.deepEqual(d.versionsCapable, ['hdr0-aes-gcm-128', 'hdr0-aes-gcm-256', 'hdr0-aes-gmac-128', 'hdr0-aes-gmac-256']);
  assert.deepEqual(d.versionsEnabled, []);
  const k = (await pspDevices()).find((x) => x.id === dev!.id)!;
  assert.deepEqual(d.versionsCapable, k['psp-versions-cap']);
  assert.equal(d.ifindex, k['ifindex']);
  assert.equal((await pspSource())?.reason, undefined);
  assert.ok(d.stats, `get-stats read: ${d.statsNote}`);
});

test('psp: dev-set shows as dev-change-ntf with the enabled versions', async () => {
  await dev!.enable();
  const ev = await eventDelta('dev-change-ntf');
  assert.match(ev.summary, /enabled hdr0-aes-gcm-128, hdr0-aes-gcm-256, hdr0-aes-gmac-128, hdr0-aes-gmac-256 of/);
  const d = await until('enabled versions', async () => (await pspDevs()).find((x) => x.id === dev!.id && x.versionsEnabled.length === 4));
  const k = (await pspDevices()).find((x) => x.id === dev!.id)!;
  assert.deepEqual(d.versionsEnabled, k['psp-versions-ena']);
});

test('psp: dev-assoc (a dummy here, a veth end in netns psp-x) shows the associated devices as YNL reads them; dev-disassoc leaves one', async () => {
  sh('ip link add psp-d0 type dummy && ip netns add psp-x && ip netns set psp-x 42 && ip link add psp-v0 type veth peer name psp-v1 netns psp-x');
  const d0 = Number(sh('cat /sys/class/net/psp-d0/ifindex'));
  const v1 = Number(sh('ip netns exec psp-x cat /sys/class/net/psp-v1/ifindex'));
  const changes = client.deltas().length;
  ynl('psp', '--do', 'dev-assoc', '--json', JSON.stringify({ id: dev!.id, ifindex: d0 }));
  ynl('psp', '--do', 'dev-assoc', '--json', JSON.stringify({ id: dev!.id, ifindex: v1, nsid: 42 }));
  const d = await until('two associated devices', async () => (await pspDevs()).find((x) => x.id === dev!.id && x.associated?.length === 2));
  const k = (await pspDevices()).find((x) => x.id === dev!.id)!;
  const kernel = (k['assoc-list'] as Array<{ ifindex: number; nsid: number }>).map((a) => ({ ifindex: a.ifindex, nsid: a.nsid }));
  assert.deepEqual(d.associated, kernel);
  assert.ok(d.associated!.some((a) => a.ifindex === v1 && a.nsid === 42), JSON.stringify(d.associated));
  assert.ok(d.associated!.some((a) => a.ifindex === d0), JSON.stringify(d.associated));
  assert.equal(d.byAssociation, false, 'sascope runs in the primary netns of the device');
  // the notification's event on the WebSocket (it may come a message after the device's own delta)
  await until('dev-change-ntf event on the WebSocket', async () => client.deltas().slice(changes).some((x) => x.delta.kind === 'event' && x.delta.op === 'upsert' && x.delta.value.type === 'dev-change-ntf' && /associated device/.test(x.delta.value.summary)) || undefined);

  // dev-disassoc notifies before it unlinks: the notification still lists psp-d0; sascope re-reads the device.
  ynl('psp', '--do', 'dev-disassoc', '--json', JSON.stringify({ id: dev!.id, ifindex: d0 }));
  const one = await until('one associated device left', async () => (await pspDevs()).find((x) => x.id === dev!.id && x.associated?.length === 1));
  assert.deepEqual(one.associated, [{ ifindex: v1, nsid: 42 }]);
  const k2 = (await pspDevices()).find((x) => x.id === dev!.id)!;
  assert.deepEqual(k2['assoc-list'], [{ ifindex: v1, nsid: 42 }]);
});

test('psp: key-rotate shows as a rotation and get-stats counts it', async () => {
  const before = (await pspDevs()).find((x) => x.id === dev!.id)!;
  await dev!.rotate();
  const ev = await eventDelta('key-rotate');
  assert.match(ev.summary, /device key rotated/);
  const d = await until('the rotation in stats', async () => (await pspDevs()).find((x) => x.id === dev!.id && x.rotations === 1 && BigInt(x.stats?.keyRotations ?? 0) === BigInt(before.stats?.keyRotations ?? 0) + 1n));
  assert.ok(d.lastRotation);
  const k = await dev!.stats();
  assert.equal(String(k['key-rotations']), d.stats!.keyRotations);
});

// A capture tool, not a check: it exists only when asked for (SASCOPE_LAB_CAPTURE=1), so a normal run skips nothing.
if (process.env.SASCOPE_LAB_CAPTURE) test('psp: fixture capture (SASCOPE_LAB_CAPTURE=1)', async () => {
  const c = await GenlClient.open(pspFamily, 'capture');
  const seen: GenlMessage[] = [];
  const mon = c.subscribe({ onMessage: (g) => seen.push(g), onOverrun: () => undefined, onError: () => undefined });
  const print = (name: string, note: string, msgs: GenlMessage[]) => {
    console.log(`FIXTURE-BEGIN ${name}`);
    console.log(`# captured in the lab VM by test/lab/tests/psp.custom.test.ts (netdevsim port ${dev!.nsim.ifname}, PSP device ${dev!.id}): ${note}`);
    console.log(`# kernel: ${execFileSync('uname', ['-r']).toString().trim()}`);
    for (const g of msgs) console.log(encodeMessage(c.family.id, 0, 0, Buffer.concat([Buffer.from([g.cmd, g.version, 0, 0]), g.attrs])).toString('hex'));
    console.log(`FIXTURE-END ${name}`);
  };
  print('dev-get-dump', 'dev-get dump after dev-set of all four versions', await c.dump('dev-get'));
  print('get-stats', 'get-stats do after one key-rotate', await c.do('get-stats', statsRequest(dev!.id)));
  await dev!.rotate();
  await dev!.enable();
  await new Promise((r) => setTimeout(r, 300));
  print('notifications', 'mgmt+use groups: key-rotate then dev-set (all four versions again)', seen);
  mon.close();
  c.close();
});

test('psp: removing the port brings dev-del-ntf and the device goes', async () => {
  const gone = dev!;
  dev = undefined;
  await gone.nsim.down();
  const ev = await eventDelta('dev-del-ntf');
  assert.match(ev.summary, new RegExp(`PSP device ${gone.id} .*removed`));
  await until('the device to go', async () => ((await pspDevs()).some((x) => x.id === gone.id) ? undefined : true));
});
