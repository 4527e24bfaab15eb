// The built-in monitoring reporters, defined with the API reporter plugins use.
import { Context } from '../core/context.js';
import { ConfigError, ErrorCodes } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { resolveOptions, throwOnErrors, type OptionsSpec } from '../core/options.js';
import type { ComponentLookup, Reporter } from '../core/component.js';
import type { MonitoredAgent } from '../core/health.js';
import { didYouMean } from '../config/suggest.js';
import { ganglia } from './ganglia.js';
import { http, prometheus } from './http.js';

export default [http, prometheus, ganglia];

/**
 * Starts the reporter `flume.monitoring.type` names (a built-in or a plugin's), its
 * options being the other `flume.monitoring.*` settings (from -D flags, or from the job
 * file for users who cannot pass flags; the flags win). Undefined when no type is set.
 */
export async function startMonitoring(
  settings: Readonly<Record<string, string>>,
  agent: MonitoredAgent,
  registry: ComponentLookup & { names(kind: 'reporter'): string[] },
  logger: Logger,
): Promise<Reporter | undefined> {
  const props = new Map<string, string>();
  for (const [k, v] of Object.entries(settings)) if (k.startsWith('flume.monitoring.')) props.set(k.slice('flume.monitoring.'.length), v.trim());
  const type = props.get('type');
  // Scripts written for Flume pass `none` to turn monitoring off.
  if (!type || type.toLowerCase() === 'none') return undefined;
  props.delete('type');
  const def = registry.lookup('reporter', type);
  if (!def) {
    throw new ConfigError(
      ErrorCodes.CONFIG_UNKNOWN_TYPE,
      `flume.monitoring.type: unknown reporter "${type}"${didYouMean(type, registry.names('reporter'))}; ` +
        `known: ${registry
          .names('reporter')
          .filter((n) => !n.includes('.'))
          .join(', ')} (or a plugin's)`,
      'flume.monitoring.type',
    );
  }
  const ctx = new Context(props, new Map(), 'flume.monitoring.');
  const { options, problems } = resolveOptions(def.options as OptionsSpec, ctx);
  if (!problems.some((p) => p.severity === 'error') && def.validate) problems.push(...def.validate(options as never, ctx, registry));
  throwOnErrors(ctx, problems);
  const reporter = await def.create({ name: def.type, options: options as never, context: ctx, logger: logger.child(`flume-ts.monitoring.${def.type}`), registry, agent });
  logger.info(`Monitoring: ${reporter.description}`);
  return reporter;
}
