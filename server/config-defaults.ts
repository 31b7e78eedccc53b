// The configuration's defaults as plain values: config.ts's schema takes them, and what must not load the
// validator (zod: ~0.3 s of start-up on the host, seconds in the lab VM) reads them here — the one-shot
// `sascope snapshot` reads no config file and starts the sources with these.

/** AlarmThresholds' defaults (config.ts says what each means). */
export const ALARM_DEFAULTS = {
  expiringSoonSeconds: 120,
  rekeyOverdueSeconds: 30,
  sequenceUsedPercent: 80,
  failuresRisingCount: 0,
  failureWindowSeconds: 60,
  peerDeletedHoldSeconds: 300,
  wgHandshakeStaleSeconds: 180,
} as const;

/** strongSwan's VICI socket unless the config says otherwise. */
export const VICI_SOCKET_DEFAULT = '/var/run/charon.vici';
/** A certificate charon holds raises cert-expiring this many days before it expires. */
export const VICI_CERT_WARN_DAYS_DEFAULT = 14;
