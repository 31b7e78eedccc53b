// Units everywhere: bytes in B/KiB/MiB, counts with separators, times relative with absolute on hover.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** Counters arrive as decimal strings (64-bit); 2^64-1 means "no limit" in XFRM lifetimes. */
export const U64_MAX = '18446744073709551615';

export function formatBytes(v: string | number | bigint | undefined): string {
  if (v === undefined) return '—';
  if (String(v) === U64_MAX) return '∞';
  let n = Number(v);
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ${UNITS[i]}`;
}

export function formatCount(v: string | number | bigint | undefined): string {
  if (v === undefined) return '—';
  if (String(v) === U64_MAX) return '∞';
  return BigInt(v).toLocaleString('en-US');
}

export function formatRelative(ms: number | undefined, now = Date.now()): string {
  if (!ms) return 'never';
  const d = Math.round((now - ms) / 1000);
  const future = d < 0;
  const s = Math.abs(d);
  const txt = s < 2 ? 'now' : s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min` : s < 86400 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 86400)} d`;
  if (txt === 'now') return 'just now';
  return future ? `in ${txt}` : `${txt} ago`;
}

export function formatClock(ms: number | undefined): string {
  if (!ms) return '—';
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

export function formatAbsolute(ms: number | undefined): string {
  if (!ms) return '';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** SPI in hex like iproute2: 0x00c0ffee. */
export function formatSpi(spi: number): string {
  return `0x${(spi >>> 0).toString(16).padStart(8, '0')}`;
}
