import { Agent } from '../core/agent.js';
import { formatDiagnostic, sortDiagnostics } from '../config/diagnostics.js';
import { loadJob } from '../config/load.js';
import { createLogger, loggingSettings } from './logging.js';
import { buildRegistry } from './setup.js';
import { startMonitoring } from '../monitoring/index.js';
import type { Reporter } from '../core/component.js';
import { flowGraph } from '../monitoring/graph.js';
import type { AgentCliOptions } from './main.js';

export interface RunAgentOptions extends AgentCliOptions {
  sysProps: Record<string, string>;
  jvmFlags: string[];
}

function fail(line: string): number {
  process.stderr.write(`flume-ng: ${line}\n`);
  return 1;
}

/** `flume-ng agent`: load, check, start; stop in order on SIGINT/SIGTERM. */
export async function runAgent(o: RunAgentOptions): Promise<number> {
  if (o.confFile.length === 0) return fail('no job file given: use -f <file> (e.g. -f jobs/flume-netcat-logger.conf)');
  const logger = createLogger(loggingSettings(o.conf, o.sysProps));
  if (o.jvmFlags.length > 0) logger.debug(`ignoring JVM flags: ${o.jvmFlags.join(' ')}`);
  if (o.classpath) logger.debug(`ignoring --classpath ${o.classpath}: plugins are npm packages`);
  if (!o.conf) logger.warn('No configuration directory set! Use --conf <dir> to override.');

  try {
    let registry;
    try {
      registry = await buildRegistry({ conf: o.conf, pluginsPath: o.pluginsPath ?? o.pluginPath, confFile: o.confFile, values: Object.values(o.sysProps) }, logger);
    } catch (err) {
      return fail((err as Error).message);
    }
    const { plan, diagnostics, settings } = loadJob(o.confFile, o.name, registry);
    for (const d of sortDiagnostics(diagnostics)) {
      process.stderr.write(formatDiagnostic(d) + '\n');
      if (d.severity === 'warning') logger.warn(formatDiagnostic(d));
    }
    if (!plan) {
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      return fail(`agent ${o.name} not started: ${errors} error${errors === 1 ? '' : 's'} in ${o.confFile.join(', ')}`);
    }
    if (o.dryrun) {
      process.stdout.write(`agent ${plan.name}: sources ${plan.sources.map((s) => `${s.name}(${s.def.type})`).join(' ') || '-'}; ` +
        `channels ${plan.channels.map((c) => `${c.name}(${c.def.type})`).join(' ')}; sinks ${plan.sinks.map((k) => `${k.name}(${k.def.type})`).join(' ') || '-'}\n`);
      return 0;
    }

    // Listen for the stop signals before anything starts: a signal with no listener kills
    // the process outright, so one arriving during start-up would skip the orderly stop.
    const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    const graceMs = Number(o.sysProps['flume.shutdown.grace.ms'] ?? 5000);
    let agent: Agent;
    try {
      agent = new Agent(plan, registry, logger, { drainGraceMs: Number.isFinite(graceMs) ? graceMs : 5000 });
    } catch (err) {
      logger.error((err as Error).message);
      return fail(`agent ${o.name} not started: ${(err as Error).message}`);
    }
    try {
      await agent.start();
    } catch (err) {
      // start() logged the reason before stopping what had started.
      return fail(`agent ${o.name} not started: ${(err as Error).message}`);
    }

    let monitor: Reporter | undefined;
    try {
      const monitored = { name: agent.name, counterGroups: () => agent.counterGroups(), health: () => agent.health(), graph: flowGraph(plan) };
      monitor = await startMonitoring({ ...settings, ...o.sysProps }, monitored, registry, logger);
    } catch (err) {
      await agent.stop(0);
      return fail(`agent ${o.name} not started: ${(err as Error).message}`);
    }

    const signal = await stopSignal;
    logger.info(`Received ${signal}: stopping agent ${o.name}`);
    // A second signal while draining means "now".
    const hurry = (): void => process.exit(130);
    process.once('SIGINT', hurry);
    process.once('SIGTERM', hurry);
    await agent.stop(graceMs);
    await monitor?.stop();
    return 0;
  } finally {
    await logger.close();
  }
}
