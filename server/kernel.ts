// The kernel side of the process, without the hub: every source → the one model → what the model derives
// from it (tunnels, rotations and alarms, the PF_KEY cross-check, offload and crypto views). `sascope serve`
// adds the hub, history and metrics around it (server/main.ts); `sascope snapshot` reads it once
// (server/snapshot.ts) and so loads nothing of the hub, the WebSocket server or Next.js.
import { Model } from './model/model.ts';
import { LinkSource } from './families/link/source.ts';
import { LinkWatch } from './families/link/watch.ts';
import { XfrmPolicySource } from './families/xfrm/policy-source.ts';
import { XfrmSaSource } from './families/xfrm/sa-source.ts';
import { PfkeySource, RegisterBusyError } from './families/pfkey/source.ts';
import { PfkeyCrossCheck } from './model/crosscheck.ts';
import { XfrmTotalsSource } from './families/xfrm/totals-source.ts';
import { XfrmEvents } from './families/xfrm/events.ts';
import { loadFingerprintSecret } from './families/fingerprint.ts';
import { setKernelNetns, watchNetns } from './sys/netns.ts';
import { watchStalls } from './sys/stalls.ts';
import { OvpnSource } from './families/ovpn/source.ts';
import { PspSource } from './families/psp/source.ts';
import { WireguardSource } from './families/wireguard/source.ts';
import { ViciSource } from './families/vici/source.ts';
import { ViciActions } from './families/vici/actions.ts';
import { ViciAlarms } from './model/vici-alarms.ts';
import { EthtoolSource } from './families/ethtool/source.ts';
import { CryptoSource } from './families/crypto/source.ts';
import { afAlgUnavailable } from './families/crypto/info.ts';
import { ProbeBusyError, ProbeRunner } from './families/alg/runner.ts';
import { DerivedViews } from './model/views.ts';
import type { Source } from './families/source.ts';
import type { Config } from './config.ts';
import { ALARM_DEFAULTS, VICI_SOCKET_DEFAULT } from './config-defaults.ts';
import { TunnelTracker, type TunnelTrackerOptions } from './model/tunnels.ts';
import type { Logger } from './log.ts';
import type { SourceState } from './wire/entities.ts';
import type { ViciChildSa } from './wire/vici.ts';
import type { ApiActions } from './hub/http.ts';

export interface KernelSources {
  model: Model;
  sources: Source[];
  /** PF_KEY (its REGISTER is an operator action) and the AF_ALG probe (another). */
  pfkey: PfkeySource;
  probe: ProbeRunner;
  /** Operator actions on charon over VICI (initiate, terminate, rekey). */
  vici: ViciActions;
  /** Tunnels, rotations, countdowns and alarms derived from the model. */
  tunnels: TunnelTracker;
  /** Resolves when every source has done its first dump or settled on a failure state. */
  ready: Promise<void>;
  /**
   * After ready: resolves when what derives from the sources has caught up with them — every tunnel,
   * rotation and alarm published (the tracker spreads a big batch over turns of the event loop) and the
   * PF_KEY cross-check done. What a one-shot reader waits for.
   */
  settled(): Promise<void>;
  stop(): void;
}

export interface KernelSourcesOptions {
  /** Watch this network namespace (/run/netns/NAME) instead of our own: kernel sockets are opened in it (server/sys/netns.ts). Throws NetnsError. */
  netns?: string;
  /** Where the key fingerprint secret is kept (default /var/lib/sascope). */
  dataDir?: string;
  /** The config file's settings (alarm thresholds); defaults when absent. */
  config?: Config;
  /** Log event-loop stalls over 500 ms (serve; a one-shot `snapshot` blocks by design). */
  stallWarnings?: boolean;
  /** The model, when listeners must come before the derived kinds' (the hub: each raw delta goes out before what it causes). */
  model?: Model;
  /** Told about rotations and alarms (history). */
  tunnelHooks?: Pick<TunnelTrackerOptions, 'onRotation' | 'alarms'>;
  /** Called with the tracker before any source starts (history restores tunnel state into it). */
  beforeStart?: (tunnels: TunnelTracker) => void;
  /**
   * A one-shot read (`sascope snapshot`): without what only a running server needs — the tracker's clock
   * pass every second (a one-shot's alarms are evaluated with the clock as each tunnel is published) and
   * the offload and crypto views recomputed while the dumps run (every 200 ms over every SA read so far;
   * a one-shot computes them once, when every source is ready), and a model that shares strings and parts
   * among its rows (memory a one-shot does not keep, at a lookup per string and part).
   */
  oneShot?: boolean;
}

/** How often a not-available source tries again (SASCOPE_RETRY_MS overrides; tests make it short). */
const NOT_AVAILABLE_RETRY_MS = Number(process.env.SASCOPE_RETRY_MS) > 0 ? Number(process.env.SASCOPE_RETRY_MS) : 30_000;

/** --netns: a 'netns' status row, ok while /run/netns/NAME still names the namespace sascope entered. */
function watchNetnsStatus(model: Model, log: Logger, name: string): { close(): void } {
  const status = { id: 'netns', label: `Network namespace ${name}`, state: 'ok' as SourceState, since: Date.now(), resyncs: 0, decodeErrors: 0 };
  model.status({ ...status });
  return watchNetns(name, (how) => {
    const reason = `netns '${name}' was ${how === 'deleted' ? 'deleted (ip netns del)' : 'replaced by another namespace of that name'}: sascope still holds the namespace it entered, so the views show what is left in it and nothing else can change it — restart sascope to watch an existing namespace`;
    log.warn({ source: 'netns', netns: name, how }, reason);
    model.status({ ...status, state: 'not-available', reason, since: Date.now() });
    model.event({ source: 'netns', type: 'netns-gone', summary: reason });
  });
}

export function startKernelSources(log: Logger, opts: KernelSourcesOptions = {}): KernelSources {
  if (opts.netns) setKernelNetns(opts.netns);
  const fp = loadFingerprintSecret(opts.dataDir);
  if (!fp.persisted) log.warn({ source: 'xfrm-sa', reason: fp.reason }, `xfrm: ${fp.reason}`);
  const stalls = opts.stallWarnings ? watchStalls(log) : () => undefined;
  const model = opts.model ?? new Model({ share: !opts.oneShot });
  // Without a config (the one-shot), the defaults as plain values: config.ts would load zod for them.
  const tunnels = new TunnelTracker(model, { thresholds: opts.config?.alarms ?? { ...ALARM_DEFAULTS }, ...(opts.oneShot ? { tickMs: 0 } : {}), ...opts.tunnelHooks });
  opts.beforeStart?.(tunnels);
  const netnsWatch = opts.netns ? watchNetnsStatus(model, log, opts.netns) : undefined;
  // One XFRM monitor socket for the policy and SA sources: each message type is handled by one of them.
  const xfrmEvents = new XfrmEvents();
  // One link view (one rtnetlink socket, RTNLGRP_LINK monitor and dump): the link source publishes it, the
  // ovpn, psp and ethtool sources name their devices from it.
  const links = new LinkWatch();
  const pfkey = new PfkeySource(model, log);
  const sources: Source[] = [new LinkSource(model, log, links), new XfrmPolicySource(model, log, { events: xfrmEvents }), new XfrmSaSource(model, log, { events: xfrmEvents }), new XfrmTotalsSource(model, log), new OvpnSource(model, log, links), new PspSource(model, log, links), new WireguardSource(model, log, links), pfkey];
  // PF_KEY ⇄ XFRM, per SA, while both sources are ok.
  const pfkeyCheck = new PfkeyCrossCheck(model);
  // Devices, offload and kernel crypto: ethtool features, /proc/crypto, derived offload / crypto-use views, the AF_ALG probe.
  const crypto = new CryptoSource(model, log);
  sources.push(new EthtoolSource(model, log, links), crypto);
  // strongSwan's charon over its control socket: absent or unreadable is the source's state, never a failure of the rest.
  const viciSocket = opts.config?.vici.socket ?? VICI_SOCKET_DEFAULT;
  sources.push(new ViciSource(model, log, { socketPath: viciSocket }));
  const viciAlarms = new ViciAlarms(model, tunnels.alarms, { certWarnDays: opts.config?.vici.certWarnDays });
  const vici = new ViciActions(model, { socketPath: viciSocket, ikeOfChild: (id) => (model.get('vici-child', String(id)) as ViciChildSa | undefined)?.ikeUniqueId });
  const derivedViews = () => new DerivedViews(model, 200, () => void crypto.reread().catch(() => undefined));
  let views = opts.oneShot ? undefined : derivedViews();
  const probe = new ProbeRunner({
    sink: model,
    log,
    uses: () => views?.uses() ?? [],
    algorithms: () => crypto.algorithms(),
    reread: () => crypto.reread(),
    unavailable: () => {
      const info = crypto.cryptoInfo();
      return info ? afAlgUnavailable(info) : undefined;
    },
  });
  probe.publish();
  for (const s of sources) model.status({ ...s.status });
  // A kernel module loaded (or unloaded and loaded again) while sascope runs: not-available sources try again.
  for (const s of sources) s.retryWhenNotAvailable(NOT_AVAILABLE_RETRY_MS);
  const ready = Promise.all(sources.map((s) => s.start())).then(() => {
    (views ??= derivedViews()).recompute();
    tunnels.settle();
  });
  return {
    model,
    sources,
    pfkey,
    probe,
    vici,
    tunnels,
    ready,
    async settled() {
      await ready;
      await tunnels.whenSettled();
      pfkeyCheck.flush(); // its pass would run on the next turn; the cross-check feeds nothing the tracker reads
    },
    stop() {
      stalls();
      netnsWatch?.close();
      for (const s of sources) s.retryWhenNotAvailable(0);
      for (const s of sources) s.stop();
      tunnels.close();
      views?.close();
      pfkeyCheck.close();
      viciAlarms.close();
    },
  };
}

/** The operator actions on the kernel (the API's, and a fleet console's requests to an agent): started, or busy with the reason. */
export function kernelActions(k: Pick<KernelSources, 'model' | 'probe' | 'pfkey' | 'vici'>, log: Logger): ApiActions {
  return {
    vici(action, target, by) {
      const r = k.vici.start(action, target, by);
      return r.started ? { started: true, row: r.row } : r;
    },
    startCryptoProbe() {
      try {
        void k.probe.start().catch((err: unknown) => log.error({ source: 'alg', err: String(err) }, 'crypto probe failed'));
        return { started: true, row: k.model.get('crypto-probe', 'probe') };
      } catch (err) {
        if (err instanceof ProbeBusyError) return { started: false, message: err.message };
        throw err;
      }
    },
    startPfkeyRegister() {
      try {
        void k.pfkey.startRegister().done;
        return { started: true, row: k.model.get('pfkey-register', 'register') };
      } catch (err) {
        if (err instanceof RegisterBusyError) return { started: false, message: err.message };
        throw err;
      }
    },
  };
}
