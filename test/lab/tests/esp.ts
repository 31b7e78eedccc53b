// Shared by the self-tests of both kernels: a manual ESP SA pair between the netns pair.
import { randomBytes } from 'node:crypto';
import { sh } from '../scenarios/index.ts';

/** rfc4106(gcm(aes)) transport SAs + icmp policies both ways between lab-a and lab-b. */
export async function espPingPair(a = 'lab-a', b = 'lab-b'): Promise<{ spiOut: string; spiIn: string }> {
  const k1 = randomBytes(20).toString('hex');
  const k2 = randomBytes(20).toString('hex');
  const aead = (k: string) => `aead 'rfc4106(gcm(aes))' 0x${k} 128`;
  for (const ns of [a, b]) {
    await sh(
      [
        `ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x3001 reqid 0x301 mode transport ${aead(k1)}`,
        `ip xfrm state add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x3002 reqid 0x302 mode transport ${aead(k2)}`,
      ].join(' && '),
      { ns },
    );
  }
  const pol = (src: string, dst: string, dir: string, reqid: string) =>
    `ip xfrm policy add src ${src} dst ${dst} proto icmp dir ${dir} tmpl proto esp reqid ${reqid} mode transport`;
  await sh(`${pol('10.0.0.1', '10.0.0.2', 'out', '0x301')} && ${pol('10.0.0.2', '10.0.0.1', 'in', '0x302')}`, { ns: a });
  await sh(`${pol('10.0.0.2', '10.0.0.1', 'out', '0x302')} && ${pol('10.0.0.1', '10.0.0.2', 'in', '0x301')}`, { ns: b });
  return { spiOut: '0x00003001', spiIn: '0x00003002' };
}

/** Bytes and packets of one SA from `ip -s xfrm state` (the independent view). */
export async function saCounters(ns: string, spi: string): Promise<{ bytes: number; packets: number }> {
  const out = await sh(`ip -s xfrm state get src 10.0.0.1 dst 10.0.0.2 proto esp spi ${spi}`, { ns });
  const m = out.match(/lifetime current:\s*\n\s*(\d+)\(bytes\), (\d+)\(packets\)/);
  if (!m) throw new Error(`no counters in:\n${out}`);
  return { bytes: Number(m[1]), packets: Number(m[2]) };
}
