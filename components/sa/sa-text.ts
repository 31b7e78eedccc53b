// What an operator reads off an SA: algorithm in one phrase, expiry countdowns, sequence space used.
import type { OnWire } from '@/server/wire/entities';
import type { SecurityAssociation } from '@/server/wire/xfrm';
import { U64_MAX, formatSpi } from '../format';
import { hostOf } from '../live/host-filter';

export type Sa = OnWire<SecurityAssociation>;

export function algorithmText(sa: Sa): string {
  if (sa.aead) return `${sa.aead.name} ${sa.aead.keyBits}b icv ${sa.aead.icvBits ?? '?'}`;
  const parts: string[] = [];
  if (sa.enc) parts.push(`${sa.enc.name} ${sa.enc.keyBits}b`);
  if (sa.auth) parts.push(`${sa.auth.name}${sa.auth.truncBits ? `/${sa.auth.truncBits}` : ''}`);
  if (sa.comp) parts.push(sa.comp.name);
  return parts.join(' + ') || '—';
}

export function fingerprints(sa: Sa): string {
  return [sa.aead, sa.enc, sa.auth].map((a) => a?.fingerprint).filter(Boolean).join(' ');
}

/** Seconds until an add-based limit (undefined: no such limit). */
export function secondsLeft(sa: Sa, which: 'soft' | 'hard', nowMs = Date.now()): number | undefined {
  const lim = Number(which === 'soft' ? sa.lifetime.config.softAddExpiresSeconds : sa.lifetime.config.hardAddExpiresSeconds);
  const added = Number(sa.lifetime.current.addTime);
  if (!lim || !added) return undefined;
  return added + lim - nowMs / 1000;
}

export function formatDuration(s: number | undefined): string {
  if (s === undefined) return '—';
  if (s <= 0) return 'expired';
  if (s < 60) return `${Math.floor(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** Share of the sequence-number space used (0..100): 32-bit, or 64-bit with ESN. Never the raw counter. */
export function sequenceUsedPercent(sa: Sa): number | undefined {
  const r = sa.antiReplay;
  if (!r) return undefined;
  const outbound = sa.dir === 'out' || (r.oseq ?? 0) > 0 || (r.oseqHi ?? 0) > 0;
  const lo = outbound ? r.oseq : r.seq;
  const hi = outbound ? r.oseqHi ?? 0 : r.seqHi ?? 0;
  if (r.esn) return ((hi * 2 ** 32 + lo) / 2 ** 64) * 100;
  return (lo / 2 ** 32) * 100;
}

export function limitText(v: string): string {
  return v === U64_MAX ? '∞' : v;
}

export function searchText(sa: Sa, devName?: string): string {
  return [
    formatSpi(sa.spi),
    sa.spi.toString(16),
    String(sa.spi),
    sa.src,
    sa.dst,
    `reqid ${sa.reqid}`,
    String(sa.reqid),
    String(sa.proto),
    String(sa.mode),
    algorithmText(sa),
    devName ?? '',
    sa.dir ?? '',
    fingerprints(sa),
    hostOf(sa) ?? '',
  ]
    .join(' ')
    .toLowerCase();
}
