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

export interface AgentOptions {
  /** How long sinks may keep draining their channels on stop (ms). */
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

  /** Stop in order; sinks may drain for `graceMs` before they are stopped. */
  async stop(graceMs = this.opts.drainGraceMs ?? 5000): Promise<void> {
    for (const s of this.sources) {
      await s.runner?.stop();
      await safely(this.logger, `source ${s.name}`, () => s.source.stop());
      await safely(this.logger, `interceptors of ${s.name}`, () => s.processor.close());
    }
    await Promise.all(this.sinkRunners.map((r) => safely(this.logger, `sink runner ${r.name}`, () => r.stop(graceMs))));
    for (const [name, ch] of this.channels) {
      await safely(this.logger, `channel ${name}`, () => ch.stop());
      if (ch.size > 0 && ch.durable) this.logger.info(`channel ${name} stopped with ${ch.size} event(s) kept on disk for the next start`);
      else if (ch.size > 0) this.logger.warn(`channel ${name} stopped with ${ch.size} event(s) not delivered`);
    }
    for (const c of this.counters) c.stop();
    this.logger.info(`Agent ${this.name} stopped`);
  }
}

async function safely(logger: Logger, what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    logger.error(`error stopping ${what}: ${(err as Error).message}`);
  }
}
