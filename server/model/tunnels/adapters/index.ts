// The families that feed tunnels, one adapter each (see ../adapter.ts). A new one is its file and a line here.
import type { TunnelAdapterFactory } from '../adapter.ts';
import { ikeAdapter } from './ike.ts';
import { ovpnAdapter } from './ovpn.ts';
import { pspAdapter } from './psp.ts';
import { wireguardAdapter } from './wireguard.ts';
import { xfrmAdapter } from './xfrm.ts';

export const TUNNEL_ADAPTERS: readonly TunnelAdapterFactory[] = [xfrmAdapter, ovpnAdapter, pspAdapter, wireguardAdapter, ikeAdapter];
