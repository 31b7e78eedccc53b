// Wires `sascope agent`: kernel sources → model → the fleet agent (NATS JetStream), without the hub, the
// history or an HTTP listener. With --netns only kernel sockets enter the watched namespace; the NATS
// connection is opened, and reopened, in the namespace the agent was started in.
import { hostname } from 'node:os';
import { DEFAULT_DATA_DIR, loadConfig } from './config.ts';
import { Model } from './model/model.ts';
import { kernelActions, startKernelSources, type KernelSources } from './kernel.ts';
import { version } from './version.ts';
import { FleetAgent, type AgentOptions } from './fleet/agent.ts';
import type { CommandRequest } from './fleet/protocol.ts';
import type { ApiActions } from './hub/http.ts';
import type { ViciActionName } from './wire/vici.ts';
import type { NatsSettings } from './fleet/nats.ts';
import type { Logger } from './log.ts';

export interface AgentProcessOptions {
  nats: NatsSettings;
  host: string;
  netns?: string;
  dataDir?: string;
  configPath?: string;
}

/** Start the agent. Throws ConfigError (bad config file), NatsSettingsError (bad NATS settings) or NetnsError. */
/** What an agent does for each command a console sends: the API's own actions (a vici-* request was checked to name its target; the action's row records who asked). */
export function agentCommands(actions: () => ApiActions): NonNullable<AgentOptions['commands']> {
  const vici = (action: ViciActionName) => (r: CommandRequest) => actions().vici?.(action, r.target!, r.by) ?? { started: false as const, message: 'this agent has no vici source' };
  return {
    'crypto-probe': () => actions().startCryptoProbe(),
    'pfkey-register': () => actions().startPfkeyRegister(),
    'vici-initiate': vici('initiate'),
    'vici-terminate': vici('terminate'),
    'vici-rekey': vici('rekey'),
  };
}

export function runAgent(log: Logger, opts: AgentProcessOptions): { agent: FleetAgent; kernel: KernelSources; stop(): Promise<void> } {
  const dataDir = opts.dataDir ?? DEFAULT_DATA_DIR;
  const { config, note } = loadConfig({ configPath: opts.configPath, dataDir });
  if (note) log.warn(note);
  // The agent listens before the derived kinds (tunnels, alarms) do, as the hub: each raw change gets its
  // seq before what it causes. Its NATS settings are checked (files read) before any kernel socket opens.
  const model = new Model();
  let sourcesReady!: () => void;
  const agent = new FleetAgent(model, opts.nats, log, {
    host: opts.host,
    agentVersion: version,
    server: { version, hostname: hostname(), netns: opts.netns ?? 'self' },
    heartbeatSeconds: config.fleet.heartbeatSeconds,
    snapshotSeconds: config.fleet.snapshotSeconds,
    ready: new Promise<void>((resolve) => (sourcesReady = resolve)),
    // A console's operator requests (NATS permissions let only its identity send them).
    commands: agentCommands(() => actions),
  });
  const kernel = startKernelSources(log, { netns: opts.netns, dataDir, config, stallWarnings: true, model });
  const actions = kernelActions(kernel, log);
  void kernel.ready.then(sourcesReady);
  agent.start();
  return {
    agent,
    kernel,
    async stop() {
      await agent.stop();
      kernel.stop();
    },
  };
}
