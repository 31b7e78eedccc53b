// VICI messages → sascope's shapes: list-conn events (connections), list-sa events and the ike-*/child-*
// events (IKE and CHILD SAs). Each shape is a table: charon's key, the field it becomes, how its text is
// read. Keys a table does not know are kept by name and length only (a newer charon's keys are not read as
// values: nothing unknown can carry a secret onwards). Bad text (a count that is not a number, a section
// where a value belongs) is a DecodeError naming the key.
import { DecodeError } from '../../netlink/errors.ts';
import { X509Certificate } from 'node:crypto';
import type { ViciAuthRound, ViciCertificate, ViciChildConfig, ViciChildSa, ViciConnection, ViciIkeSa, ViciUnknownKey } from '../../wire/vici.ts';
import type { ViciSection, ViciValue } from './spec.ts';

/**
 * How a value's text is read: string as is; int a decimal that fits a JS number; count a 64-bit decimal
 * (bigint); yes "yes" or "1" (anything else false); list a list of strings; ago / ahead seconds before /
 * after the reading, made absolute (ms since epoch).
 */
type FieldType = 'string' | 'int' | 'count' | 'yes' | 'list' | 'ago' | 'ahead';
type FieldTable = readonly (readonly [key: string, field: string, type: FieldType])[];
type FieldValue<T extends FieldType> = T extends 'string' ? string : T extends 'count' ? bigint : T extends 'yes' ? boolean : T extends 'list' ? string[] : number;
/** What a table gives: every field optional, typed by its FieldType. */
type Mapped<F extends FieldTable> = { [E in F[number] as E[1]]?: FieldValue<E[2]> } & { unknown?: ViciUnknownKey[] };

const DECIMAL = /^\d{1,20}$/;
const SIGNED = /^-?\d{1,20}$/;

function readField(v: ViciValue, type: FieldType, now: number, what: string): string | number | bigint | boolean | string[] {
  if (type === 'list') {
    if (!Array.isArray(v)) throw new DecodeError(what, 0, `${typeof v === 'string' ? 'a value' : 'a section'} where a list belongs`);
    return v;
  }
  if (typeof v !== 'string') throw new DecodeError(what, 0, `${Array.isArray(v) ? 'a list' : 'a section'} where a value belongs`);
  if (type === 'string') return v;
  if (type === 'yes') return v === 'yes' || v === '1';
  // Times relative to now are signed: charon prints t - now, so a rekey it is late with is "-3" (seen in the lab-ui run).
  if (!(type === 'ago' || type === 'ahead' ? SIGNED : DECIMAL).test(v)) throw new DecodeError(what, 0, `${JSON.stringify(v.slice(0, 32))} is not a decimal number`);
  if (type === 'count') {
    const n = BigInt(v);
    if (n >= 1n << 64n) throw new DecodeError(what, 0, `${v} does not fit 64 bits`);
    return n;
  }
  // charon prints a last use as (uint64_t)(now - t): a use stamped a moment after its own clock reads is 2^64 - 1
  // ("18446744073709551615", seen in the lab-ui run). Read as the int64 it was: just now, never the future.
  const wrapped = type === 'ago' && v.length === 20 ? BigInt(v) : undefined;
  const n = wrapped !== undefined && wrapped >= 1n << 63n && wrapped < 1n << 64n ? Math.max(0, Number(BigInt.asIntN(64, wrapped))) : Number(v);
  if (!Number.isSafeInteger(n)) throw new DecodeError(what, 0, `${v} is too large`);
  return type === 'ago' ? now - n * 1000 : type === 'ahead' ? now + n * 1000 : n;
}

/** Length of an unknown value: bytes of a string, items of a list, keys of a section. */
function unknownKey(key: string, v: ViciValue): ViciUnknownKey {
  return { key, length: typeof v === 'string' ? Buffer.byteLength(v) : Array.isArray(v) ? v.length : Object.keys(v).length };
}

/** A section read with a table; `handled` names keys read elsewhere (not unknown). */
function mapFields<F extends FieldTable>(table: F, s: ViciSection, now: number, what: string, handled: (key: string) => boolean = () => false): Mapped<F> {
  const out: Record<string, unknown> = {};
  const unknown: ViciUnknownKey[] = [];
  const byKey = new Map(table.map((e) => [e[0], e] as const));
  for (const [key, v] of Object.entries(s)) {
    const e = byKey.get(key);
    if (e) out[e[1]] = readField(v, e[2], now, `${what}: ${key}`);
    else if (!handled(key)) unknown.push(unknownKey(key, v));
  }
  if (unknown.length) out.unknown = unknown;
  return out as Mapped<F>;
}

/** The sections of a section, by name (values and lists in it are the caller's to read). */
function sections(s: ViciSection): Array<[string, ViciSection]> {
  return Object.entries(s).filter((e): e is [string, ViciSection] => typeof e[1] === 'object' && !Array.isArray(e[1]));
}

function section(v: ViciValue | undefined, what: string): ViciSection | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new DecodeError(what, 0, `${typeof v === 'string' ? 'a value' : 'a list'} where a section belongs`);
  return v;
}

// ---- list-conn (README "list-conn"): connections, their authentication rounds and children ----

const CONN_FIELDS = [
  ['version', 'version', 'string'], ['local_addrs', 'localAddrs', 'list'], ['remote_addrs', 'remoteAddrs', 'list'],
  ['local_port', 'localPort', 'int'], ['remote_port', 'remotePort', 'int'],
  ['reauth_time', 'reauthTimeSeconds', 'int'], ['rekey_time', 'rekeyTimeSeconds', 'int'],
] as const satisfies FieldTable;

const AUTH_FIELDS = [
  ['class', 'class', 'string'], ['eap-type', 'eapType', 'string'], ['eap-vendor', 'eapVendor', 'string'], ['xauth', 'xauth', 'string'],
  ['revocation', 'revocation', 'string'], ['id', 'id', 'string'], ['aaa_id', 'aaaId', 'string'], ['eap_id', 'eapId', 'string'],
  ['xauth_id', 'xauthId', 'string'], ['groups', 'groups', 'list'], ['certs', 'certs', 'list'], ['cacerts', 'cacerts', 'list'],
] as const satisfies FieldTable;

const CHILD_CONFIG_FIELDS = [
  ['mode', 'mode', 'string'], ['label', 'label', 'string'], ['rekey_time', 'rekeyTimeSeconds', 'int'],
  ['rekey_bytes', 'rekeyBytes', 'count'], ['rekey_packets', 'rekeyPackets', 'count'],
  ['local-ts', 'localTs', 'list'], ['remote-ts', 'remoteTs', 'list'],
] as const satisfies FieldTable;

/** local, local-1, remote-2 …: a connection's authentication rounds. */
const AUTH_ROUND = /^(local|remote)(-\d+)?$/;

/** A list-conn event's message: one connection per section. */
export function connectionsFrom(m: ViciSection, now = Date.now(), what = 'list-conn'): ViciConnection[] {
  return sections(m).map(([name, s]) => {
    const at = `${what} ${name}`;
    const isRound = (k: string) => AUTH_ROUND.test(k) && typeof s[k] === 'object' && !Array.isArray(s[k]);
    const c: ViciConnection = { name, localAddrs: [], remoteAddrs: [], local: [], remote: [], children: [], ...mapFields(CONN_FIELDS, s, now, at, (k) => k === 'children' || isRound(k)) };
    for (const [round, r] of sections(s).filter(([k]) => isRound(k))) {
      const a: ViciAuthRound = { round, ...mapFields(AUTH_FIELDS, r, now, `${at} ${round}`) };
      (round.startsWith('local') ? c.local : c.remote).push(a);
    }
    for (const [child, cs] of sections(section(s.children, `${at}: children`) ?? {})) {
      const cc: ViciChildConfig = { name: child, localTs: [], remoteTs: [], ...mapFields(CHILD_CONFIG_FIELDS, cs, now, `${at} child ${child}`) };
      c.children.push(cc);
    }
    return c;
  });
}

// ---- list-sa (README "list-sa"): IKE SAs with their CHILD SAs; the ike-*/child-* events carry the same ----

const IKE_FIELDS = [
  ['uniqueid', 'uniqueId', 'int'], ['version', 'version', 'int'], ['state', 'state', 'string'],
  ['local-host', 'localHost', 'string'], ['local-port', 'localPort', 'int'], ['local-id', 'localId', 'string'],
  ['remote-host', 'remoteHost', 'string'], ['remote-port', 'remotePort', 'int'], ['remote-id', 'remoteId', 'string'],
  ['remote-xauth-id', 'remoteXauthId', 'string'], ['remote-eap-id', 'remoteEapId', 'string'], ['initiator', 'initiator', 'yes'],
  ['initiator-spi', 'initiatorSpi', 'string'], ['responder-spi', 'responderSpi', 'string'],
  ['nat-local', 'natLocal', 'yes'], ['nat-remote', 'natRemote', 'yes'], ['nat-fake', 'natFake', 'yes'], ['nat-any', 'natAny', 'yes'],
  ['if-id-in', 'ifIdIn', 'string'], ['if-id-out', 'ifIdOut', 'string'],
  ['encr-alg', 'encrAlg', 'string'], ['encr-keysize', 'encrKeysize', 'int'], ['integ-alg', 'integAlg', 'string'],
  ['integ-keysize', 'integKeysize', 'int'], ['prf-alg', 'prfAlg', 'string'], ['dh-group', 'dhGroup', 'string'],
  ['established', 'establishedAt', 'ago'], ['rekey-time', 'rekeyAt', 'ahead'], ['reauth-time', 'reauthAt', 'ahead'],
  ['local-vips', 'localVips', 'list'], ['remote-vips', 'remoteVips', 'list'],
  ['tasks-queued', 'tasksQueued', 'list'], ['tasks-active', 'tasksActive', 'list'], ['tasks-passive', 'tasksPassive', 'list'],
] as const satisfies FieldTable;

const CHILD_FIELDS = [
  ['name', 'name', 'string'], ['uniqueid', 'uniqueId', 'int'], ['reqid', 'reqid', 'int'], ['state', 'state', 'string'],
  ['mode', 'mode', 'string'], ['protocol', 'protocol', 'string'], ['encap', 'encap', 'yes'],
  ['spi-in', 'spiIn', 'string'], ['spi-out', 'spiOut', 'string'], ['cpi-in', 'cpiIn', 'string'], ['cpi-out', 'cpiOut', 'string'],
  ['mark-in', 'markIn', 'string'], ['mark-mask-in', 'markMaskIn', 'string'], ['mark-out', 'markOut', 'string'], ['mark-mask-out', 'markMaskOut', 'string'],
  ['if-id-in', 'ifIdIn', 'string'], ['if-id-out', 'ifIdOut', 'string'],
  ['encr-alg', 'encrAlg', 'string'], ['encr-keysize', 'encrKeysize', 'int'], ['integ-alg', 'integAlg', 'string'],
  ['integ-keysize', 'integKeysize', 'int'], ['prf-alg', 'prfAlg', 'string'], ['dh-group', 'dhGroup', 'string'], ['esn', 'esn', 'yes'],
  ['bytes-in', 'bytesIn', 'count'], ['packets-in', 'packetsIn', 'count'], ['use-in', 'lastInAt', 'ago'],
  ['bytes-out', 'bytesOut', 'count'], ['packets-out', 'packetsOut', 'count'], ['use-out', 'lastOutAt', 'ago'],
  ['rekey-time', 'rekeyAt', 'ahead'], ['life-time', 'expiresAt', 'ahead'], ['install-time', 'installedAt', 'ago'],
  ['local-ts', 'localTs', 'list'], ['remote-ts', 'remoteTs', 'list'],
] as const satisfies FieldTable;

function required<T>(v: T | undefined, key: string, what: string): T {
  if (v === undefined) throw new DecodeError(what, 0, `no ${key}`);
  return v;
}

/** One IKE SA's section (name = its connection); child-sas are read by childSa. */
export function ikeSa(name: string, s: ViciSection, now: number, what: string): ViciIkeSa {
  const f = mapFields(IKE_FIELDS, s, now, what, (k) => k === 'child-sas');
  return { ...f, name, uniqueId: required(f.uniqueId, 'uniqueid', what), state: required(f.state, 'state', what) };
}

/** One CHILD SA's section under an IKE SA. */
export function childSa(ike: Pick<ViciIkeSa, 'name' | 'uniqueId'>, s: ViciSection, now: number, what: string): ViciChildSa {
  const f = mapFields(CHILD_FIELDS, s, now, what);
  return { localTs: [], remoteTs: [], ...f, name: required(f.name, 'name', what), uniqueId: required(f.uniqueId, 'uniqueid', what), state: required(f.state, 'state', what), ikeName: ike.name, ikeUniqueId: ike.uniqueId };
}

export interface SaListing {
  ikes: ViciIkeSa[];
  children: ViciChildSa[];
}

/** A list-sa event's message (and ike-updown/child-updown's: the same, with other keys beside it). */
export function sasFrom(m: ViciSection, now = Date.now(), what = 'list-sa'): SaListing {
  const out: SaListing = { ikes: [], children: [] };
  for (const [name, s] of sections(m)) {
    const at = `${what} ${name}`;
    const ike = ikeSa(name, s, now, at);
    out.ikes.push(ike);
    for (const [key, cs] of sections(section(s['child-sas'], `${at}: child-sas`) ?? {})) out.children.push(childSa(ike, cs, now, `${at} child ${key}`));
  }
  return out;
}

/** An IKE SA's row key, and a CHILD SA's: charon's unique ids (unique per daemon run). */
export const ikeKey = (ike: Pick<ViciIkeSa, 'uniqueId'>): string => String(ike.uniqueId);
export const childKey = (child: Pick<ViciChildSa, 'uniqueId'>): string => String(child.uniqueId);

/** What an event says, as the source acts on it: which IKE SAs it names, gone ones to drop, an alert's type. */
export interface ViciEventFacts {
  /** Connection names whose SAs the event makes stale (re-read with list-sas ike=<name>). */
  names: string[];
  /** up: the event's up flag (ike-updown, child-updown). */
  up?: boolean;
  /** SAs the event says are gone: down events, and the old SA of a rekey (unique ids). */
  goneIkes: number[];
  goneChildren: number[];
  /**
   * A rekey's new SA, put in the old one's place at once (the re-read that follows fills in the rest): between
   * the event and the re-read the kernel already has the new SAs, and a join would find no row for them.
   * ike-rekey: the new IKE SA and the old one's unique id, whose CHILD SAs charon moved to it.
   */
  newIkes: Array<{ ike: ViciIkeSa; replaces: number }>;
  newChildren: ViciChildSa[];
  /** alert's type, as charon names it (README "alert"). */
  alertType?: string;
}

/** The facts of an ike-updown, ike-rekey, ike-update, child-updown, child-rekey or alert event. */
export function eventFacts(event: string, m: ViciSection, now = Date.now()): ViciEventFacts {
  const f: ViciEventFacts = { names: [], goneIkes: [], goneChildren: [], newIkes: [], newChildren: [] };
  const what = `${event} event`;
  if (event === 'ike-updown' || event === 'child-updown') f.up = m.up === 'yes';
  const root = event === 'alert' ? section(m['ike-sa'], `${what}: ike-sa`) ?? {} : m;
  if (event === 'alert' && typeof m.type === 'string') f.alertType = m.type;
  for (const [name, s] of sections(root)) {
    f.names.push(name);
    const at = `${what} ${name}`;
    if (event === 'ike-rekey') {
      const old = section(s.old, `${at}: old`);
      const fresh = section(s.new, `${at}: new`);
      if (old) f.goneIkes.push(ikeSa(name, old, now, `${at} old`).uniqueId);
      if (old && fresh) f.newIkes.push({ ike: ikeSa(name, fresh, now, `${at} new`), replaces: f.goneIkes.at(-1)! });
      continue;
    }
    if (event === 'ike-updown' && !f.up) f.goneIkes.push(ikeSa(name, s, now, at).uniqueId);
    if (event !== 'child-updown' && event !== 'child-rekey') continue;
    const ike = ikeSa(name, s, now, at);
    for (const [key, cs] of sections(section(s['child-sas'], `${at}: child-sas`) ?? {})) {
      if (event === 'child-updown') {
        if (!f.up) f.goneChildren.push(childSa(ike, cs, now, `${at} child ${key}`).uniqueId);
      } else {
        const old = section(cs.old, `${at} child ${key}: old`);
        const fresh = section(cs.new, `${at} child ${key}: new`);
        if (old) f.goneChildren.push(childSa(ike, old, now, `${at} child ${key} old`).uniqueId);
        if (fresh) f.newChildren.push(childSa(ike, fresh, now, `${at} child ${key} new`));
      }
    }
  }
  return f;
}

// ---- list-cert (README "list-cert"): an X.509 certificate's DER, parsed for names and dates only ----

/** A list-cert event's certificate, or undefined for one that is not X.509 (CRLs, attribute certs …). */
export function certificateFrom(m: ViciSection): ViciCertificate | undefined {
  if (m['type'] !== 'X509' || typeof m['data'] !== 'string') return undefined;
  let c: X509Certificate;
  try {
    c = new X509Certificate(Buffer.from(m['data'], 'latin1'));
  } catch (err) {
    throw new DecodeError('list-cert event: data', 0, `not a DER X.509 certificate (${err instanceof Error ? err.message : String(err)})`);
  }
  return {
    fingerprint: c.fingerprint256, subject: c.subject.replace(/\n/g, ', '), issuer: c.issuer.replace(/\n/g, ', '), serial: c.serialNumber,
    notBefore: Date.parse(c.validFrom), notAfter: Date.parse(c.validTo),
    ...(typeof m['flag'] === 'string' ? { flag: m['flag'] } : {}), hasPrivateKey: m['has_privkey'] === 'yes',
  };
}
