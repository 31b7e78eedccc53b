// Every decoder a byte fixture can name, one netlink message in, the wire-form result out.
// Families add their decoders here so test/unit/fixtures.test.ts and the fuzzers reach them.
import type { NetlinkMessage } from '../../server/netlink/message.ts';
import { toWire } from '../../server/model/model.ts';
import { decodePolicyMessage } from '../../server/families/xfrm/policy.ts';
import { decodeLink } from '../../server/families/link/link.ts';
import { decodeSaMessage } from '../../server/families/xfrm/sa.ts';
import { decodeSadInfo, decodeSpdInfo } from '../../server/families/xfrm/totals.ts';
import { useFingerprintSecret } from '../../server/families/fingerprint.ts';

// Fixtures' key fingerprints are computed under this fixed test secret (production: a random one, 0600).
export const TEST_FINGERPRINT_SECRET = Buffer.alloc(32, 0x5a);
useFingerprintSecret(TEST_FINGERPRINT_SECRET);
import { decodeOvpnMessage } from '../../server/families/ovpn/peer.ts';
import { decodePspMessage } from '../../server/families/psp/dev.ts';
import { decodeWireguardMessage } from '../../server/families/wireguard/device.ts';
import { decodePfkeyDatagram } from './pfkey/fixture-decoder.ts';
import { decodeViciPacket } from './vici/fixture-decoder.ts';
import { decodeEthtoolMessage } from '../../server/families/ethtool/features.ts';
import { ctrlAttrs, familyFromDecoded, parseGenl } from '../../server/genl/genl.ts';
import { decodeAttrs } from '../../server/netlink/spec.ts';

export const decoders: Record<string, (m: NetlinkMessage) => unknown> = {
  'xfrm-policy': (m) => toWire(decodePolicyMessage(m)),
  'rtnl-link': (m) => toWire(decodeLink(m)),
  'xfrm-sa': (m) => toWire(decodeSaMessage(m)),
  'xfrm-sadinfo': (m) => toWire(decodeSadInfo(m)),
  'xfrm-spdinfo': (m) => toWire(decodeSpdInfo(m)),
  'ovpn-genl': (m) => toWire(decodeOvpnMessage(m)),
  'psp-genl': (m) => toWire(decodePspMessage(m)),
  'wireguard-genl': (m) => toWire(decodeWireguardMessage(m)),
  'ethtool-genl': (m) => toWire(decodeEthtoolMessage(m)),
  'nlctrl': (m) => {
    const f = familyFromDecoded(decodeAttrs(ctrlAttrs, parseGenl(m, 'nlctrl').attrs, 'nlctrl'));
    return { ...f, ops: Object.fromEntries(f.ops), groups: Object.fromEntries(f.groups) };
  },
};

/** Decoders of whole datagrams for sockets that are not netlink (PF_KEY; VICI: one framed packet): the fixture's hex is one datagram. */
export const datagramDecoders: Record<string, (bytes: Buffer) => unknown> = {
  pfkey: decodePfkeyDatagram,
  vici: decodeViciPacket,
};
