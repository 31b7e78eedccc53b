// psp messages → sascope's shapes: dev-get replies and mgmt/use notifications (PSP_A_DEV_*), get-stats
// replies (PSP_A_STATS_*). Requests for dev-get and get-stats.
import { DecodeError, decodeAttrs, encodeAttrs, type Decoded } from '../../netlink/spec.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import { parseGenl, type GenlHeader } from '../../genl/genl.ts';
import { flagNames } from '../names.ts';
import type { PspDevice, PspStats } from '../../wire/psp.ts';
import { PSP_CMD, PSP_VERSION, devAttrs, statsAttrs } from './spec.ts';

/** What one dev message says (key-rotate-ntf carries only the id). */
export type PspDevAttrs = Partial<Pick<PspDevice, 'ifindex' | 'versionsCapable' | 'versionsEnabled' | 'associated' | 'byAssociation' | 'unknown'>> & { id: number };

export interface PspMessage {
  cmd: number;
  dev?: PspDevAttrs;
  stats?: PspStats & { devId: number };
}

export function versionNames(mask: number): string[] {
  return flagNames(mask, PSP_VERSION);
}

export function devFromAttrs(d: Decoded<typeof devAttrs>, what: string): PspDevAttrs {
  if (d.id === undefined) throw new DecodeError(what, 0, 'PSP device without PSP_A_DEV_ID');
  const out: PspDevAttrs = { id: d.id };
  if (d.ifindex !== undefined) out.ifindex = d.ifindex;
  if (d['psp-versions-cap'] !== undefined) out.versionsCapable = versionNames(d['psp-versions-cap']);
  if (d['psp-versions-ena'] !== undefined) out.versionsEnabled = versionNames(d['psp-versions-ena']);
  // A whole device (dev-get reply, dev-*-ntf: they carry the ifindex) states its associations in full:
  // no assoc-list means none, no by-association flag means the primary view. key-rotate-ntf has the id only.
  const whole = d.ifindex !== undefined;
  const assoc = d['assoc-list'];
  if (assoc || whole) out.associated = (assoc ?? []).map((a) => ({ ifindex: a.ifindex ?? 0, ...(a.nsid !== undefined ? { nsid: a.nsid } : {}) }));
  if (d['by-association'] || whole) out.byAssociation = d['by-association'] === true;
  if (d.unknown) out.unknown = d.unknown;
  return out;
}

export function statsFromAttrs(d: Decoded<typeof statsAttrs>, what: string): PspStats & { devId: number } {
  if (d['dev-id'] === undefined) throw new DecodeError(what, 0, 'PSP stats without PSP_A_STATS_DEV_ID');
  const v = (n: Exclude<keyof typeof d, 'dev-id' | 'unknown'>) => d[n] ?? 0n;
  const s: PspStats & { devId: number } = {
    devId: d['dev-id'],
    keyRotations: v('key-rotations'),
    staleEvents: v('stale-events'),
    rxPackets: v('rx-packets'),
    rxBytes: v('rx-bytes'),
    rxAuthFail: v('rx-auth-fail'),
    rxError: v('rx-error'),
    rxBad: v('rx-bad'),
    txPackets: v('tx-packets'),
    txBytes: v('tx-bytes'),
    txError: v('tx-error'),
  };
  if (d.unknown) s.unknown = d.unknown;
  return s;
}

/** Decode a psp genl message by its command. Throws DecodeError on bad bytes. */
export function decodePspGenl(g: GenlHeader, what = 'psp message'): PspMessage {
  if (g.cmd === PSP_CMD.GET_STATS) return { cmd: g.cmd, stats: statsFromAttrs(decodeAttrs(statsAttrs, g.attrs, what), what) };
  return { cmd: g.cmd, dev: devFromAttrs(decodeAttrs(devAttrs, g.attrs, what), what) };
}

/** A whole netlink message (fixtures, fuzzers). */
export function decodePspMessage(m: NetlinkMessage): PspMessage {
  return decodePspGenl(parseGenl(m, 'psp message'), 'psp message');
}

/** dev-get do-request for one device. */
export function devGetRequest(id: number): Buffer {
  return encodeAttrs(devAttrs, { id });
}

/** get-stats do-request for one device. */
export function statsRequest(devId: number): Buffer {
  return encodeAttrs(statsAttrs, { 'dev-id': devId });
}
