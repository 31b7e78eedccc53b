// WireGuard capture tool for the lab (the host kernel has no wireguard module): configures a wireguard
// link with sascope's own netlink encoder (WG_CMD_SET_DEVICE, which the product never sends) and prints
// get-device dump replies in hex for make-fixture.ts. `wg` is not needed. Recipe: wireguard-lab-capture.sh.
//   tsx test/tools/capture-wireguard.ts pubkey <private-key hex>          # its public key, hex
//   tsx test/tools/capture-wireguard.ts set <ifname> <private-key hex> <listen-port> <fwmark> [peer …]
//     peer = pub=<hex>[,psk=<hex>][,endpoint=<ip:port|[ip6]:port>][,keepalive=<s>][,allowed=<cidr>+<cidr>]
//   tsx test/tools/capture-wireguard.ts get <ifname>                      # dump replies, hex per line
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { pathToFileURL } from 'node:url';
import { AttrWriter } from '../../server/netlink/attr.ts';
import { encodeMessage } from '../../server/netlink/message.ts';
import { GenlClient, type GenlFamilySpec } from '../../server/genl/client.ts';
import { attrNumber } from '../../server/netlink/spec.ts';
import { WG_CMD, allowedIpAttrs, deviceAttrs, peerAttrs, wireguardFamily } from '../../server/families/wireguard/spec.ts';

// The tool's own allow-list: the product's family plus set-device.
export const toolFamily: GenlFamilySpec<'get-device' | 'set-device'> = { ...wireguardFamily, requests: { 'get-device': WG_CMD.GET_DEVICE, 'set-device': WG_CMD.SET_DEVICE } };
export const dev = (n: string) => attrNumber(deviceAttrs, n);
const peer = (n: string) => attrNumber(peerAttrs, n);
const aip = (n: string) => attrNumber(allowedIpAttrs, n);

/** X25519 public key of a raw private key (PKCS#8 prefix of an X25519 key + the 32 bytes). */
export function publicKeyOf(priv: Buffer): Buffer {
  const der = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), priv]);
  return createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' }).subarray(-32);
}

function sockaddr(endpoint: string): Buffer {
  const m = endpoint.match(/^\[?([^\]]+?)\]?:(\d+)$/);
  if (!m) throw new Error(`endpoint ${endpoint}: want ip:port or [ip6]:port`);
  const [, ip, port] = m as unknown as [string, string, string];
  const v4 = isIPv4(ip);
  const b = Buffer.alloc(v4 ? 16 : 28); // sockaddr_in / sockaddr_in6
  b.writeUInt16LE(v4 ? 2 : 10, 0);
  b.writeUInt16BE(Number(port), 2);
  if (v4) Buffer.from(ip.split('.').map(Number)).copy(b, 4);
  else execFileSync('python3', ['-c', `import socket,sys;sys.stdout.buffer.write(socket.inet_pton(socket.AF_INET6,'${ip}'))`]).copy(b, 8);
  return b;
}

function cidr(c: string): { family: number; addr: Buffer; mask: number } {
  const [ip, mask] = c.split('/') as [string, string];
  return { family: isIPv4(ip) ? 2 : 10, addr: sockaddr(isIPv4(ip) ? `${ip}:0` : `[${ip}]:0`).subarray(isIPv4(ip) ? 4 : 8, isIPv4(ip) ? 8 : 24), mask: Number(mask) };
}

/** One peer of a set-device request, from its command-line spec (see the header). */
export function writePeer(w: AttrWriter, spec: string): void {
  const o = Object.fromEntries(spec.split(',').map((kv) => kv.split('=') as [string, string]));
  w.nest(0, (p) => {
    p.bytes(peer('public-key'), Buffer.from(o.pub!, 'hex'));
    if (o.psk) p.bytes(peer('preshared-key'), Buffer.from(o.psk, 'hex'));
    if (o.endpoint) p.bytes(peer('endpoint'), sockaddr(o.endpoint));
    if (o.keepalive) p.u16(peer('persistent-keepalive-interval'), Number(o.keepalive));
    if (o.allowed) {
      p.nest(peer('allowedips'), (a) => {
        for (const c of o.allowed!.split('+')) {
          const x = cidr(c);
          a.nest(0, (e) => e.u16(aip('family'), x.family).bytes(aip('ipaddr'), x.addr).u8(aip('cidr-mask'), x.mask));
        }
      });
    }
  });
}

async function main(): Promise<void> {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === 'pubkey') {
    console.log(publicKeyOf(Buffer.from(args[0]!, 'hex')).toString('hex'));
  } else {
    const client = await GenlClient.open(toolFamily, 'wireguard capture');
    if (cmd === 'set') {
      const [ifname, priv, port, fwmark, ...peers] = args as [string, string, string, string, ...string[]];
      const w = new AttrWriter().string(dev('ifname'), ifname).bytes(dev('private-key'), Buffer.from(priv, 'hex')).u16(dev('listen-port'), Number(port)).u32(dev('fwmark'), Number(fwmark));
      if (peers.length) w.nest(dev('peers'), (ps) => peers.forEach((p) => writePeer(ps, p)));
      await client.do('set-device', w.encode(), `set ${ifname}`);
    } else if (cmd === 'get') {
      console.log(`# captured with: tsx test/tools/capture-wireguard.ts get ${args[0]} (test/tools/wireguard-lab-capture.sh)`);
      console.log(`# kernel: ${execFileSync('uname', ['-r']).toString().trim()}`);
      const replies = await client.dump('get-device', new AttrWriter().string(dev('ifname'), args[0]!).encode(), `get ${args[0]}`);
      for (const g of replies) console.log(encodeMessage(client.family.id, 2, 0, Buffer.concat([Buffer.from([g.cmd, g.version, 0, 0]), g.attrs])).toString('hex'));
    } else throw new Error(`usage: pubkey | set | get (see the header of ${process.argv[1]})`);
    client.close();
  }
}

// Run as a tool; imported (test/bench/wireguard-peers.ts), the encoder only.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
