import type { AgentPlan, Planned } from '../config/plan.js';
import type { ComponentLookup, InitBase } from './component.js';
import type { Channel } from './channel.js';
import { ChannelProcessor } from './channel-processor.js';
import { SourceCounter, SinkCounter, type CounterGroup } from './counters.js';
import type { Logger } from './logger.js';
import type { OptionsSpec, Options } from './options.js';
import { DefaultSinkProcessor, SinkRunner, type Sink } from './sink.js';
import { PollableSourceRunner, type Source } from './source.js';
import { FlumeError, ErrorCodes } from './errors.js';
import { setLongTimeout } from './timers.js';

/** Flume's default shutdown grace period (flume.shutdown.grace.ms). */
export const DEFAULT_GRACE_MS = 5000;

/**
 * Once the grace period ended, how long abandoned work may take to roll back and
 * close before the stop returns anyway: a component that ignores the abort never
 * holds the process.
 */
export const ABANDON_MS = 1000;

/** Events a channel still held when the agent stopped. */
export interface HeldEvents {
  channel: string;
  events: number;
  /** A durable channel keeps them for the next start; a non-durable one loses them. */
  durable: boolean;
}

/** What a stop left behind. */
export interface StopReport {
  /** True when the grace period ended before every component stopped. */
  abandoned: boolean;
  /** Every channel that still held events. */
  held: HeldEvents[];
  /** Events left in non-durable channels: accepted upstream and now lost. */
  lost: number;
}

export interface AgentOptions {
  /** How long the whole stop may take before what is in flight is abandoned (ms). */
  drainGraceMs?: number;
  /** Wait after a failed sink delivery (ms); Flume's is 5000. */
  sinkFailureBackoffMs?: number;
}

interface RunningSource {
  name: string;
  source: Source;
  processor: ChannelProcessor;
  runner?: PollableSourceRunner;
}

/**
 * The running graph of one agent. Starts channels, then sinks, then sources; stops
 * in reverse: sources stop accepting, sinks drain what they can within the grace
 * period, channels close.
 */
export class Agent {
  readonly channels = new Map<string, Channel>();
  readonly sinks = new Map<string, Sink>();
  readonly counters: CounterGroup[] = [];
  private readonly sources: RunningSource[] = [];
  private readonly sinkRunners: SinkRunner[] = [];
  private started = false;
  private stopping: Promise<StopReport> | undefined;
  private channelsStopped: Promise<void> | undefined;

  constructor(
    readonly plan: AgentPlan,
    private readonly registry: ComponentLookup,
    private readonly logger: Logger,
    private readonly opts: AgentOptions = {},
  ) {
    this.build();
  }

  get name(): string {
    return this.plan.name;
  }

  private init<S extends OptionsSpec>(p: Planned<{ type: string; aliases?: readonly string[] }>, label: string): InitBase<S> {
    // Log under the Java class name Flume users know, when the component has one.
    const loggerName = [p.def.type, ...(p.def.aliases ?? [])].find((a) => a.includes('.')) ?? `flume-ts.${label}.${p.def.type}`;
    return {
      name: p.name,
      options: p.options as Options<S>,
      context: p.context,
      logger: this.logger.child(`${loggerName}`),
      registry: this.registry,
    };
  }

  private build(): void {
    for (const c of this.plan.channels) {
      const ch = c.def.create(this.init(c, 'channel'));
      this.channels.set(c.name, ch);
      this.counters.push(ch.counter);
    }
    for (const s of this.plan.sources) {
      const channels = s.channels.map((n) => this.channels.get(n)!);
      const selector = s.selector.def.create({ ...this.init(s.selector, 'selector'), name: s.name, channels });
      const interceptors = s.interceptors.map((i) => i.def.create(this.init(i, 'interceptor')));
      const processor = new ChannelProcessor(selector, interceptors, this.logger.child(`flume-ts.source.${s.name}.ChannelProcessor`));
      const counter = new SourceCounter(s.name);
      const source = s.def.create({ ...this.init(s, 'source'), processor, counter });
      this.counters.push(counter);
      const rs: RunningSource = { name: s.name, source, processor };
      if (source.kind === 'pollable') rs.runner = new PollableSourceRunner(source, s.name, this.logger.child(`flume-ts.SourceRunner.${s.name}`));
      this.sources.push(rs);
    }
    for (const k of this.plan.sinks) {
      const counter = new SinkCounter(k.name);
      const sink = k.def.create({ ...this.init(k, 'sink'), channel: this.channels.get(k.channel)!, counter });
      this.sinks.set(k.name, sink);
      this.counters.push(counter);
    }
    const backoff = this.opts.sinkFailureBackoffMs;
    const grouped = new Set<string>();
    for (const g of this.plan.sinkgroups) {
      const sinks = g.sinks.map((n) => this.sinks.get(n)!).filter(Boolean);
      g.sinks.forEach((n) => grouped.add(n));
      const processor = g.processor.def.create({ ...this.init(g.processor, 'processor'), name: g.name, sinks });
      this.sinkRunners.push(new SinkRunner(processor, g.name, this.logger.child(`flume-ts.SinkRunner.${g.name}`), backoff));
    }
    for (const [name, sink] of this.sinks) {
      if (grouped.has(name)) continue;
      this.sinkRunners.push(new SinkRunner(new DefaultSinkProcessor(sink), name, this.logger.child(`flume-ts.SinkRunner.${name}`), backoff));
    }
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    try {
      for (const c of this.counters) c.start();
      for (const [name, ch] of this.channels) await this.startOne(`channel ${name}`, () => ch.start());
      for (const r of this.sinkRunners) await this.startOne(`sink runner ${r.name}`, () => r.start());
      for (const s of this.sources) {
        await s.processor.initialize();
        await this.startOne(`source ${s.name}`, () => s.source.start());
        s.runner?.start();
      }
    } catch (err) {
      await this.stop(0).catch(() => {});
      throw err;
    }
    this.logger.info(`Agent ${this.name} started: ${this.sources.length} source(s), ${this.channels.size} channel(s), ${this.sinks.size} sink(s)`);
  }

  private async startOne(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      throw new FlumeError(ErrorCodes.COMPONENT_START, `${what} failed to start: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Stops in order within one deadline, `graceMs` from now: sources stop accepting
   * (storing what they already read), sinks drain their channels, channels close.
   * When the deadline passes, everything still in flight is abandoned: the channels
   * stop (commits waiting for room fail, so nothing more is acknowledged), sinks stop
   * (their in-flight deliveries fail and roll back, so a durable channel keeps the
   * events), sources stop storing queued input; the stop returns at the latest
   * ABANDON_MS later. Calling it again returns the same stop.
   */
  stop(graceMs = this.opts.drainGraceMs ?? DEFAULT_GRACE_MS): Promise<StopReport> {
    this.stopping ??= this.stopWithin(graceMs);
    return this.stopping;
  }

  /** Events each channel holds right now (for a report when the process must exit at once). */
  held(): HeldEvents[] {
    const out: HeldEvents[] = [];
    for (const [name, ch] of this.channels) {
      const events = ch.size + (ch.takesInFlight ?? 0);
      if (events > 0) out.push({ channel: name, events, durable: ch.durable === true });
    }
    return out;
  }

  private async stopWithin(graceMs: number): Promise<StopReport> {
    const abort = new AbortController();
    const signal = abort.signal;
    const grace = setLongTimeout(() => abort.abort(), graceMs);
    let hardTimer: NodeJS.Timeout | undefined;
    const hard = new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => {
        this.logger.warn(`Agent ${this.name}: shutdown grace period of ${graceMs} ms ended; abandoning what is still in flight`);
        void this.stopChannels();
        hardTimer = setTimeout(resolve, ABANDON_MS);
      }, { once: true });
    });
    // Each step ends when it is done or ABANDON_MS after the deadline, whichever comes first.
    const bounded = (p: Promise<unknown>): Promise<void> => Promise.race([p.then(() => undefined), hard]);

    await bounded(Promise.all(this.sources.map((s) => this.stopSource(s, signal))));
    await bounded(Promise.all(this.sinkRunners.map((r) => safely(this.logger, `sink runner ${r.name}`, () => r.stop(signal)))));
    await bounded(this.stopChannels());
    const abandoned = signal.aborted;
    grace.clear();
    clearTimeout(hardTimer);

    const held = this.held();
    let lost = 0;
    for (const h of held) {
      if (h.durable) this.logger.info(`channel ${h.channel} keeps ${h.events} event(s) for the next start`);
      else {
        lost += h.events;
        this.logger.warn(`channel ${h.channel} stopped with ${h.events} event(s) not delivered`);
      }
    }
    for (const c of this.counters) {
      c.stop();
      // As Flume's MonitoredCounterGroup.stop: what each component did, for the record.
      const counts = Object.entries(c.snapshot()).map(([k, v]) => `${k} == ${v}`).join(', ');
      this.logger.info(`Shutdown Metric for type: ${c.Type}, name: ${c.name}. ${counts}`);
    }
    this.logger.info(`Agent ${this.name} stopped`);
    return { abandoned, held, lost };
  }

  private async stopSource(s: RunningSource, signal: AbortSignal): Promise<void> {
    await s.runner?.stop(signal);
    await safely(this.logger, `source ${s.name}`, () => s.source.stop(signal));
    await safely(this.logger, `interceptors of ${s.name}`, () => s.processor.close());
  }

  private stopChannels(): Promise<void> {
    this.channelsStopped ??= Promise.all(
      [...this.channels].map(([name, ch]) => safely(this.logger, `channel ${name}`, () => ch.stop())),
    ).then(() => undefined);
    return this.channelsStopped;
  }
}

async function safely(logger: Logger, what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    logger.error(`error stopping ${what}: ${(err as Error).message}`);
  }
}
