// pspDevice(): a netdevsim port in the current netns, which registers a PSP device by itself (custom
// kernel only: INET_PSP + NETDEVSIM). Test-only write side (dev-set, key-rotate) through the project's genl
// layer with a test-side table; sascope's own psp table has dev-get and get-stats only.
// ynl(): the kernel's own YNL CLI (tools/net/ynl) as the independent view of a genl family.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import { GenlClient, type GenlFamilySpec } from '../../../server/genl/client.ts';
import { decodePspGenl } from '../../../server/families/psp/dev.ts';
import { sh } from './ovpn.ts';

type AdminOp = 'dev-get' | 'dev-set' | 'key-rotate';
const pspAdmin: GenlFamilySpec<AdminOp> = {
  name: 'psp',
  version: 1,
  requests: { 'dev-get': 1, 'dev-set': 4, 'key-rotate': 6 }, // <linux/psp.h> PSP_CMD_*
  notifications: {},
  groups: [],
};

export interface PspLabDevice {
  nsimId: number;
  ifname: string;
  ifindex: number;
  /** The PSP device id. */
  id: number;
  setVersions(mask: number): Promise<void>;
  rotate(): Promise<void>;
  remove(): void;
}

async function waitFor<T>(what: string, fn: () => T | undefined, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function pspDevice(nsimId = 7): Promise<PspLabDevice> {
  writeFileSync('/sys/bus/netdevsim/new_device', `${nsimId} 1`);
  const netDir = `/sys/bus/netdevsim/devices/netdevsim${nsimId}/net`;
  const ifname = await waitFor('the netdevsim netdev', () => (existsSync(netDir) ? readdirSync(netDir)[0] : undefined));
  const ifindex = Number(sh(`cat /sys/class/net/${ifname}/ifindex`).trim());
  const admin = await GenlClient.open(pspAdmin, 'lab psp');
  const devs = (await admin.dump('dev-get')).map((g) => decodePspGenl(g).dev!);
  const dev = devs.find((d) => d.ifindex === ifindex);
  if (!dev) throw new Error(`no PSP device for ${ifname} (ifindex ${ifindex}): ${JSON.stringify(devs)}`);
  return {
    nsimId,
    ifname,
    ifindex,
    id: dev.id,
    async setVersions(mask) {
      await admin.do('dev-set', new AttrWriter().u32(1, dev.id).u32(4, mask).encode());
    },
    async rotate() {
      await admin.do('key-rotate', new AttrWriter().u32(1, dev.id).encode());
    },
    remove() {
      admin.close();
      writeFileSync('/sys/bus/netdevsim/del_device', `${nsimId}`);
    },
  };
}

/** The Linux source the lab extracted (YNL specs and CLI). */
export function linuxSource(): string {
  for (const d of [process.env.SASCOPE_LAB_SRC, '/root/.cache/sascope-lab/src/linux-7.2', `${process.env.HOME}/.cache/sascope-lab/src/linux-7.2`]) {
    if (d && existsSync(`${d}/tools/net/ynl/pyynl/cli.py`)) return d;
  }
  throw new Error('no Linux source with tools/net/ynl (SASCOPE_LAB_SRC)');
}

/** Run the kernel's YNL CLI: ynl('psp', '--dump', 'dev-get'). Parsed JSON output. */
export function ynl(family: string, ...args: string[]): unknown {
  const src = linuxSource();
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const out = sh(`/usr/bin/python3 ${src}/tools/net/ynl/pyynl/cli.py --spec ${src}/Documentation/netlink/specs/${family}.yaml --no-schema --output-json ${args.map(q).join(' ')}`);
  return out.trim() ? JSON.parse(out) : null;
}
