// Failure reasons of a negotiation, as typed codes, read once here from what charon says: its `alert`
// event's type (6.0.3 and later) or, on 5.9 (no alert, and updown carries no reason), the IKE lines of its
// `log` event stream. The patterns are charon's own messages (captured from 5.9.8 in the lab:
// test/fixtures/vici/log-5.9.8-*.jsonl), on either side: the initiator's notify, the responder's check. The
// alert types are those 6.1.0 sent in the same failures (test/fixtures/vici/failure-6.1.0-*.fixture.json).
// Nothing past this file reads charon's text.
import type { ViciFailureReason } from '../../wire/vici.ts';
import type { ViciSection } from './spec.ts';

/** charon's log messages (msg) that say a negotiation failed, and what they mean. */
const LOG_REASONS: ReadonlyArray<readonly [RegExp, ViciFailureReason]> = [
  [/^received AUTHENTICATION_FAILED notify error$/, 'auth-failed'],
  [/but MAC mismatched$/, 'auth-failed'],
  [/^received TS_UNACCEPTABLE notify, no CHILD_SA built$/, 'ts-unacceptable'],
  [/^traffic selectors .* unacceptable$/, 'ts-unacceptable'],
  [/^received NO_PROPOSAL_CHOSEN notify/, 'no-proposal'],
  [/^no acceptable proposal found$/, 'no-proposal'],
  [/^giving up after \d+ retransmits$/, 'peer-not-responding'],
  [/^establishing IKE_SA failed, peer not responding$/, 'peer-not-responding'],
];

/** 6.x alert types (README "alert") and what they mean; the other types are no negotiation failure. */
const ALERT_REASONS: Readonly<Record<string, ViciFailureReason>> = {
  'peer-auth-failed': 'auth-failed',
  'local-auth-failed': 'auth-failed',
  'proposal-mismatch-ike': 'no-proposal',
  'proposal-mismatch-child': 'no-proposal',
  'ts-mismatch': 'ts-unacceptable',
  'retransmit-send-timeout': 'peer-not-responding',
  // the initial IKE_SA_INIT went unanswered (after retransmit-send-timeout, once per keying try)
  'peer-init-unreachable': 'peer-not-responding',
};

/** A responder's IKE SA before a config is chosen (charon's ike_sa name): no connection to blame yet. */
const UNNAMED = '(unnamed)';

/** A log event's failure reason and the connection it concerns (its IKE SA's name), if it says one. */
export function reasonOfLog(m: ViciSection): { conn: string; code: ViciFailureReason } | undefined {
  const msg = m['msg'];
  const conn = m['ikesa-name'];
  if (typeof msg !== 'string' || typeof conn !== 'string' || !conn || conn === UNNAMED) return undefined;
  for (const [re, code] of LOG_REASONS) if (re.test(msg)) return { conn, code };
  return undefined;
}

/**
 * An alert's failure reason, if its type is one, and the connections it concerns: the names of the IKE SA it
 * carries, "(unnamed)" left out (6.1.0's responder alerts proposal-mismatch-ike before choosing a config).
 */
export function reasonOfAlert(type: string | undefined, names: readonly string[]): { conns: string[]; code: ViciFailureReason } | undefined {
  const code = type !== undefined && Object.hasOwn(ALERT_REASONS, type) ? ALERT_REASONS[type] : undefined;
  return code && { conns: names.filter((n) => n !== UNNAMED), code };
}
