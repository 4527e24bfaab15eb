import fs from 'node:fs';
import { Agent, DEFAULT_GRACE_MS, type HeldEvents } from '../core/agent.js';
import type { Reporter } from '../core/component.js';
import { formatDiagnostic, sortDiagnostics } from '../config/diagnostics.js';
import { loadJobTexts, type JobText } from '../config/load.js';
import { parseProperties } from '../config/properties.js';
import { FileConfigSource } from '../config/sources/file.js';
import type { ConfigSource } from '../config/sources/types.js';
import { UriConfigSource, backupFile } from '../config/sources/uri.js';
import { flowGraph } from '../monitoring/graph.js';
import { startMonitoring } from '../monitoring/index.js';
import { sslGlobal } from '../rpc/tls.js';
import type { Logger } from '../core/logger.js';
import { createLogger, loggingSettings } from './logging.js';
import { ConfigReloader, writeBackup } from './reload.js';
import { buildRegistry } from './setup.js';
import type { AgentCliOptions } from './main.js';

export interface RunAgentOptions extends AgentCliOptions {
  sysProps: Record<string, string>;
  jvmFlags: string[];
}

/**
 * Exit codes of `flume-ng agent` (documented in the README): 0 stopped with nothing
 * lost; 1 not started (usage, job file, start-up error); 3 stopped with events that
 * were acknowledged upstream left undelivered in a non-durable channel (lost); 130 a
 * second signal ended the stop at once and nothing was lost.
 */
export const EXIT_OK = 0;
export const EXIT_NOT_STARTED = 1;
export const EXIT_EVENTS_LOST = 3;
export const EXIT_INTERRUPTED = 130;

/** Flume's defaults for -i: 30 s between checks of files, 300 s of URIs. */
const FILE_POLL_SECONDS = 30;
const URI_POLL_SECONDS = 300;

/** Flume's own provider classes, accepted as --conf-provider / --auth-provider (the choice is made by -f/-u/-z here). */
const FLUME_PROVIDERS = new Set([
  'org.apache.flume.node.PollingPropertiesFileConfigurationProvider',
  'org.apache.flume.node.PropertiesFileConfigurationProvider',
  'org.apache.flume.node.UriConfigurationProvider',
  'org.apache.flume.node.PollingZooKeeperConfigurationProvider',
  'org.apache.flume.node.StaticZooKeeperConfigurationProvider',
]);
const FLUME_AUTH_PROVIDERS = new Set(['org.apache.flume.node.net.BasicAuthorizationProvider']);

/** "c1: 12 event(s) lost, c2: 3 event(s) kept (durable)". */
function describeHeld(held: readonly HeldEvents[]): string {
  if (held.length === 0) return 'no events';
  return held.map((h) => `${h.channel}: ${h.events} event(s) ${h.durable ? 'kept (durable)' : 'lost'}`).join(', ');
}

function fail(line: string): number {
  process.stderr.write(`flume-ng: ${line}\n`);
  return EXIT_NOT_STARTED;
}

/** The configuration sources the command line names: -f files, -u URIs, -z/-p ZooKeeper. */
async function configSources(o: RunAgentOptions, logger: Logger): Promise<ConfigSource[] | string> {
  const uris = o.confUri ?? [];
  const poll = o.pollInterval === undefined ? undefined : Number(o.pollInterval);
  if (poll !== undefined && (!Number.isSafeInteger(poll) || poll < 1 || poll > 86_400)) return `-i/--poll-interval ${o.pollInterval}: expected seconds from 1 to 86400`;
  if (o.confProvider && !FLUME_PROVIDERS.has(o.confProvider)) {
    return `--conf-provider ${o.confProvider}: custom configuration providers are not supported; use -f, -u or -z (Flume's own provider classes are accepted)`;
  }
  if (o.authProvider && !FLUME_AUTH_PROVIDERS.has(o.authProvider)) {
    return `--auth-provider ${o.authProvider}: only Flume's org.apache.flume.node.net.BasicAuthorizationProvider (--conf-user/--conf-password) is supported`;
  }
  const sources: ConfigSource[] = [];
  if (o.zkConnString) {
    // The ZooKeeper client is loaded only for agents that use it.
    const { ZooKeeperConfigSource } = await import('../config/sources/zookeeper.js');
    sources.push(new ZooKeeperConfigSource(o.zkConnString, o.zkBasePath ?? '/flume', o.name, logger));
    return sources;
  }
  if (o.confFile.length > 0) sources.push(new FileConfigSource(o.confFile, poll ?? FILE_POLL_SECONDS));
  for (const raw of uris) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return `-u/--conf-uri ${raw}: not a URI (http://, https:// or file:)`;
    }
    if (!['http:', 'https:', 'file:'].includes(url.protocol)) return `-u/--conf-uri ${raw}: only http, https and file URIs are supported`;
    let ca: Buffer | undefined;
    const trust = sslGlobal('TRUSTSTORE_PATH');
    if (url.protocol === 'https:' && trust) ca = fs.readFileSync(trust);
    sources.push(
      new UriConfigSource(url, {
        ...(o.confUser !== undefined ? { user: o.confUser } : {}),
        ...(o.confPassword !== undefined ? { password: o.confPassword } : {}),
        pollSeconds: poll ?? (url.protocol === 'file:' ? FILE_POLL_SECONDS : URI_POLL_SECONDS),
        ...(ca ? { ca } : {}),
        verifyHost: (o.verifyHost ?? 'true').toLowerCase() !== 'false',
      }),
    );
  }
  if (sources.length === 0) return 'no job file given: use -f <file> (e.g. -f jobs/flume-netcat-logger.conf), -u <uri> or -z <zookeeper>';
  return sources;
}

/** Reads every source; when one is down at start, the backup of the last good configuration stands in (Flume's -b). */
async function readInitial(sources: readonly ConfigSource[], o: RunAgentOptions, logger: Logger): Promise<JobText[] | string> {
  try {
    return (await Promise.all(sources.map((s) => s.read()))).flat();
  } catch (err) {
    const msg = (err as Error).message;
    const file = o.backupDirectory ? backupFile(o.backupDirectory, o.name) : undefined;
    if (file && fs.existsSync(file)) {
      logger.warn(`${msg}; starting from the backup of the last good configuration, ${file}`);
      return [{ name: file, text: fs.readFileSync(file, 'utf8') }];
    }
    return msg;
  }
}

/** `flume-ng agent`: load, check, start; reload on change; stop in order on SIGINT/SIGTERM. */
export async function runAgent(o: RunAgentOptions): Promise<number> {
  const logger = createLogger(loggingSettings(o.conf, o.sysProps));
  // Listen for the stop signals before anything starts: a signal with no listener
  // kills the process outright, so one arriving during start-up would skip the
  // orderly stop. The first stops the agent; a second one means "now".
  let agent: Agent | undefined;
  let firstSignal: ((s: NodeJS.Signals) => void) | undefined;
  const signalled = new Promise<NodeJS.Signals>((resolve) => (firstSignal = resolve));
  const onSignal = (sig: NodeJS.Signals): void => {
    if (firstSignal) {
      const first = firstSignal;
      firstSignal = undefined;
      first(sig);
      return;
    }
    const held = agent?.held() ?? [];
    const lost = held.some((h) => !h.durable);
    logger.error(`Received a second ${sig}: exiting at once; abandoned ${describeHeld(held)}`);
    void logger.close().finally(() => process.exit(lost ? EXIT_EVENTS_LOST : EXIT_INTERRUPTED));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const onHup = (): void => void reloader?.reload();
  let reloader: ConfigReloader | undefined;
  process.on('SIGHUP', onHup);
  try {
    if (o.jvmFlags.length > 0) logger.debug(`ignoring JVM flags: ${o.jvmFlags.join(' ')}`);
    if (o.classpath) logger.debug(`ignoring --classpath ${o.classpath}: plugins are npm packages`);
    if (!o.conf) logger.warn('No configuration directory set! Use --conf <dir> to override.');
    const sources = await configSources(o, logger);
    if (typeof sources === 'string') return fail(sources);

    let registry;
    try {
      registry = await buildRegistry({ conf: o.conf, pluginsPath: o.pluginsPath ?? o.pluginPath, confFile: o.confFile, values: Object.values(o.sysProps) }, logger);
    } catch (err) {
      return fail((err as Error).message);
    }
    const texts = await readInitial(sources, o, logger);
    if (typeof texts === 'string') return fail(`agent ${o.name} not started: ${texts}`);
    const { plan, diagnostics, settings } = loadJobTexts(texts, o.name, registry);
    for (const d of sortDiagnostics(diagnostics)) {
      process.stderr.write(formatDiagnostic(d) + '\n');
      if (d.severity === 'warning') logger.warn(formatDiagnostic(d));
    }
    const where = sources.map((s) => s.description).join(', ');
    if (!plan) {
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      return fail(`agent ${o.name} not started: ${errors} error${errors === 1 ? '' : 's'} in ${where}`);
    }
    if (o.dryrun) {
      process.stdout.write(
        `agent ${plan.name}: sources ${plan.sources.map((s) => `${s.name}(${s.def.type})`).join(' ') || '-'}; ` +
          `channels ${plan.channels.map((c) => `${c.name}(${c.def.type})`).join(' ')}; sinks ${plan.sinks.map((k) => `${k.name}(${k.def.type})`).join(' ') || '-'}\n`,
      );
      return EXIT_OK;
    }

    const graceRaw = o.sysProps['flume.shutdown.grace.ms'];
    const graceMs = graceRaw === undefined ? DEFAULT_GRACE_MS : Number(graceRaw);
    if (!Number.isSafeInteger(graceMs) || graceMs < 0) {
      return fail(`-Dflume.shutdown.grace.ms=${graceRaw} is not a number of milliseconds (an integer, 0 or more)`);
    }
    const running = new Agent(plan, registry, logger, { drainGraceMs: graceMs });
    agent = running;
    try {
      await running.start();
    } catch (err) {
      return fail(`agent ${o.name} not started: ${(err as Error).message}`);
    }
    if (o.backupDirectory) writeBackup(o.backupDirectory, o.name, texts, logger);

    let monitor: Reporter | undefined;
    const monitored = {
      name: running.name,
      counterGroups: () => running.counterGroups(),
      health: () => running.health(),
      get graph() {
        return flowGraph(running.plan);
      },
    };
    try {
      monitor = await startMonitoring({ ...settings, ...o.sysProps }, monitored, registry, logger);
    } catch (err) {
      await running.stop(0);
      return fail(`agent ${o.name} not started: ${(err as Error).message}`);
    }

    reloader = new ConfigReloader(
      sources,
      o.name,
      registry,
      logger,
      async (next) => {
        await running.reconfigure(next, graceMs);
      },
      texts,
      o.backupDirectory,
    );
    if (o.reloadConf !== false) {
      reloader.start();
      logger.info(`Watching ${where} for changes (SIGHUP reloads at once)`);
    }

    logger.info(`Received ${await signalled}: stopping agent ${o.name} (grace period ${graceMs} ms)`);
    await reloader?.stop();
    const report = await running.stop(graceMs);
    await monitor?.stop();
    for (const s of sources) s.close?.();
    if (report.lost > 0) {
      logger.error(`Agent ${o.name} stopped with ${report.lost} acknowledged event(s) not delivered (${describeHeld(report.held)}); exit code ${EXIT_EVENTS_LOST}`);
      return EXIT_EVENTS_LOST;
    }
    return EXIT_OK;
  } finally {
    process.off('SIGHUP', onHup);
    await logger.close();
  }
}

/** `flume-ng conf put|get`: publish a job file to ZooKeeper (validated first), or print what is there. */
export async function runConf(action: string, o: { zkConnString?: string; zkBasePath?: string; name: string; confFile?: string[]; conf?: string; pluginsPath?: string }): Promise<number> {
  const { zkGet, zkPut } = await import('../config/sources/zookeeper.js');
  if (!o.zkConnString) return fail('conf: -z/--zkConnString is required');
  const znode = `${(o.zkBasePath ?? '/flume').replace(/\/+$/, '')}/${o.name}`;
  if (action === 'get') {
    try {
      process.stdout.write(await zkGet(o.zkConnString, znode));
      return EXIT_OK;
    } catch (err) {
      return fail(`conf get ${znode}: ${(err as Error).message}`);
    }
  }
  if (action !== 'put') return fail(`conf: unknown action "${action}" (put or get)`);
  const files = o.confFile ?? [];
  if (files.length !== 1) return fail('conf put: give the job file with -f <file>');
  const { readJobFile } = await import('../config/load.js');
  const read = readJobFile(files[0]!);
  if ('error' in read) return fail(read.error);
  const { silentLogger } = await import('../core/logger.js');
  const registry = await buildRegistry({ conf: o.conf, pluginsPath: o.pluginsPath }, silentLogger);
  const { plan, diagnostics } = loadJobTexts([{ name: files[0]!, text: read.text }], o.name, registry);
  for (const d of sortDiagnostics(diagnostics)) process.stderr.write(formatDiagnostic(d) + '\n');
  if (!plan) return fail(`conf put: ${files[0]} has errors for agent ${o.name}; nothing written to ${znode}`);
  if (!parseProperties(read.text, files[0]!).props.some((p) => p.key.startsWith(`${o.name}.`))) return fail(`conf put: ${files[0]} does not define agent ${o.name}`);
  try {
    await zkPut(o.zkConnString, znode, read.text);
  } catch (err) {
    return fail(`conf put ${znode}: ${(err as Error).message}`);
  }
  process.stdout.write(`wrote ${files[0]} to ${o.zkConnString}${znode}\n`);
  return EXIT_OK;
}
