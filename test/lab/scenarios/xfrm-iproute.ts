// iproute2's own view of the XFRM databases: parse the text of `ip -s xfrm state` and `ip -s xfrm policy`
// (iproute2 6.1, bookworm) and compare it with sascope's snapshot on every field both show. Tests use it
// so our decoder is checked against an independent one, never against itself.
import { createHmac } from 'node:crypto';

export interface IpState {
  src: string;
  dst: string;
  proto: string;
  spi: number;
  reqid: number;
  mode: string;
  replayWindow: number;
  flags: string[];
  mark?: { value: number; mask: number };
  outputMark?: { value: number; mask: number };
  ifId?: number;
  algs: Array<{ kind: 'aead' | 'enc' | 'auth' | 'auth-trunc' | 'comp'; name: string; keyHex: string; keyBits: number; extra?: number }>;
  encap?: { type: string; sport: number; dport: number; oa: string };
  antiReplay?: { esn: boolean; seq: number; oseq: number; bitmap?: number; seqHi?: number; oseqHi?: number; replayWindow?: number; bitmapLength?: number };
  sel?: { src: string; dst: string };
  limits: { softBytes: string; hardBytes: string; softPackets: string; hardPackets: string; softAdd: number; hardAdd: number; softUse: number; hardUse: number };
  current?: { bytes: number; packets: number };
  stats?: { replayWindow: number; replay: number; failed: number };
  offload?: { dev: string; dir: string; mode?: string };
  tfcpad?: number;
}

const INF = '18446744073709551615';
const num = (s: string) => (s.startsWith('0x') ? parseInt(s, 16) : Number(s));
const lim = (s: string) => (s === '(INF)' ? INF : s);

/** Split iproute2 output into blocks: a block starts at a line without leading whitespace. */
function blocks(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (!/^\s/.test(line)) out.push([line]);
    else out[out.length - 1]?.push(line.trim());
  }
  return out;
}

export function parseIpState(text: string): IpState[] {
  return blocks(text).map((b) => {
    const head = /^src (\S+) dst (\S+)/.exec(b[0]!);
    const st: IpState = {
      src: head![1]!, dst: head![2]!, proto: '', spi: 0, reqid: 0, mode: '', replayWindow: 0, flags: [], algs: [],
      limits: { softBytes: INF, hardBytes: INF, softPackets: INF, hardPackets: INF, softAdd: 0, hardAdd: 0, softUse: 0, hardUse: 0 },
    };
    let section = '';
    for (let i = 1; i < b.length; i++) {
      const l = b[i]!;
      let m: RegExpExecArray | null;
      if ((m = /^proto (\S+) spi 0x([0-9a-f]+)\(\d+\) reqid (\d+)\(0x[0-9a-f]+\) mode (\S+)/.exec(l))) {
        st.proto = m[1]!; st.spi = parseInt(m[2]!, 16); st.reqid = Number(m[3]); st.mode = m[4]!;
      } else if ((m = /^replay-window (\d+) seq 0x[0-9a-f]+ flag (.*)\(0x[0-9a-f]+\)/.exec(l))) {
        st.replayWindow = Number(m[1]); st.flags = m[2]!.trim().split(/\s+/).filter(Boolean);
      } else if ((m = /^mark (0x[0-9a-f]+)\/(0x[0-9a-f]+)/.exec(l))) st.mark = { value: num(m[1]!), mask: num(m[2]!) };
      else if ((m = /^output-mark (0x[0-9a-f]+)(?:\/(0x[0-9a-f]+))?/.exec(l))) st.outputMark = { value: num(m[1]!), mask: m[2] ? num(m[2]) : 0xffffffff };
      else if ((m = /^if_id (0x[0-9a-f]+)/.exec(l))) st.ifId = num(m[1]!);
      else if ((m = /^tfcpad (\d+)/.exec(l))) st.tfcpad = Number(m[1]);
      else if ((m = /^(aead|enc|auth-trunc|auth|comp) (\S+)(?: 0x([0-9a-f]*) \((\d+) bits\))?(?: (\d+))?/.exec(l))) {
        st.algs.push({ kind: m[1] as IpState['algs'][number]['kind'], name: m[2]!, keyHex: m[3] ?? '', keyBits: Number(m[4] ?? 0), ...(m[5] ? { extra: Number(m[5]) } : {}) });
      } else if ((m = /^encap type (\S+) sport (\d+) dport (\d+) addr (\S+)/.exec(l))) st.encap = { type: m[1]!, sport: Number(m[2]), dport: Number(m[3]), oa: m[4]! };
      else if ((m = /^anti-replay context: seq 0x([0-9a-f]+), oseq 0x([0-9a-f]+), bitmap 0x([0-9a-f]+)/.exec(l))) {
        st.antiReplay = { esn: false, seq: parseInt(m[1]!, 16), oseq: parseInt(m[2]!, 16), bitmap: parseInt(m[3]!, 16) };
      } else if (/^anti-replay esn context:/.test(l)) st.antiReplay = { esn: true, seq: 0, oseq: 0 };
      else if ((m = /^seq-hi 0x([0-9a-f]+), seq 0x([0-9a-f]+), oseq-hi 0x([0-9a-f]+), oseq 0x([0-9a-f]+)/.exec(l)) && st.antiReplay) {
        Object.assign(st.antiReplay, { seqHi: parseInt(m[1]!, 16), seq: parseInt(m[2]!, 16), oseqHi: parseInt(m[3]!, 16), oseq: parseInt(m[4]!, 16) });
      } else if ((m = /^replay_window (\d+), bitmap-length (\d+)/.exec(l)) && st.antiReplay) {
        Object.assign(st.antiReplay, { replayWindow: Number(m[1]), bitmapLength: Number(m[2]) });
      } else if ((m = /^sel src (\S+) dst (\S+)/.exec(l))) st.sel = { src: m[1]!, dst: m[2]! };
      else if (l === 'lifetime config:' || l === 'lifetime current:' || l === 'stats:') section = l;
      else if ((m = /^limit: soft (\S+)\(bytes\), hard (\S+)\(bytes\)/.exec(l))) { st.limits.softBytes = lim(m[1]!); st.limits.hardBytes = lim(m[2]!); }
      else if ((m = /^limit: soft (\S+)\(packets\), hard (\S+)\(packets\)/.exec(l))) { st.limits.softPackets = lim(m[1]!); st.limits.hardPackets = lim(m[2]!); }
      else if ((m = /^expire add: soft (\d+)\(sec\), hard (\d+)\(sec\)/.exec(l))) { st.limits.softAdd = Number(m[1]); st.limits.hardAdd = Number(m[2]); }
      else if ((m = /^expire use: soft (\d+)\(sec\), hard (\d+)\(sec\)/.exec(l))) { st.limits.softUse = Number(m[1]); st.limits.hardUse = Number(m[2]); }
      else if ((m = /^(\d+)\(bytes\), (\d+)\(packets\)/.exec(l)) && section === 'lifetime current:') st.current = { bytes: Number(m[1]), packets: Number(m[2]) };
      else if ((m = /^replay-window (\d+) replay (\d+) failed (\d+)/.exec(l)) && section === 'stats:') st.stats = { replayWindow: Number(m[1]), replay: Number(m[2]), failed: Number(m[3]) };
      else if ((m = /^crypto offload parameters: dev (\S+) dir (\S+)(?: mode (\S+))?/.exec(l))) st.offload = { dev: m[1]!, dir: m[2]!, ...(m[3] ? { mode: m[3] } : {}) };
    }
    return st;
  });
}

export interface IpPolicy {
  src: string;
  dst: string;
  proto?: string;
  dir: string;
  action: string;
  index: number;
  priority: number;
  ptype: string;
  share: string;
  flags: string[];
  mark?: { value: number; mask: number };
  ifId?: number;
  tmpls: Array<{ src: string; dst: string; proto: string; spi: number; reqid: number; mode: string; level: string; share: string }>;
}

export function parseIpPolicy(text: string): IpPolicy[] {
  return blocks(text).filter((b) => b[0]!.startsWith('src ')).map((b) => {
    const head = /^src (\S+) dst (\S+)(?: proto (\S+))?/.exec(b[0]!)!;
    const p: IpPolicy = { src: head[1]!, dst: head[2]!, ...(head[3] ? { proto: head[3] } : {}), dir: '', action: '', index: 0, priority: 0, ptype: '', share: '', flags: [], tmpls: [] };
    for (let i = 1; i < b.length; i++) {
      const l = b[i]!;
      let m: RegExpExecArray | null;
      // "socket in action allow index 59 …": a per-socket policy (sascope names its dir "socket in" too).
      if ((m = /^((?:socket )?(?:dir )?\S+) action (\S+) index (\d+) priority (\d+) ptype (\S+) share (\S+) flag (.*)\(0x[0-9a-f]+\)/.exec(l)) && /^(dir|socket) /.test(l)) {
        m[1] = m[1]!.replace(/^dir /, '');
        Object.assign(p, { dir: m[1], action: m[2], index: Number(m[3]), priority: Number(m[4]), ptype: m[5], share: m[6], flags: m[7]!.trim().split(/\s+/).filter(Boolean) });
      } else if ((m = /^mark (0x[0-9a-f]+)\/(0x[0-9a-f]+)/.exec(l))) p.mark = { value: num(m[1]!), mask: num(m[2]!) };
      else if ((m = /^if_id (0x[0-9a-f]+)/.exec(l))) p.ifId = num(m[1]!);
      else if ((m = /^tmpl src (\S+) dst (\S+)/.exec(l))) p.tmpls.push({ src: m[1]!, dst: m[2]!, proto: '', spi: 0, reqid: 0, mode: '', level: '', share: '' });
      else if ((m = /^proto (\S+) spi 0x([0-9a-f]+)\(\d+\) reqid (\d+)\(0x[0-9a-f]+\) mode (\S+)/.exec(l)) && p.tmpls.length) {
        Object.assign(p.tmpls[p.tmpls.length - 1]!, { proto: m[1], spi: parseInt(m[2]!, 16), reqid: Number(m[3]), mode: m[4] });
      } else if ((m = /^level (\S+) share (\S+)/.exec(l)) && p.tmpls.length) Object.assign(p.tmpls[p.tmpls.length - 1]!, { level: m[1], share: m[2] });
    }
    return p;
  });
}

/** Our SA object as the snapshot JSON carries it (only what the comparison reads). */
export interface SnapSa {
  key: string; src: string; dst: string; spi: number; proto: string | number; mode: string | number; reqid: number; replayWindow: number; flags: string[];
  mark?: { value: number; mask: number }; setMark?: { value: number; mask: number }; ifId?: number; tfcpad?: number;
  aead?: { name: string; keyBits: number; icvBits?: number; fingerprint?: string };
  auth?: { name: string; keyBits: number; truncBits?: number; fingerprint?: string };
  enc?: { name: string; keyBits: number; fingerprint?: string };
  comp?: { name: string; keyBits?: number };
  encap?: { type: string | number; sport: number; dport: number; oa: string };
  antiReplay?: { esn: boolean; seq: number; oseq: number; bitmap?: number; seqHi?: number; oseqHi?: number; replayWindow?: number; bitmapLength?: number };
  selector: { src: string; dst: string; proto: string | number };
  lifetime: {
    config: { softByteLimit: string; hardByteLimit: string; softPacketLimit: string; hardPacketLimit: string; softAddExpiresSeconds: string; hardAddExpiresSeconds: string; softUseExpiresSeconds: string; hardUseExpiresSeconds: string };
    current: { bytes: number; packets: number };
  };
  stats: { replayWindow: number; replay: number; integrityFailed: number };
  offload?: { ifindex: number; dir: string; type: string };
}

export const fingerprintOf = (secret: Buffer, keyHex: string) => createHmac('sha256', secret).update(Buffer.from(keyHex, 'hex')).digest('hex').slice(0, 8);

/**
 * Every field both views show, as "what: ours != iproute2's" lines (empty = agreement). Counters are
 * compared only when `counters` (they move between the two reads on a live pair). With the fingerprint
 * secret, each fingerprint is checked against HMAC(key iproute2 printed).
 */
export function compareStates(ours: SnapSa[], theirs: IpState[], opts: { counters?: boolean; secret?: Buffer } = {}): string[] {
  const bad: string[] = [];
  const find = (t: IpState) => ours.find((o) => o.spi === t.spi && o.dst === t.dst && String(o.proto) === t.proto && (!t.mark || (o.mark?.value === t.mark.value && o.mark?.mask === t.mark.mask)));
  if (ours.length !== theirs.length) bad.push(`SA count: ${ours.length} != ${theirs.length}`);
  for (const t of theirs) {
    const o = find(t);
    const id = `${t.proto} spi 0x${t.spi.toString(16)} ${t.src}→${t.dst}`;
    if (!o) {
      bad.push(`${id}: missing from the snapshot`);
      continue;
    }
    const eq = (what: string, a: unknown, b: unknown) => {
      if (JSON.stringify(a) !== JSON.stringify(b)) bad.push(`${id} ${what}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
    };
    eq('src', o.src, t.src);
    eq('mode', String(o.mode), t.mode);
    eq('reqid', o.reqid, t.reqid);
    eq('replay-window', o.replayWindow, t.replayWindow);
    eq('flags', [...o.flags].sort(), [...t.flags].sort());
    eq('mark', o.mark, t.mark);
    eq('output-mark', o.setMark, t.outputMark);
    eq('if_id', o.ifId, t.ifId);
    eq('tfcpad', o.tfcpad, t.tfcpad);
    for (const a of t.algs) {
      const mine = a.kind === 'aead' ? o.aead : a.kind === 'enc' ? o.enc : a.kind === 'comp' ? o.comp : o.auth;
      if (!mine) {
        bad.push(`${id} ${a.kind}: missing`);
        continue;
      }
      eq(`${a.kind} name`, mine.name, a.name);
      if (a.kind !== 'comp') eq(`${a.kind} key bits`, mine.keyBits, a.keyBits);
      if (a.kind === 'aead') eq('aead icv', o.aead?.icvBits, a.extra);
      if (a.kind === 'auth-trunc') eq('auth trunc', o.auth?.truncBits, a.extra);
      if (opts.secret && a.keyHex) eq(`${a.kind} fingerprint`, (mine as { fingerprint?: string }).fingerprint, fingerprintOf(opts.secret, a.keyHex));
    }
    eq('encap', o.encap ? { ...o.encap, type: String(o.encap.type) } : undefined, t.encap);
    if (t.antiReplay) {
      const ar = o.antiReplay;
      if (opts.counters) eq('anti-replay', ar, t.antiReplay);
      else eq('anti-replay kind', ar && { esn: ar.esn, replayWindow: ar.replayWindow, bitmapLength: ar.bitmapLength }, { esn: t.antiReplay.esn, replayWindow: t.antiReplay.replayWindow, bitmapLength: t.antiReplay.bitmapLength });
    }
    // iproute2 prints no "sel" line for an all-zero selector (xfrm_selector_iszero), e.g. strongSwan's inbound SAs
    if (t.sel) eq('sel', { src: o.selector.src, dst: o.selector.dst }, t.sel);
    else eq('sel (iproute2: none, all zero)', [o.selector.src, o.selector.dst, String(o.selector.proto)].map((x) => /^(0\.0\.0\.0|::)\/0$/.test(x) ? 'zero' : x), ['zero', 'zero', 'any']);
    const c = o.lifetime.config;
    eq('limits', [c.softByteLimit, c.hardByteLimit, c.softPacketLimit, c.hardPacketLimit, Number(c.softAddExpiresSeconds), Number(c.hardAddExpiresSeconds), Number(c.softUseExpiresSeconds), Number(c.hardUseExpiresSeconds)],
      [t.limits.softBytes, t.limits.hardBytes, t.limits.softPackets, t.limits.hardPackets, t.limits.softAdd, t.limits.hardAdd, t.limits.softUse, t.limits.hardUse]);
    if (opts.counters) {
      eq('current', { bytes: o.lifetime.current.bytes, packets: o.lifetime.current.packets }, t.current);
      eq('stats', { replayWindow: o.stats.replayWindow, replay: o.stats.replay, failed: o.stats.integrityFailed }, t.stats);
    }
    if (t.offload) eq('offload dir', o.offload?.dir, t.offload.dir);
  }
  return bad;
}

export interface SnapPolicy {
  index: number; dir: string | number; action: string | number; priority: number; share: string | number; type: string | number; flags: string[];
  selector: { src: string; dst: string; proto: string | number };
  mark?: { value: number; mask: number }; ifId?: number;
  templates: Array<{ src: string; dst: string; proto: string | number; spi: number; reqid: number; mode: string | number; share: string | number; optional: boolean }>;
}

export function comparePolicies(ours: SnapPolicy[], theirs: IpPolicy[]): string[] {
  const bad: string[] = [];
  if (ours.length !== theirs.length) bad.push(`policy count: ${ours.length} != ${theirs.length}`);
  for (const t of theirs) {
    const o = ours.find((p) => p.index === t.index && String(p.dir) === t.dir);
    const id = `policy ${t.index} dir ${t.dir}`;
    if (!o) {
      bad.push(`${id}: missing from the snapshot`);
      continue;
    }
    const eq = (what: string, a: unknown, b: unknown) => {
      if (JSON.stringify(a) !== JSON.stringify(b)) bad.push(`${id} ${what}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
    };
    eq('selector', [o.selector.src, o.selector.dst], [t.src, t.dst]);
    if (t.proto) eq('proto', String(o.selector.proto), t.proto);
    eq('action', String(o.action), t.action);
    eq('priority', o.priority, t.priority);
    eq('ptype', String(o.type), t.ptype);
    eq('share', String(o.share), t.share);
    eq('flags', o.flags, t.flags);
    eq('mark', o.mark, t.mark);
    eq('if_id', o.ifId, t.ifId);
    eq('templates', o.templates.map((x) => [x.src, x.dst, String(x.proto), x.spi, x.reqid, String(x.mode), x.optional ? 'use' : 'required', String(x.share)]),
      t.tmpls.map((x) => [x.src, x.dst, x.proto, x.spi, x.reqid, x.mode, x.level, x.share]));
  }
  return bad;
}
