import { Agent, DEFAULT_GRACE_MS, type HeldEvents } from '../core/agent.js';
import { formatDiagnostic, sortDiagnostics } from '../config/diagnostics.js';
import { loadJob } from '../config/load.js';
import { createLogger, loggingSettings } from './logging.js';
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

/** "c1: 12 event(s) lost, c2: 3 event(s) kept (durable)". */
function describeHeld(held: readonly HeldEvents[]): string {
  if (held.length === 0) return 'no events';
  return held.map((h) => `${h.channel}: ${h.events} event(s) ${h.durable ? 'kept (durable)' : 'lost'}`).join(', ');
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
      registry = await buildRegistry({ conf: o.conf, pluginsPath: o.pluginsPath ?? o.pluginPath }, logger);
    } catch (err) {
      return fail((err as Error).message);
    }
    const { plan, diagnostics } = loadJob(o.confFile, o.name, registry);
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

    const graceRaw = o.sysProps['flume.shutdown.grace.ms'];
    const graceMs = graceRaw === undefined ? DEFAULT_GRACE_MS : Number(graceRaw);
    if (!Number.isSafeInteger(graceMs) || graceMs < 0) {
      return fail(`-Dflume.shutdown.grace.ms=${graceRaw} is not a number of milliseconds (an integer, 0 or more)`);
    }
    let agent: Agent;
    try {
      agent = new Agent(plan, registry, logger, { drainGraceMs: graceMs });
      await agent.start();
    } catch (err) {
      logger.error((err as Error).message);
      return fail(`agent ${o.name} not started: ${(err as Error).message}`);
    }

    // One handler for the whole run, so there is no moment when a signal would find
    // Node's default (an exit without a word): the first stops the agent, a second one
    // means "now": say what is abandoned, then exit.
    let firstSignal: ((s: NodeJS.Signals) => void) | undefined;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (firstSignal) {
        const first = firstSignal;
        firstSignal = undefined;
        first(sig);
        return;
      }
      const held = agent.held();
      const lost = held.some((h) => !h.durable);
      logger.error(`Received a second ${sig}: exiting at once; abandoned ${describeHeld(held)}`);
      void logger.close().finally(() => process.exit(lost ? EXIT_EVENTS_LOST : EXIT_INTERRUPTED));
    };
    const signal = new Promise<NodeJS.Signals>((resolve) => (firstSignal = resolve));
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    logger.info(`Received ${await signal}: stopping agent ${o.name} (grace period ${graceMs} ms)`);
    const report = await agent.stop(graceMs);
    if (report.lost > 0) {
      logger.error(`Agent ${o.name} stopped with ${report.lost} acknowledged event(s) not delivered (${describeHeld(report.held)}); exit code ${EXIT_EVENTS_LOST}`);
      return EXIT_EVENTS_LOST;
    }
    return EXIT_OK;
  } finally {
    await logger.close();
  }
}
