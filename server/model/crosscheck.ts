// PF_KEY ⇄ XFRM cross-check, in the model layer: for every SA, whether the PF_KEY view ('pfkey-sa')
// and the XFRM view ('sa') agree, as entities of kind 'pfkey-check'. Recomputed per SA when either side
// changes (one SA's identity at a time), and wholesale only when a source becomes (un)available.
//
// What PF_KEY cannot represent was found in the lab on Linux 7.2 (test/fixtures/pfkey/sa-dump-zoo) and in
// net/key/af_key.c: AEAD SAs dump with encrypt=0/auth=0 and no keys; marks, if_id, output marks, offload,
// TFC padding, ESN and IP-TFS have no extension; modes other than transport/tunnel/beet make af_key.c
// fail the message; only ESP, AH and IPComp are walked; sadb_sa_replay is 8 bits; auth truncation is
// implied by the algorithm; NAT-T's original address is never sent.
import type { OnWire } from '../wire/entities.ts';
import { markText, saKey, type SaIdentity, type SecurityAssociation } from '../wire/xfrm.ts';
import { pfkeySaIdentity, pfkeySaKeyOf, sadbIdOfXfrmName, type AlgClass, type PfkeyCause, type PfkeyCheck, type PfkeyLifetime, type PfkeySa, type UnrepresentableCause } from '../wire/pfkey.ts';
import type { Model, ModelChange } from './model.ts';
import { MultiMap } from './multimap.ts';

type Xsa = OnWire<SecurityAssociation>;
type Psa = OnWire<PfkeySa>;

const PFKEY_SOURCE = 'pfkey';
const XFRM_SA_SOURCE = 'xfrm-sa';
const U64_MAX = '18446744073709551615';
const PFKEY_PROTOS = new Set(['esp', 'ah', 'comp']);
const PFKEY_MODES = new Set(['transport', 'tunnel', 'beet']);
/** XFRM flags PF_KEY carries in sadb_sa_flags (SADB_SAFLAGS_NOECN, DECAP_DSCP, NOPMTUDISC). */
const PFKEY_FLAGS = new Set(['noecn', 'decap-dscp', 'nopmtudisc']);
/** Default ICV truncation per auth algorithm (xfrm_algo.c icv_truncbits): what an SA added through PF_KEY
 * gets. Note hmac(sha256): 96, the pre-RFC 4868 value Linux keeps for PF_KEY compatibility — an SA added
 * with `ip xfrm … auth-trunc 'hmac(sha256)' … 128` (RFC 4868, what IKE daemons use) cannot be expressed
 * (found in the lab: SADB_ADD with SADB_X_AALG_SHA2_256HMAC gives a 96-bit ICV). */
const DEFAULT_TRUNC_BITS: Record<string, number> = {
  'hmac(md5)': 96, 'hmac(sha1)': 96, 'hmac(sha256)': 96, 'hmac(sha384)': 192, 'hmac(sha512)': 256,
  'xcbc(aes)': 96, 'hmac(sm3)': 256, digest_null: 0,
};

/** The identity both views share: family, protocol (XFRM name), destination, SPI — the 'sa' key without mark. */
const identity = (id: SaIdentity) => saKey(id.family, id.proto, id.dst, id.spi);

/** An SA without a mark has its key as identity: the key's own string is kept, not a copy. */
const xfrmIdentity = (x: Xsa) => {
  const id = identity(x);
  return id === x.key ? x.key : id;
};
const pfkeyIdentity = (p: Psa) => identity(pfkeySaIdentity(p));

/** A cause in words (for `reason`) beside its code (for anything that acts on it). */
type Found = PfkeyCause & { text: string };

/** Why PF_KEY cannot show this XFRM SA faithfully, each cause as a code and in words (empty: it can). */
export function unrepresentable(x: Xsa): Found[] {
  const r: Found[] = [];
  const add = (code: UnrepresentableCause, text: string, subject?: string) => void r.push({ code, ...(subject !== undefined ? { subject } : {}), text });
  if (!PFKEY_PROTOS.has(String(x.proto))) add('protocol', `protocol ${x.proto}: a PF_KEY dump walks only ESP, AH and IPComp`, String(x.proto));
  if (x.family !== 'inet' && x.family !== 'inet6') add('family', `family ${x.family}`, String(x.family));
  if (!PFKEY_MODES.has(String(x.mode))) add('mode', `mode ${x.mode} has no IPSEC_MODE_* value (af_key.c fails the message; a PF_KEY dump stops at it)`, String(x.mode));
  if (x.aead) add('aead', `AEAD ${x.aead.name}: PF_KEY shows encrypt=0, auth=0 and no key`, x.aead.name);
  if (x.mark && (x.mark.value || x.mark.mask)) add('mark', `mark ${markText(x.mark)}: no PF_KEY extension (SADB_GET looks up with mark 0)`);
  if (x.ifId) add('if-id', `if_id ${x.ifId}: no PF_KEY extension`);
  if (x.setMark && (x.setMark.value || x.setMark.mask)) add('output-mark', 'output mark: no PF_KEY extension');
  if (x.antiReplay?.esn || x.flags.includes('esn')) add('esn', `ESN${x.antiReplay?.replayWindow ? ` (replay window ${x.antiReplay.replayWindow})` : ''}: PF_KEY has no 64-bit sequence numbers`);
  if (x.replayWindow > 255) add('replay-window', `replay window ${x.replayWindow} exceeds sadb_sa_replay (8 bits)`);
  if (x.offload) add('offload', `${x.offload.type} offload on ifindex ${x.offload.ifindex}: not in PF_KEY`, x.offload.type);
  if (x.tfcpad) add('tfc-padding', `TFC padding ${x.tfcpad}: not in PF_KEY`);
  if (x.iptfs) add('iptfs', 'IP-TFS parameters: not in PF_KEY');
  if (x.encap && x.encap.oa && x.encap.oa !== '0.0.0.0' && x.encap.oa !== '::') add('nat-t-oa', `NAT-T original address ${x.encap.oa}: af_key.c never sends SADB_X_EXT_NAT_T_OA`);
  const algs: Array<[AlgClass, { name: string } | undefined, UnrepresentableCause]> = [['auth', x.auth, 'auth-no-sadb-id'], ['encrypt', x.enc, 'cipher-no-sadb-id'], ['comp', x.comp, 'comp-no-sadb-id']];
  for (const [cls, a, code] of algs) {
    if (a && sadbIdOfXfrmName(cls, a.name).length === 0) add(code, `${cls === 'encrypt' ? 'cipher' : cls} ${a.name} has no SADB id`, a.name);
  }
  if (x.auth?.truncBits !== undefined && DEFAULT_TRUNC_BITS[x.auth.name] !== undefined && x.auth.truncBits !== DEFAULT_TRUNC_BITS[x.auth.name]) {
    add('auth-truncation', `${x.auth.name} truncated to ${x.auth.truncBits} bits: PF_KEY implies ${DEFAULT_TRUNC_BITS[x.auth.name]}`, x.auth.name);
  }
  return r;
}

/**
 * A check's `reason` and `causes` from what was found (nothing when it is empty). Most SAs of a gateway
 * share their causes (every AEAD SA the same sentence): one copy each, frozen, which the model keeps by
 * reference (~400 B of a check row otherwise). The words determine the causes (each names its subject).
 */
const explanations = new Map<string, { reason: string; causes: PfkeyCause[] }>();
function explained(found: Found[]): { reason?: string; causes?: PfkeyCause[] } {
  if (!found.length) return {};
  const reason = found.map((c) => c.text).join('; ');
  let e = explanations.get(reason);
  if (!e) {
    if (explanations.size >= 1024) explanations.clear();
    const causes = found.map(({ text: _words, ...c }) => Object.freeze(c));
    Object.freeze(causes);
    reason.charCodeAt(0); // flat: the pieces of the join go
    explanations.set(reason, (e = { reason, causes }));
  }
  return e;
}

const NOT_IN_PFKEY = { reason: 'in the XFRM SA table but not in the PF_KEY dump' };

const limit = (v: string) => (v === U64_MAX ? '0' : v); // _X2KEY: XFRM_INF is 0 on PF_KEY

/** An XFRM SA's lifetime limits and their labels, hard and soft: names written out, not made per SA (~2 % of `sascope snapshot`'s profile at 20k SAs). */
const LIMITS = {
  hard: { packets: 'hardPacketLimit', bytes: 'hardByteLimit', add: 'hardAddExpiresSeconds', use: 'hardUseExpiresSeconds', packetsLabel: 'hard packet limit', bytesLabel: 'hard byte limit', addLabel: 'hard add expires (s)', useLabel: 'hard use expires (s)' },
  soft: { packets: 'softPacketLimit', bytes: 'softByteLimit', add: 'softAddExpiresSeconds', use: 'softUseExpiresSeconds', packetsLabel: 'soft packet limit', bytesLabel: 'soft byte limit', addLabel: 'soft add expires (s)', useLabel: 'soft use expires (s)' },
} as const;

/** Field-by-field differences between the two views of one SA (only fields both can express). */
export function differences(x: Xsa, p: Psa): PfkeyCheck['differences'] {
  const out: PfkeyCheck['differences'] = [];
  const cmp = (field: string, xv: unknown, pv: unknown) => {
    const a = xv === undefined ? '—' : String(xv);
    const b = pv === undefined ? '—' : String(pv);
    if (a !== b) out.push({ field, xfrm: a, pfkey: b });
  };
  cmp('src', x.src, p.src.address);
  cmp('dst', x.dst, p.dst.address);
  if (PFKEY_MODES.has(String(x.mode))) cmp('mode', x.mode, p.mode);
  cmp('reqid', x.reqid, p.reqid);
  if (x.replayWindow <= 255 && !x.antiReplay?.esn) cmp('replay window', x.replayWindow, p.replayWindow);
  const lc = x.lifetime.config;
  const lt = (f: (typeof LIMITS)['hard' | 'soft'], l: OnWire<PfkeyLifetime> | undefined) => {
    const packets = limit(lc[f.packets]);
    // sadb_lifetime_allocations is 32 bits: larger limits cannot be compared (nine digits or fewer always can)
    if (packets.length < 10 || BigInt(packets) <= 0xffffffffn) cmp(f.packetsLabel, packets, l?.allocations ?? '0');
    cmp(f.bytesLabel, limit(lc[f.bytes]), l?.bytes ?? '0');
    cmp(f.addLabel, lc[f.add], l?.addTime ?? '0');
    cmp(f.useLabel, lc[f.use], l?.useTime ?? '0');
  };
  lt(LIMITS.hard, p.lifetime.hard);
  lt(LIMITS.soft, p.lifetime.soft);
  // Current bytes/packets move between the two reads; the add time does not.
  cmp('added at', x.lifetime.current.addTime, p.lifetime.current?.addTime);
  const alg = (cls: AlgClass, label: string, xa: { name: string; keyBits: number; fingerprint?: string } | undefined, pid: number, pkey?: { bits: number; fingerprint?: string }) => {
    if (!xa) {
      if (pid !== 0) cmp(label, 'none', pid);
      return;
    }
    const ids = sadbIdOfXfrmName(cls, xa.name);
    if (ids.length === 0) return; // listed as not representable
    if (!ids.includes(pid)) cmp(label, `${xa.name} (SADB id ${ids.join('/')})`, pid);
    if (cls !== 'comp') {
      cmp(`${label} key bits`, xa.keyBits, pkey?.bits ?? 0);
      if (xa.fingerprint && pkey?.fingerprint) cmp(`${label} key fingerprint`, xa.fingerprint, pkey.fingerprint);
    }
  };
  if (!x.aead) {
    alg('auth', 'auth', x.auth, p.auth.id, p.authKey);
    if (x.proto === 'comp') alg('comp', 'compression', x.comp, p.compression?.id ?? 0);
    else alg('encrypt', 'cipher', x.enc, p.encrypt.id, p.encryptKey);
  }
  const flags = x.flags.filter((f) => PFKEY_FLAGS.has(f)).sort().join(',');
  cmp('flags', flags || 'none', p.flags.filter((f) => PFKEY_FLAGS.has(f)).sort().join(',') || 'none');
  const encap = x.encap;
  cmp('NAT-T', encap ? `${encap.type} ${encap.sport}→${encap.dport}` : 'none', p.natT ? `${p.natT.type} ${p.natT.sport ?? '?'}→${p.natT.dport ?? '?'}` : 'none');
  return out;
}

/** The check entities for one identity: one per XFRM SA with it (marks make several), or one for a PF_KEY-only SA. */
export function checksFor(id: string, xsas: Xsa[], psa: Psa | undefined): PfkeyCheck[] {
  if (!xsas.length) {
    if (!psa) return [];
    return [{ key: id, status: 'missing', differences: [], reason: 'in the PF_KEY dump but not in the XFRM SA table', pfkeyKey: psa.key }];
  }
  // Each row one literal with its fields in one order, no spreads: they copied field by field, and were more than
  // half of the checks' time in `sascope snapshot` at 20k SAs (checksFor 10.8 % → 4.6 % of its CPU profile).
  const check = (x: Xsa, status: PfkeyCheck['status'], diffs: PfkeyCheck['differences'], why: { reason?: string; causes?: PfkeyCause[] }): PfkeyCheck => {
    const c: PfkeyCheck = psa ? { key: x.key, xfrmKey: x.key, pfkeyKey: psa.key, status, differences: diffs } : { key: x.key, xfrmKey: x.key, status, differences: diffs };
    if (why.reason !== undefined) c.reason = why.reason;
    if (why.causes !== undefined) c.causes = why.causes;
    return c;
  };
  return xsas.map((x) => {
    const found = unrepresentable(x);
    if (!psa) return found.length ? check(x, 'not-representable', [], explained(found)) : check(x, 'missing', [], NOT_IN_PFKEY);
    const diffs = differences(x, psa);
    if (diffs.length) return check(x, 'mismatch', diffs, explained(found));
    return check(x, found.length ? 'not-representable' : 'agree', [], explained(found));
  });
}

/**
 * Keeps 'pfkey-check' current: listens to the model and recomputes the identities that changed, a moment
 * later (setImmediate, once per batch): a rekey's XFRM deltas go out before the checks they touch are
 * redone, and a burst of changes to one identity costs one recomputation.
 */
export class PfkeyCrossCheck {
  /**
   * An XFRM SA's identity is its own key unless it has a mark: only those others are indexed (xfrm sa key →
   * identity, and identity → their keys); the rest are found in the model under the identity itself. Each
   * index entry costs ~45 B per SA, and the checks written are the model's own 'pfkey-check' rows, found
   * the same way (keyed by the XFRM key, or by the identity for a PF_KEY-only SA). A PF_KEY SA's key is
   * found from its identity (pfkeyOf), so only the way from key to identity is kept.
   */
  private readonly xfrmOtherIds = new Map<string, string>();
  private readonly xfrmOthersById = new MultiMap();
  private readonly pfkeyIds = new Map<string, string>(); // pfkey-sa key → identity
  private active = false;
  /** Identities to recompute, each with the PF_KEY SA key that changed (undefined: an XFRM change). */
  private readonly dirty = new Map<string, string | undefined>();
  private flushScheduled = false;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly model: Model) {
    this.unsubscribe = model.onChange((c) => this.onChange(c));
    for (const x of model.list('sa') as Xsa[]) this.indexXfrm(x.key, xfrmIdentity(x));
    for (const p of model.list('pfkey-sa') as Psa[]) this.indexPfkey(p.key, pfkeyIdentity(p));
    this.setActive(this.bothReady());
  }

  private bothReady(): boolean {
    const ok = (id: string) => (this.model.get('source', id) as { state?: string } | undefined)?.state === 'ok';
    return ok(PFKEY_SOURCE) && ok(XFRM_SA_SOURCE);
  }

  /** Checks exist only while both sources are ok: without af_key every SA would read "missing". */
  private setActive(on: boolean): void {
    if (on === this.active) return;
    this.active = on;
    if (on) {
      for (const [key, id] of this.pfkeyIds) this.mark(id, key);
      for (const x of this.model.list('sa') as Xsa[]) this.mark(this.xfrmOtherIds.get(x.key) ?? x.key);
    } else {
      this.dirty.clear();
      for (const c of this.model.list('pfkey-check') as PfkeyCheck[]) this.model.remove('pfkey-check', c.key);
    }
  }

  private onChange(c: ModelChange): void {
    if (c.kind === 'source') {
      if (c.key === PFKEY_SOURCE || c.key === XFRM_SA_SOURCE) this.setActive(this.bothReady());
      return;
    }
    if (c.kind !== 'sa' && c.kind !== 'pfkey-sa') return;
    let before: string | undefined;
    let after: string | undefined;
    let pfkeyKey: string | undefined; // a PF_KEY SA the identities marked have, when known here
    if (c.kind === 'sa') {
      // A new marked SA's "before" is its key, no identity: recomputing it writes and removes nothing.
      before = this.xfrmOtherIds.get(c.key) ?? c.key;
      after = c.op === 'remove' ? undefined : xfrmIdentity(c.value as Xsa);
      this.indexXfrm(c.key, after);
      if (this.active && c.op === 'remove' && c.key !== before) {
        // A marked SA's check is keyed by the SA's key alone: it goes with the SA (the PF_KEY SA it met stays).
        pfkeyKey = (this.model.get('pfkey-check', c.key) as PfkeyCheck | undefined)?.pfkeyKey;
        this.model.remove('pfkey-check', c.key);
      }
    } else {
      before = this.pfkeyIds.get(c.key);
      after = c.op === 'remove' ? undefined : pfkeyIdentity(c.value as Psa);
      this.indexPfkey(c.key, after);
      pfkeyKey = c.key;
    }
    if (!this.active) return;
    if (before && before !== after) this.mark(before, pfkeyKey);
    if (after) this.mark(after, pfkeyKey);
  }

  private mark(id: string, pfkeyKey?: string): void {
    if (pfkeyKey !== undefined || !this.dirty.has(id)) this.dirty.set(id, pfkeyKey);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Recompute what changed since the last pass (runs by itself a moment after a change). */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed || !this.active) return this.dirty.clear();
    const ids = [...this.dirty];
    this.dirty.clear();
    for (const [id, pfkeyKey] of ids) this.recompute(id, pfkeyKey);
  }

  private indexXfrm(key: string, id: string | undefined): void {
    const old = this.xfrmOtherIds.get(key);
    if (old !== undefined) this.xfrmOthersById.delete(old, key);
    if (id === undefined || id === key) this.xfrmOtherIds.delete(key);
    else {
      this.xfrmOtherIds.set(key, id);
      this.xfrmOthersById.add(id, key);
    }
  }

  private indexPfkey(key: string, id: string | undefined): void {
    // A PF_KEY SA's identity is its XFRM twin's key (no mark): that string, not a copy of it per SA.
    if (id === undefined) this.pfkeyIds.delete(key);
    else this.pfkeyIds.set(key, (this.model.get('sa', id) as Xsa | undefined)?.key ?? id);
  }

  /**
   * The PF_KEY SA of an identity: the one that just changed or whose marked twin went, else the one its
   * XFRM SAs name, else the one its check row last met (its unmarked twin went); each only if it is still
   * of this identity (an id that is a marked SA's key has none: pfkeyIds never maps to it).
   */
  private pfkeyOf(id: string, changed: string | undefined, xsas: Xsa[]): Psa | undefined {
    const check = this.model.get('pfkey-check', id) as PfkeyCheck | undefined;
    for (const k of [changed, xsas[0] && pfkeySaKeyOf(xsas[0]), check?.pfkeyKey]) {
      if (k !== undefined && this.pfkeyIds.get(k) === id) return this.model.get('pfkey-sa', k) as Psa | undefined;
    }
    return undefined;
  }

  private recompute(id: string, changedPfkey: string | undefined): void {
    const xsas: Xsa[] = [];
    const own = this.xfrmOtherIds.has(id) ? undefined : (this.model.get('sa', id) as Xsa | undefined);
    if (own) xsas.push(own);
    for (const k of this.xfrmOthersById.get(id)) {
      const x = this.model.get('sa', k) as Xsa | undefined;
      if (x) xsas.push(x);
    }
    const checks = checksFor(id, xsas, this.pfkeyOf(id, changedPfkey, xsas));
    // Every check of this identity is rewritten; the one keyed by the identity itself (its unmarked SA's, or
    // a PF_KEY-only SA's) goes when neither is left. A marked SA's check went with the SA (onChange).
    if (!this.xfrmOtherIds.has(id) && !checks.some((c) => c.key === id)) this.model.remove('pfkey-check', id);
    for (const c of checks) this.model.upsert('pfkey-check', c.key, c);
  }

  close(): void {
    this.closed = true;
    this.dirty.clear();
    this.unsubscribe();
  }
}
