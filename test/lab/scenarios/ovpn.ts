// ovpnHub(): a real ovpn setup for lab tests (inside the lab VM only). A hub device "ovpn-hub" in mp mode
// in the current netns with one peer per spoke; each spoke is a netns (ovpn-sN) joined by veth
// (10.70.N.1 ↔ 10.70.N.2) with its own p2p device "ovpn-p" and the hub as its peer. Keys in both slots
// (primary key-id 1, secondary key-id 2, aes-gcm), tunnel addresses 10.8.0.1 (hub) and 10.8.0.(N+1).
//
// ovpn takes the fd of a UDP socket owned by the calling process and deletes the peer when that process
// lets go of it, so this module holds the sockets: the peers live as long as the test process (or close()).
// Test-only: it drives the write side of the family (peer-new, key-new, key-swap, peer-del) through the
// project's genl layer with a test-side operation table; sascope's own table has none of these.
// (index.ts's ovpnPair is the P2P pair, one peer per device; this one puts two peers on one device.)
// ynl(): the kernel's own YNL CLI (tools/net/ynl) as the independent view of a genl family.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, constants as fsc } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { c, lastErrno, AF_INET, CLONE_NEWNET, SOCK_DGRAM } from '../../../server/sys/libc.ts';
import { SyscallError } from '../../../server/sys/errno.ts';
import { KernelSocket } from '../../../server/sys/socket.ts';
import { NETLINK_GENERIC, NETLINK_ROUTE } from '../../../server/netlink/constants.ts';
import { NetlinkConnection, openNetlinkTransport, type Transport } from '../../../server/netlink/conn.ts';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import { encodeStruct } from '../../../server/netlink/struct.ts';
import { ifinfomsg, RTM } from '../../../server/families/link/spec.ts';
import { GenlClient, type GenlFamilySpec } from '../../../server/genl/client.ts';
import { OVPN_CMD } from '../../../server/families/ovpn/spec.ts';

export function sh(cmd: string): string {
  return execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });
}

/** Run fn with this thread in netns `ns` (sockets opened in fn belong to it), then come back. */
export function inNetns<T>(ns: string | undefined, fn: () => T): T {
  if (!ns) return fn();
  const home = openSync('/proc/thread-self/ns/net', fsc.O_RDONLY);
  const there = openSync(`/run/netns/${ns}`, fsc.O_RDONLY);
  try {
    if ((c.setns(there, CLONE_NEWNET) as number) < 0) throw new SyscallError('lab', `setns ${ns}`, lastErrno());
    try {
      return fn();
    } finally {
      if ((c.setns(home, CLONE_NEWNET) as number) < 0) throw new SyscallError('lab', 'setns back', lastErrno());
    }
  } finally {
    closeSync(there);
    closeSync(home);
  }
}

/** The write side of ovpn, for tests only. */
type AdminOp = 'peer-new' | 'peer-del' | 'key-new' | 'key-swap';
const ovpnAdmin: GenlFamilySpec<AdminOp> = {
  name: 'ovpn',
  version: 1,
  requests: { 'peer-new': OVPN_CMD.PEER_NEW, 'peer-del': OVPN_CMD.PEER_DEL, 'key-new': OVPN_CMD.KEY_NEW, 'key-swap': OVPN_CMD.KEY_SWAP },
  notifications: {},
  groups: [],
};

const ipv4 = (s: string) => Buffer.from(s.split('.').map(Number));

function udpSocket(ns: string | undefined, addr: string, port: number): KernelSocket {
  return inNetns(ns, () => {
    const s = KernelSocket.open('lab udp', AF_INET, SOCK_DGRAM, 0);
    const sa = Buffer.alloc(16);
    sa.writeUInt16LE(AF_INET, 0);
    sa.writeUInt16BE(port, 2);
    ipv4(addr).copy(sa, 4);
    s.bindRaw(sa);
    return s;
  });
}

/** RTM_NEWLINK kind "ovpn" with IFLA_OVPN_MODE (bookworm's ip has no ovpn options). Returns the ifindex. */
async function createOvpnLink(ns: string | undefined, name: string, mode: 'p2p' | 'mp'): Promise<number> {
  const t: Transport = inNetns(ns, () => openNetlinkTransport('lab rtnetlink', NETLINK_ROUTE));
  const conn = new NetlinkConnection('lab rtnetlink', t);
  try {
    const attrs = new AttrWriter()
      .string(3, name)
      .nest(18, (li) => li.string(1, 'ovpn').nest(2, (d) => d.u8(1, mode === 'mp' ? 1 : 0)))
      .encode();
    await conn.do(RTM.NEWLINK, Buffer.concat([encodeStruct(ifinfomsg, { family: 0 }), attrs]), { op: `create ${name}` }, 0x400 | 0x200 /* CREATE|EXCL */);
  } finally {
    conn.close();
  }
  return Number(sh(`${ns ? `ip netns exec ${ns} ` : ''}cat /sys/class/net/${name}/ifindex`).trim());
}

async function adminClient(ns: string | undefined): Promise<GenlClient<AdminOp>> {
  const t = inNetns(ns, () => openNetlinkTransport('lab ovpn', NETLINK_GENERIC));
  // The first key-new loads the AEAD modules under TCG: give requests a minute.
  return GenlClient.open(ovpnAdmin, 'lab ovpn', { transport: t, timeoutMs: 60_000 });
}

interface KeyDir {
  key: Buffer;
  nonce: Buffer;
}

function keyNewAttrs(ifindex: number, peerId: number, slot: number, keyId: number, enc: KeyDir, dec: KeyDir): Buffer {
  const dir = (d: KeyDir) => (w: AttrWriter) => w.bytes(1, d.key).bytes(2, d.nonce);
  return new AttrWriter()
    .u32(1, ifindex)
    .nest(3, (k) => k.u32(1, peerId).u32(2, slot).u32(3, keyId).u32(4, 1 /* aes-gcm */).nest(5, dir(enc)).nest(6, dir(dec)))
    .encode();
}

export interface OvpnSpoke {
  peerId: number;
  ns: string;
  vpnAddress: string;
  remoteAddress: string;
  remotePort: number;
}

export interface OvpnHub {
  hub: { name: string; ifindex: number; localPort: number };
  spokes: OvpnSpoke[];
  /** Send `count` pings from spoke N through the tunnel to the hub. */
  traffic(peerId: number, count?: number): void;
  /** key-swap on the hub for one peer (primary ↔ secondary). */
  swapKeys(peerId: number): Promise<void>;
  /** peer-del on the hub (the kernel then sends peer-del-ntf reason userspace). */
  deletePeer(peerId: number): Promise<void>;
  close(): void;
}

export async function ovpnHub(opts: { spokes?: number } = {}): Promise<OvpnHub> {
  sh('modprobe ovpn 2>/dev/null || true');
  const n = opts.spokes ?? 2;
  const hubName = 'ovpn-hub';
  const port = 1194;
  const sockets: KernelSocket[] = [];
  const clients: Array<GenlClient<AdminOp>> = [];
  const spokes: OvpnSpoke[] = [];
  const teardown = () => {
    for (const cl of clients) cl.close();
    for (const s of sockets) s.close();
    sh(`ip link del ${hubName} 2>/dev/null || true`);
    for (const s of spokes) sh(`ip netns del ${s.ns} 2>/dev/null || true; ip link del ovpn-v${s.peerId} 2>/dev/null || true`);
  };
  try {
    return await build();
  } catch (err) {
    teardown(); // open sockets would keep the test process (and the VM) alive
    throw err;
  }

  async function build(): Promise<OvpnHub> {
    for (let i = 1; i <= n; i++) {
      const ns = `ovpn-s${i}`;
      sh(`ip netns add ${ns}; ip link add ovpn-v${i} type veth peer name eth0 netns ${ns}; ip addr add 10.70.${i}.1/24 dev ovpn-v${i}; ip link set ovpn-v${i} up;` +
        ` ip -n ${ns} addr add 10.70.${i}.2/24 dev eth0; ip -n ${ns} link set eth0 up; ip -n ${ns} link set lo up`);
      spokes.push({ peerId: i, ns, vpnAddress: `10.8.0.${i + 1}`, remoteAddress: `10.70.${i}.2`, remotePort: port });
    }
    const hubIfindex = await createOvpnLink(undefined, hubName, 'mp');
    sh(`ip addr add 10.8.0.1/24 dev ${hubName}; ip link set ${hubName} up`);
    const hubSock = udpSocket(undefined, '0.0.0.0', port);
    sockets.push(hubSock);
    const hub = await adminClient(undefined);
    clients.push(hub);

    for (const s of spokes) {
      const spokeIfindex = await createOvpnLink(s.ns, 'ovpn-p', 'p2p');
      sh(`ip -n ${s.ns} addr add ${s.vpnAddress}/24 dev ovpn-p; ip -n ${s.ns} link set ovpn-p up`);
      const sock = udpSocket(s.ns, s.remoteAddress, port);
      sockets.push(sock);
      const cl = await adminClient(s.ns);
      clients.push(cl);
      await hub.do('peer-new', new AttrWriter().u32(1, hubIfindex).nest(2, (p) => p
        .u32(1, s.peerId).bytes(2, ipv4(s.remoteAddress)).be16(5, port).u32(6, hubSock.fd)
        .bytes(8, ipv4(s.vpnAddress)).bytes(10, ipv4(`10.70.${s.peerId}.1`)).u32(13, 5).u32(14, 120)).encode());
      await cl.do('peer-new', new AttrWriter().u32(1, spokeIfindex).nest(2, (p) => p
        .u32(1, s.peerId).bytes(2, ipv4(`10.70.${s.peerId}.1`)).be16(5, port).u32(6, sock.fd).u32(13, 5).u32(14, 120)).encode());
      for (const [slot, keyId] of [[0, 1], [1, 2]] as const) {
        const toSpoke = { key: randomBytes(32), nonce: randomBytes(8) };
        const toHub = { key: randomBytes(32), nonce: randomBytes(8) };
        await hub.do('key-new', keyNewAttrs(hubIfindex, s.peerId, slot, keyId, toSpoke, toHub));
        await cl.do('key-new', keyNewAttrs(spokeIfindex, s.peerId, slot, keyId, toHub, toSpoke));
      }
    }
    return {
      hub: { name: hubName, ifindex: hubIfindex, localPort: port },
      spokes,
      traffic(peerId, count = 5) {
        const s = spokes.find((x) => x.peerId === peerId)!;
        sh(`ip netns exec ${s.ns} ping -q -c ${count} -i 0.2 -W 2 10.8.0.1`);
      },
      async swapKeys(peerId) {
        await hub.do('key-swap', new AttrWriter().u32(1, hubIfindex).nest(3, (k) => k.u32(1, peerId)).encode());
      },
      async deletePeer(peerId) {
        await hub.do('peer-del', new AttrWriter().u32(1, hubIfindex).nest(2, (p) => p.u32(1, peerId)).encode());
      },
      close: teardown,
    };
  }
}

/** The Linux source the lab extracted (YNL specs and CLI). */
function linuxSource(): string {
  for (const d of [process.env.SASCOPE_LAB_SRC, '/root/.cache/sascope-lab/src/linux-7.2', `${process.env.HOME}/.cache/sascope-lab/src/linux-7.2`]) {
    if (d && existsSync(`${d}/tools/net/ynl/pyynl/cli.py`)) return d;
  }
  throw new Error('no Linux source with tools/net/ynl (SASCOPE_LAB_SRC)');
}

/** Run the kernel's YNL CLI: ynl('ovpn', '--dump', 'peer-get', '--json', '{"ifindex": 4}'). Parsed JSON output. */
export function ynl(family: string, ...args: string[]): unknown {
  const src = linuxSource();
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const out = sh(`/usr/bin/python3 ${src}/tools/net/ynl/pyynl/cli.py --spec ${src}/Documentation/netlink/specs/${family}.yaml --no-schema --output-json ${args.map(q).join(' ')}`);
  return out.trim() ? JSON.parse(out) : null;
}
