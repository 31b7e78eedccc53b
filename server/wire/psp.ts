// PSP Security Protocol device entities, shared with the browser. Counters are bigint in the server and
// decimal strings on the wire. sascope never creates associations and never sees a PSP key.
import type { UnknownAttribute } from './entities.ts';

/** struct psp_dev_stats as get-stats returns it (PSP_A_STATS_*). */
export interface PspStats {
  /** Kernel statistics: rotations over the device's lifetime, sockets shut down by a stale key. */
  keyRotations: bigint;
  staleEvents: bigint;
  /** Device statistics (from the PSP spec). */
  rxPackets: bigint;
  rxBytes: bigint;
  rxAuthFail: bigint;
  rxError: bigint;
  rxBad: bigint;
  txPackets: bigint;
  txBytes: bigint;
  txError: bigint;
  unknown?: UnknownAttribute[];
}

/** A PSP device (PSP_A_DEV_*). Key: the PSP device id. */
export interface PspDevice {
  id: number;
  ifindex: number;
  /** Name of the main netdevice, where it is in sascope's netns. */
  ifname?: string;
  /** PSP versions by name (hdr0-aes-gcm-128 …). */
  versionsCapable: string[];
  versionsEnabled: string[];
  /** Devices in other namespaces associated with this PSP device. */
  associated?: Array<{ ifindex: number; nsid?: number }>;
  /** The PSP device belongs to a device in another netns; this netns sees it by association. */
  byAssociation?: boolean;
  /** get-stats, where the kernel offers it. */
  stats?: PspStats;
  /** Why there are no stats ("not offered by this kernel", or the error). */
  statsNote?: string;
  /** key-rotate-ntf seen by sascope, and the last one's time. */
  rotations: number;
  lastRotation?: number;
  unknown?: UnknownAttribute[];
}

/** Event types the psp source writes into the event log, and what each is for the UI. */
export const PSP_EVENT_TYPES = {
  'dev-add-ntf': 'info',
  'dev-del-ntf': 'info',
  'dev-change-ntf': 'info',
  'key-rotate': 'rotation',
} as const;
