// Address formatting shared by families: xfrm_address_t (16 bytes, IPv4 in the first 4) and friends.
import { AF_INET, AF_INET6 } from '../sys/libc.ts';

export function formatIPv4(b: Buffer, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 text form (longest run of zero groups compressed, lower case, IPv4-mapped kept as such). */
export function formatIPv6(b: Buffer, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(off + i * 2));
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${formatIPv4(b, off + 12)}`;
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function familyName(family: number): string {
  return family === AF_INET ? 'inet' : family === AF_INET6 ? 'inet6' : family === 0 ? 'unspec' : `af${family}`;
}

/** xfrm_address_t as text for its family; an all-zero address of unknown family prints as IPv4 "0.0.0.0". */
export function formatXfrmAddress(b: Buffer, family: number): string {
  if (family === AF_INET6) return formatIPv6(b);
  return formatIPv4(b);
}

export function formatMac(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
