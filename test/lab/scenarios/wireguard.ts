// WireGuard for lab tests (inside the lab VM only): links configured with test/tools/capture-wireguard.ts
// (keys, peers, endpoints through the project's genl layer), and the kernel's own view of a device through
// its YNL CLI, the independent view the tests compare sascope's rows with.
import { sh, ynl } from './ovpn.ts';

export const wgTool = (...args: string[]) => sh(`/usr/bin/node --import tsx test/tools/capture-wireguard.ts ${args.map((a) => `'${a}'`).join(' ')}`).trim();

export const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
/** A private key as the kernel keeps it (curve25519 clamping): those bytes are searched for too. */
export function clamp(hex: string): string {
  const k = Buffer.from(hex, 'hex');
  k[0]! &= 248;
  k[31] = (k[31]! & 127) | 64;
  return k.toString('hex');
}
/** YNL prints a key (display-hint hex) as "c3 06 fb …": base64 here. */
export function keyOf(v: unknown): string {
  if (typeof v !== 'string' || !/^[0-9a-f ]+$/.test(v)) throw new Error(`YNL key ${JSON.stringify(v)}: want hex`);
  return Buffer.from(v.replace(/ /g, ''), 'hex').toString('base64');
}
/** YNL gives an indexed array as [{ "<index>": {…} }, …]: the elements. */
export const elements = (v: unknown) => ((v ?? []) as Array<Record<string, Record<string, any>>>).map((e) => Object.values(e)[0]!);
export const kernelPeers = (ifindex: number) => (ynl('wireguard', '--dump', 'get-device', '--json', JSON.stringify({ ifindex })) as Array<Record<string, unknown>>).flatMap((m) => elements(m['peers']));
export const ifindexOf = (name: string, ns = '') => Number(sh(`ip ${ns ? `-n ${ns} ` : ''}-j link show ${name}`).match(/"ifindex":(\d+)/)![1]);
