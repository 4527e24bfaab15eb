import { ErrorCodes, FlumeError, RateLimitedLog, defineSinkProcessor, opt, type Context, type Logger, type OptionProblem, type Sink, type SinkProcessor, type Status } from '../plugin-api/index.js';

export const options = {
  maxpenalty: opt.duration(30000, 'Longest time (ms) a failed sink is left out before it is tried again.', { unit: 'ms', min: 0, max: 86_400_000 }),
};

/** Flume's FAILURE_PENALTY: the back-off unit, doubled on every sequential failure. */
const FAILURE_PENALTY_MS = 1000;

/** Java's String.hashCode. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The order in which a java.util.HashMap<String, ?> (default capacity and load
 * factor) filled in `keys` order iterates: by bucket of the spread hash, then by
 * insertion. Flume hands out implicit priorities in this order.
 */
export function javaHashMapOrder(keys: readonly string[]): string[] {
  let cap = 16;
  while (keys.length > cap * 0.75) cap *= 2;
  const bucket = (k: string): number => {
    const h = javaHash(k);
    return (h ^ (h >>> 16)) & (cap - 1);
  };
  return keys
    .map((k, i) => ({ k, i, b: bucket(k) }))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((e) => e.k);
}

/** `priority.<sink>` keys, checked: each must be an integer. */
function readPriorities(ctx: Context): { priorities: Map<string, number>; problems: OptionProblem[] } {
  const priorities = new Map<string, number>();
  const problems: OptionProblem[] = [];
  for (const k of ctx.keys()) {
    if (!k.startsWith('priority.')) continue;
    const v = ctx.getString(k) ?? '';
    if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: k, message: `${ctx.fullKey(k)}: expected an integer, got "${v}"` });
    } else priorities.set(k.slice('priority.'.length), Number(v));
  }
  return { priorities, problems };
}

interface FailedSink {
  readonly sink: Sink;
  readonly priority: number;
  sequentialFailures: number;
  refresh: number;
}

/**
 * Flume's FailoverSinkProcessor. The live sink with the highest priority does the
 * work. When it throws, it goes to the failed list for min(maxpenalty, 2 s) and the
 * same call moves on to the next live sink. A failed sink whose penalty is over is
 * tried first on the next call: READY puts it back among the live sinks (so work
 * returns to it when it has the highest priority), BACKOFF leaves it on the list to be
 * tried again, and a throw doubles its penalty (4 s, 8 s, ... up to maxpenalty).
 * When every sink has failed the call throws and the events stay in the channel.
 */
export class FailoverSinkProcessor implements SinkProcessor {
  /** Warnings that can repeat per event, batch, retry or connection: first logged, then counted. */
  private readonly failures: RateLimitedLog;
  /** Live sinks by priority, highest first. */
  private readonly live: Array<{ priority: number; sink: Sink }> = [];
  /** Failed sinks, earliest refresh first. */
  private readonly failed: FailedSink[] = [];
  private active: Sink | undefined;

  constructor(
    readonly sinks: readonly Sink[],
    priorities: ReadonlyMap<string, number>,
    private readonly maxPenalty: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.failures = new RateLimitedLog(this.logger);
    const byName = new Map(sinks.map((s) => [s.name, s] as const));
    let nextPrio = 0;
    for (const name of javaHashMapOrder(sinks.map((s) => s.name))) {
      const priority = priorities.get(name) ?? --nextPrio;
      const taken = this.live.find((l) => l.priority === priority);
      if (taken) {
        logger.warn(`Sink ${name} not added to FailoverSinkProcessor as its priority ${priority} duplicates that of sink ${taken.sink.name}; it will never run`);
        continue;
      }
      this.live.push({ priority, sink: byName.get(name)! });
    }
    this.live.sort((a, b) => b.priority - a.priority);
    this.active = this.live[0]?.sink;
  }

  /** The sink doing the work now (undefined when all have failed). */
  get activeSink(): Sink | undefined {
    return this.active;
  }

  async start(): Promise<void> {
    for (const s of this.sinks) await s.start();
  }

  async stop(): Promise<void> {
    for (const s of this.sinks) await s.stop();
  }

  async process(): Promise<Status> {
    const now = this.now();
    while (this.failed.length > 0 && this.failed[0]!.refresh < now) {
      const cur = this.failed.shift()!;
      try {
        const status = await cur.sink.process();
        if (status === 'READY') {
          this.addLive(cur.priority, cur.sink);
          this.active = this.live[0]!.sink;
          this.logger.info(`Sink ${cur.sink.name} was recovered from the fail list`);
        } else {
          this.addFailed(cur);
        }
        return status;
      } catch (err) {
        cur.sequentialFailures++;
        cur.refresh = this.now() + this.penalty(cur.sequentialFailures);
        this.addFailed(cur);
        this.failures.warn(`again:${cur.sink.name}`, `Sink ${cur.sink.name} failed again (${(err as Error).message}); next try in ${cur.refresh - this.now()} ms`);
      }
    }
    while (this.active) {
      const sink = this.active;
      try {
        return await sink.process();
      } catch (err) {
        this.failures.warn(`failed:${sink.name}`, `Sink ${sink.name} failed and has been sent to failover list: ${(err as Error).message}`);
        this.active = this.moveActiveToDead();
      }
    }
    throw new FlumeError(ErrorCodes.SINK_DELIVERY, 'All sinks failed to process, nothing left to failover to');
  }

  private penalty(sequentialFailures: number): number {
    // Flume computes (1 << n) * 1000 in 32-bit ints, which overflows after 21
    // failures and stops the back-off; here the exponent is capped instead.
    return Math.min(this.maxPenalty, 2 ** Math.min(sequentialFailures, 40) * FAILURE_PENALTY_MS);
  }

  private moveActiveToDead(): Sink | undefined {
    const top = this.live.shift()!;
    this.addFailed({ sink: top.sink, priority: top.priority, sequentialFailures: 1, refresh: this.now() + this.penalty(1) });
    return this.live[0]?.sink;
  }

  private addLive(priority: number, sink: Sink): void {
    const i = this.live.findIndex((l) => l.priority <= priority);
    if (i >= 0 && this.live[i]!.priority === priority) this.live[i] = { priority, sink };
    else if (i < 0) this.live.push({ priority, sink });
    else this.live.splice(i, 0, { priority, sink });
  }

  private addFailed(f: FailedSink): void {
    const i = this.failed.findIndex((x) => x.refresh > f.refresh);
    if (i < 0) this.failed.push(f);
    else this.failed.splice(i, 0, f);
  }
}

export default defineSinkProcessor({
  type: 'failover',
  aliases: ['org.apache.flume.sink.FailoverSinkProcessor'],
  description: 'Sends all work to the highest-priority sink that works, failing over to the next one.',
  options,
  prefixes: ['priority.'],
  minSinks: 1,
  // `scope` holds the group's sinks: a priority for a sink outside the group is reported.
  validate: (_o, ctx, _registry, scope?: { sinks?: readonly string[] }) => {
    const { priorities, problems } = readPriorities(ctx);
    for (const s of priorities.keys()) {
      if (scope?.sinks !== undefined && !scope.sinks.includes(s)) {
        problems.push({
          severity: 'warning',
          code: ErrorCodes.CONFIG_UNKNOWN_KEY,
          key: `priority.${s}`,
          message: `${ctx.fullKey(`priority.${s}`)}: sink "${s}" is not in this sink group (${scope.sinks.join(' ')}); ignored`,
        });
      }
    }
    return problems;
  },
  create: ({ name, sinks, options: o, context, logger }) => {
    const { priorities } = readPriorities(context);
    for (const s of priorities.keys()) {
      if (!sinks.some((k) => k.name === s)) logger.warn(`${context.fullKey(`priority.${s}`)}: sink "${s}" is not in sink group ${name}; ignored`);
    }
    return new FailoverSinkProcessor(sinks, priorities, o.maxpenalty, logger);
  },
});
