// Kernel numbers as names, shared by families: bit sets of flags, and the IP protocol numbers of
// <linux/in.h> that XFRM selectors and PF_KEY addresses both carry.

/** IPPROTO_* (<linux/in.h>); unknown numbers stay numbers where this is used. */
export const IP_PROTO: Record<number, string> = { 1: 'icmp', 2: 'igmp', 4: 'ipip', 6: 'tcp', 17: 'udp', 41: 'ipv6', 47: 'gre', 50: 'esp', 51: 'ah', 58: 'ipv6-icmp', 132: 'sctp', 136: 'udplite', 135: 'mh' };

/** The names of the bits set in v, in table order; bits the table lacks as one hex number. */
export function flagNames(v: number, table: Array<[number, string]>): string[] {
  const out: string[] = [];
  let rest = v;
  for (const [bit, name] of table) if (v & bit) { out.push(name); rest &= ~bit; }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out;
}
