import {
  ErrorCodes,
  FlumeError,
  RateLimitedLog,
  defineSinkProcessor,
  opt,
  resolveOptions,
  specKeys,
  throwOnErrors,
  type ComponentLookup,
  type Context,
  type Logger,
  type OptionProblem,
  type OptionsSpec,
  type Sink,
  type SinkProcessor,
  type Status,
} from '../plugin-api/index.js';
import { DEFAULT_MAX_TIMEOUT_MS, RandomSelector, RoundRobinSelector, lookupSinkSelector, type SinkSelector } from './sink-selector.js';

export const options = {
  backoff: opt.boolean(false, 'Leave a failed sink out for a growing time (2 s, 4 s, ... up to selector.maxTimeOut).'),
  selector: opt.string('round_robin', 'Order of the sinks: round_robin, random, or the type of a sink selector plugin.'),
  'selector.maxTimeOut': opt.duration(DEFAULT_MAX_TIMEOUT_MS, 'Longest back-off (ms) of a failed sink; 0 means the default.', {
    unit: 'ms',
    min: 0,
    max: 86_400_000,
    aliases: ['selector.maxTimeout'],
  }),
};

const BUILTIN = ['round_robin', 'random'];
const SELECTOR_KEYS = ['selector.maxTimeOut', 'selector.maxTimeout'];

/** Checks `selector` and the keys under `selector.`; problems name the key. */
function checkSelector(selector: string, ctx: Context, registry: ComponentLookup): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const sub = ctx.subProperties('selector.');
  if (BUILTIN.includes(selector.toLowerCase())) {
    for (const k of ctx.keys()) {
      if (k.startsWith('selector.') && !SELECTOR_KEYS.includes(k)) {
        problems.push({
          severity: 'warning',
          code: ErrorCodes.CONFIG_UNKNOWN_KEY,
          key: k,
          message: `${ctx.fullKey(k)}: unknown key for the ${selector} sink selector, ignored (known: selector.maxTimeOut)`,
        });
      }
    }
    return problems;
  }
  const def = lookupSinkSelector(registry, selector);
  if (!def) {
    problems.push({
      severity: 'error',
      code: ErrorCodes.CONFIG_UNKNOWN_TYPE,
      key: 'selector',
      message: `${ctx.fullKey('selector')}: unknown sink selector "${selector}"; use round_robin, random, or the type of a sink selector plugin`,
    });
    return problems;
  }
  const { options: so, problems: sp } = resolveOptions(def.options, sub);
  problems.push(...sp.map((p) => ({ ...p, key: `selector.${p.key}` })));
  if (sp.length === 0 && def.validate) problems.push(...def.validate(so, sub, registry).map((p) => ({ ...p, key: `selector.${p.key}` })));
  const known = new Set([...specKeys(def.options), 'maxTimeOut', 'maxTimeout']);
  for (const k of sub.keys()) {
    if (!known.has(k))
      problems.push({ severity: 'warning', code: ErrorCodes.CONFIG_UNKNOWN_KEY, key: `selector.${k}`, message: `${sub.fullKey(k)}: unknown key for sink selector ${def.type}, ignored` });
  }
  return problems;
}

/**
 * Flume's LoadBalancingSinkProcessor. Each call asks the selector for an order and
 * tries the sinks in it: the first that returns (READY or BACKOFF) ends the call; one
 * that throws is reported to the selector (which, with backoff, leaves it out for a
 * while) and the next is tried. When every sink threw, the call throws and the
 * events stay in the channel.
 */
export class LoadBalancingSinkProcessor implements SinkProcessor {
  /** Warnings that can repeat per event, batch, retry or connection: first logged, then counted. */
  private readonly failures: RateLimitedLog;
  constructor(
    readonly sinks: readonly Sink[],
    private readonly selector: SinkSelector,
    private readonly logger: Logger,
  ) {
    this.failures = new RateLimitedLog(this.logger);
  }

  async start(): Promise<void> {
    for (const s of this.sinks) await s.start();
    await this.selector.start?.();
  }

  async stop(): Promise<void> {
    for (const s of this.sinks) await s.stop();
    await this.selector.stop?.();
  }

  async process(): Promise<Status> {
    for (const sink of this.selector.order()) {
      try {
        return await sink.process();
      } catch (err) {
        this.selector.informSinkFailed(sink);
        this.failures.warn(`consume:${sink.name}`, `Sink ${sink.name} failed to consume event (${(err as Error).message}). Attempting next sink if available.`);
      }
    }
    throw new FlumeError(ErrorCodes.SINK_DELIVERY, 'All configured sinks have failed');
  }
}

export default defineSinkProcessor({
  type: 'load_balance',
  aliases: ['org.apache.flume.sink.LoadBalancingSinkProcessor'],
  description: 'Spreads the work of one channel over several sinks, skipping failed ones.',
  options,
  prefixes: ['selector.'],
  minSinks: 2,
  validate: (o, ctx, registry) => checkSelector(o.selector, ctx, registry),
  create: ({ name, sinks, options: o, context, logger, registry }) => {
    // As Flume: 0 leaves the default in place.
    const maxTimeout = o['selector.maxTimeOut'] === 0 ? DEFAULT_MAX_TIMEOUT_MS : o['selector.maxTimeOut'];
    let selector: SinkSelector;
    switch (o.selector.toLowerCase()) {
      case 'round_robin':
        selector = new RoundRobinSelector(sinks, o.backoff, maxTimeout);
        break;
      case 'random':
        selector = new RandomSelector(sinks, o.backoff, maxTimeout);
        break;
      default: {
        const def = lookupSinkSelector(registry, o.selector);
        if (!def) throw context.error('selector', `unknown sink selector "${o.selector}"`, ErrorCodes.CONFIG_UNKNOWN_TYPE);
        const sub = context.subProperties('selector.');
        const { options: so, problems } = resolveOptions(def.options as OptionsSpec, sub);
        throwOnErrors(sub, problems);
        selector = def.create({ name, options: so, context: sub, logger, registry, sinks });
      }
    }
    return new LoadBalancingSinkProcessor(sinks, selector, logger);
  },
});
