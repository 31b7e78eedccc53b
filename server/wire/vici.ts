// strongSwan's view over VICI (charon's control socket), shared with the browser: configured connections,
// IKE SAs and CHILD SAs as `list-conns` and `list-sas` describe them. No key material: VICI's listings carry
// none (no PSK, no private key, no IKE or ESP key), and of keys the table does not know only the name is kept.
// Times charon gives relative to its reading ("established 42 s ago", "rekeyed in 300 s") are absolute here
// (ms since epoch), so a re-read that changes nothing changes no row. Counters are bigint in the server.

/** A key charon sent that the table does not know: its name and the value's length, never the value. */
export interface ViciUnknownKey {
  key: string;
  length: number;
}

/** One authentication round of a connection (list-conn's local*, remote* sections). */
export interface ViciAuthRound {
  /** The section's name: local, local-1, remote, remote-2 … */
  round: string;
  /** Authentication class: "pre-shared key", "public key", "EAP", "XAuth", "any" … (charon's words). */
  class?: string;
  eapType?: string;
  eapVendor?: string;
  xauth?: string;
  revocation?: string;
  id?: string;
  aaaId?: string;
  eapId?: string;
  xauthId?: string;
  groups?: string[];
  /** Subjects of the certificates accepted for this round (names, not keys). */
  certs?: string[];
  cacerts?: string[];
  unknown?: ViciUnknownKey[];
}

/** A CHILD_SA configuration of a connection (list-conn's children). */
export interface ViciChildConfig {
  name: string;
  mode?: string;
  label?: string;
  rekeyTimeSeconds?: number;
  rekeyBytes?: bigint;
  rekeyPackets?: bigint;
  localTs: string[];
  remoteTs: string[];
  unknown?: ViciUnknownKey[];
}

/** A configured connection (list-conn event). Key: its name. */
export interface ViciConnection {
  name: string;
  /** "IKEv1", "IKEv2" or "0" for any, as charon says. */
  version?: string;
  localAddrs: string[];
  remoteAddrs: string[];
  localPort?: number;
  remotePort?: number;
  reauthTimeSeconds?: number;
  rekeyTimeSeconds?: number;
  local: ViciAuthRound[];
  remote: ViciAuthRound[];
  children: ViciChildConfig[];
  unknown?: ViciUnknownKey[];
  /** Why its last negotiation failed, while sascope watched (alert, or log lines on 5.9). */
  lastReason?: ViciLastReason;
}

/** What an IKE SA and a CHILD SA both say of their algorithms (names as charon prints them; no key) and XFRM interface ids. */
export interface ViciSaAlgorithms {
  ifIdIn?: string;
  ifIdOut?: string;
  encrAlg?: string;
  encrKeysize?: number;
  integAlg?: string;
  integKeysize?: number;
  prfAlg?: string;
  dhGroup?: string;
}

/** An IKE SA (list-sa event, without its child-sas). Key: charon's unique id. */
export interface ViciIkeSa extends ViciSaAlgorithms {
  /** The connection's name. */
  name: string;
  uniqueId: number;
  /** IKE version, 1 or 2. */
  version?: number;
  /** charon's state name: CREATED, CONNECTING, ESTABLISHED, PASSIVE, REKEYING, REKEYED, DELETING, DESTROYING. */
  state: string;
  localHost?: string;
  localPort?: number;
  localId?: string;
  remoteHost?: string;
  remotePort?: number;
  remoteId?: string;
  remoteXauthId?: string;
  remoteEapId?: string;
  initiator?: boolean;
  /** IKE SPIs (cookies) in hex, as charon prints them. */
  initiatorSpi?: string;
  responderSpi?: string;
  natLocal?: boolean;
  natRemote?: boolean;
  natFake?: boolean;
  natAny?: boolean;
  /** When it was established, when charon will rekey or reauthenticate it (ms since epoch). */
  establishedAt?: number;
  rekeyAt?: number;
  reauthAt?: number;
  localVips?: string[];
  remoteVips?: string[];
  tasksQueued?: string[];
  tasksActive?: string[];
  tasksPassive?: string[];
  unknown?: ViciUnknownKey[];
}

/** A CHILD SA (list-sa event's child-sas). Key: charon's unique id. */
export interface ViciChildSa extends ViciSaAlgorithms {
  /** The CHILD_SA's configuration name. */
  name: string;
  uniqueId: number;
  /** Its IKE SA: the connection name and the IKE SA's unique id (key of its vici-ike row). */
  ikeName: string;
  ikeUniqueId: number;
  reqid?: number;
  /** charon's state name: CREATED, ROUTED, INSTALLING, INSTALLED, UPDATING, REKEYING, REKEYED, RETRYING, DELETING, DELETED, DESTROYING. */
  state: string;
  mode?: string;
  protocol?: string;
  encap?: boolean;
  /** SPIs in hex, as charon prints them ("c1d2e3f4"): the XFRM SAs' spi. */
  spiIn?: string;
  spiOut?: string;
  cpiIn?: string;
  cpiOut?: string;
  markIn?: string;
  markMaskIn?: string;
  markOut?: string;
  markMaskOut?: string;
  esn?: boolean;
  bytesIn?: bigint;
  packetsIn?: bigint;
  /** Last inbound / outbound packet (ms since epoch). */
  lastInAt?: number;
  bytesOut?: bigint;
  packetsOut?: bigint;
  lastOutAt?: number;
  /** When charon rekeys it, when it expires, when it was installed (ms since epoch). */
  rekeyAt?: number;
  expiresAt?: number;
  installedAt?: number;
  localTs: string[];
  remoteTs: string[];
  unknown?: ViciUnknownKey[];
}

/** The operator actions on charon (POST /api/v1/vici/<action>). */
export const VICI_ACTIONS = ['initiate', 'terminate', 'rekey'] as const;
export type ViciActionName = (typeof VICI_ACTIONS)[number];
export const VICI_ACTION_RESULTS = ['running', 'ok', 'failed'] as const;

/** What an action acts on: a connection (and one of its children) to initiate, an IKE or CHILD SA (charon's unique id) to terminate or rekey. */
export type ViciActionTarget = { conn: string; child?: string } | { ikeId: number } | { childId: number };

/** One operator action, as recorded (the audit list). Key: when it started and a counter. No key material: charon's log lines at level 1 name SAs, never keys. */
export interface ViciAction {
  key: string;
  action: ViciActionName;
  target: ViciActionTarget;
  /** The token's name of the operator who asked. */
  by: string;
  startedAt: number;
  endedAt?: number;
  result: (typeof VICI_ACTION_RESULTS)[number];
  /** Why it failed: charon's errmsg or the connection's failure, in words. */
  error?: string;
  /** charon's log lines for it (control-log for initiate/terminate, its log stream for rekey), at most 200. */
  log: string[];
}

/** Why charon's last attempt at a connection failed, as typed codes (from 6.x's alert, or 5.9's log lines, read once at the edge). */
export const VICI_FAILURE_REASONS = ['auth-failed', 'ts-unacceptable', 'no-proposal', 'peer-not-responding'] as const;
export type ViciFailureReason = (typeof VICI_FAILURE_REASONS)[number];
/** Each reason in words, for people (events, alarms, the console). */
export const VICI_FAILURE_WORDS: Record<ViciFailureReason, string> = {
  'auth-failed': 'peer authentication failed',
  'ts-unacceptable': 'traffic selectors unacceptable',
  'no-proposal': 'no proposal chosen',
  'peer-not-responding': 'peer not responding',
};
/** The last failure of a connection: what and when (ms since epoch). */
export interface ViciLastReason {
  code: ViciFailureReason;
  time: number;
}

/** An X.509 certificate charon holds (list-certs), parsed with crypto.X509Certificate: names and dates only. Key: its SHA-256 fingerprint. */
export interface ViciCertificate {
  fingerprint: string;
  subject: string;
  issuer: string;
  serial: string;
  notBefore: number;
  notAfter: number;
  /** charon's flag: NONE, CA, AA, OCSP. */
  flag?: string;
  /** Whether charon holds its private key (the key itself is never asked for). */
  hasPrivateKey: boolean;
}

/**
 * Why a configured CHILD_SA has no SA (a tunnel of family 'ike'): never-established (not up while sascope
 * watched, no failure said), went-down (it was up, no failure said since), or charon's last failure after that;
 * waiting-for-peer for a responder-only template (state idle, not down: see namesItsPeer).
 */
export const IKE_DOWN_REASONS = ['never-established', 'went-down', 'waiting-for-peer', ...VICI_FAILURE_REASONS] as const;
export type IkeDownReason = (typeof IKE_DOWN_REASONS)[number];
export const IKE_DOWN_WORDS: Record<IkeDownReason, string> = {
  'never-established': 'never established', 'went-down': 'went down', 'waiting-for-peer': 'waiting for a peer to connect', ...VICI_FAILURE_WORDS,
};

/**
 * Whether a connection names the peer it goes to (remote_addrs set and none of them "any"). One that does not is a
 * responder-only or road-warrior template: with no SA it waits for peers, it is not down.
 */
export const namesItsPeer = (c: Pick<ViciConnection, 'remoteAddrs'>): boolean =>
  c.remoteAddrs.length > 0 && !c.remoteAddrs.some((a) => a === '%any' || a === '0.0.0.0/0' || a === '::/0');

/** What strongSwan calls a tunnel (Tunnel.ike): its connection and child, the peer's identity, charon's IKE and CHILD SA (vici-ike, vici-child keys). */
export interface TunnelIke {
  conn: string;
  child: string;
  peerId?: string;
  ikeSa?: string;
  childSa?: string;
  /** Family 'ike' (no SA): why. */
  downReason?: IkeDownReason;
}

/** A tunnel's name once strongSwan's view is joined: "conn/child (peer id)". */
export const ikeTunnelName = (ike: Pick<TunnelIke, 'conn' | 'child' | 'peerId'>): string => `${ike.conn}/${ike.child}${ike.peerId ? ` (${ike.peerId})` : ''}`;
/** The key of a configured CHILD_SA's tunnel while it has no SA (family 'ike'). */
export const ikeTunnelKey = (conn: string, child: string): string => `ike:${conn}/${child}`;
/** An operator's rekey of a CHILD SA (a vici-action row) causes the next rotation of its tunnels that comes within this long. */
export const OPERATOR_REKEY_WINDOW_MS = 15_000;
