// ethtool (generic netlink family "ethtool") device entities, shared by server and browser: the feature
// bits with the kernel's own names (string set ETH_SS_FEATURES), and which driver statistics exist.

/** One netdev feature as features-get reports it. */
export interface EthtoolFeature {
  /** The kernel's name from ETH_SS_FEATURES ("esp-hw-offload"); "bit N" when the set has no string for it. */
  name: string;
  /** ETHTOOL_A_FEATURES_ACTIVE: on now. */
  active: boolean;
  /** ETHTOOL_A_FEATURES_WANTED: what was requested (differs from active when the driver or a dependency says no). */
  requested: boolean;
  /** ETHTOOL_A_FEATURES_HW: the user may change it (ethtool's "[fixed]" when false). */
  changeable: boolean;
  /** ETHTOOL_A_FEATURES_NOCHANGE: the kernel never lets it change. */
  nochange: boolean;
}

/** A device's ethtool view (kind 'ethtool-dev'). Key: ifindex. */
export interface EthtoolDevice {
  ifindex: number;
  ifname: string;
  /** Every feature bit the kernel reported, in bit order. */
  features: EthtoolFeature[];
  /** The IPsec offload features, picked out by name (absent when the kernel has no such name). */
  ipsec: {
    espHwOffload?: EthtoolFeature;
    espTxCsum?: EthtoolFeature;
    /** esp-hw-offload active: the device can take XFRM SAs with `offload dev`. */
    capable: boolean;
  };
  /** Names of the driver's statistics (ETH_SS_STATS) that concern IPsec or PSP, and how many it has in all. */
  driverStats: {
    count: number;
    ipsec: string[];
    psp: string[];
    /** Their values: "not offered over netlink by this kernel" (stats-get carries only the standard groups). */
    note: string;
  };
  /** When features were last read or notified (ms since epoch). */
  updatedAt: number;
  /** Why features could not be read for this device (EOPNOTSUPP …). */
  error?: string;
}

/** An offloaded SA's direction (XFRM_OFFLOAD_INBOUND or not) and what the device does: crypto, or the whole packet. */
export const OFFLOAD_DIRECTIONS = ['in', 'out'] as const;
export const OFFLOAD_MODES = ['crypto', 'packet'] as const;
/**
 * offloaded: the device does the crypto; software-fallback: offloaded to a device whose esp-hw-offload
 * is no longer active, so the kernel encrypts in software; device-gone: the ifindex names no link.
 */
export const OFFLOADED_SA_STATES = ['offloaded', 'software-fallback', 'device-gone'] as const;

/** One SA offloaded to a device, as the offload view lists it. */
export interface OffloadedSa {
  /** The 'sa' entity key. */
  key: string;
  spi: number;
  src: string;
  dst: string;
  dir: (typeof OFFLOAD_DIRECTIONS)[number];
  mode: (typeof OFFLOAD_MODES)[number];
  /** The SA's counters (lifetime current), as the kernel reports them. */
  bytes: bigint;
  packets: bigint;
  /** Packet offload: the kernel takes SA counters from the driver (xdo_dev_state_update_stats), so they may lag. */
  countersFromDriver: boolean;
  state: (typeof OFFLOADED_SA_STATES)[number];
  note?: string;
}

/** SAs grouped by offload device, with the device's features and counters (kind 'offload-dev'). Key: ifindex. */
export interface OffloadDevice {
  key: string;
  ifindex: number;
  ifname?: string;
  /** Link kind (rtnetlink IFLA_INFO_KIND) and parent bus where known. */
  kind?: string;
  operState?: string;
  /** The link exists in this netns. */
  present: boolean;
  /** esp-hw-offload / esp-tx-csum-hw-offload as ethtool reports them. */
  espHwOffload?: EthtoolFeature;
  espTxCsum?: EthtoolFeature;
  capable: boolean;
  sas: OffloadedSa[];
  counts: { in: number; out: number; crypto: number; packet: number };
  /** Sum of the offloaded SAs' counters, next to the NIC's own counters (rtnetlink stats64). */
  saTotals: { bytes: bigint; packets: bigint };
  nic?: { rxBytes: bigint; txBytes: bigint; rxPackets: bigint; txPackets: bigint; rxDropped: bigint; txDropped: bigint };
  /** Driver IPsec / PSP statistic names and why their values are not shown. */
  driverStats?: EthtoolDevice['driverStats'];
  /** XFRM policies carrying an offload request for this device (packet offload). */
  policies: string[];
  notes: string[];
}

/** The offload view's summary row (kind 'offload-info', key "offload"). */
export interface OffloadInfo {
  key: string;
  capableDevices: Array<{ ifindex: number; ifname: string }>;
  offloadedSas: number;
  packetOffloadSas: number;
  softwareSas: number;
  /** "no offload-capable device" when no device has esp-hw-offload active. */
  note?: string;
  /** How a failed or refused offload request shows in the kernel's view (checked in the lab). */
  fallback: string;
  /** ethtool source not running: capability unknown. */
  capabilityUnknown?: string;
}
