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
import type { ComponentHealth, HealthReport } from './health.js';

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
  private running = false;

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
      const processor = new ChannelProcessor(selector, interceptors, this.logger.child(`flume-ts.source.${s.name}.ChannelProcessor`), s.name);
      const counter = new SourceCounter(s.name);
      const source = s.def.create({ ...this.init(s, 'source'), processor, counter });
      this.counters.push(counter, processor.counters);
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
      for (const [name, ch] of this.channels) await this.startOne(`channel ${name}`, () => ch.start(), this.plan.channels.filter((c) => c.name === name));
      for (const r of this.sinkRunners) await this.startOne(`sink runner ${r.name}`, () => r.start(), this.sinksOf(r.name));
      for (const s of this.sources) {
        await s.processor.initialize();
        await this.startOne(`source ${s.name}`, () => s.source.start(), this.plan.sources.filter((p) => p.name === s.name));
        s.runner?.start();
      }
    } catch (err) {
      // The reason first, then the stop it causes, so the log reads in order.
      this.logger.error((err as Error).message);
      await this.stop(0).catch(() => {});
      throw err;
    }
    this.running = true;
    this.logger.info(`Agent ${this.name} started: ${this.sources.length} source(s), ${this.channels.size} channel(s), ${this.sinks.size} sink(s)`);
  }

  /** The planned sinks a runner drives: the sink of its name, or the members of its group. */
  private sinksOf(runner: string): Planned<{ type: string }>[] {
    const group = this.plan.sinkgroups.find((g) => g.name === runner);
    return this.plan.sinks.filter((k) => (group ? group.sinks.includes(k.name) : k.name === runner));
  }

  /**
   * Starts one component; a failure names the component, the key it is about and
   * where that key is written (`job.conf:6: a1.sources.r1.port: source r1 failed to
   * start: ... address already in use`).
   */
  private async startOne(what: string, fn: () => Promise<void>, planned: readonly Planned<{ type: string }>[] = []): Promise<void> {
    try {
      await fn();
    } catch (err) {
      const e = err as Error & { key?: string };
      // In a sink group, the sink whose name the error carries (else the first).
      const p = planned.find((c) => new RegExp(`\\b${c.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(e.message)) ?? planned[0];
      let key = e.key;
      // A listen failure is about bind or port, when the component has such a key.
      const declared = (p?.def as { options?: Record<string, unknown> } | undefined)?.options ?? {};
      for (let c: unknown = e; key === undefined && c instanceof Error; c = c.cause) {
        const code = (c as { code?: unknown }).code;
        const k = typeof code === 'string' ? KEY_OF_ERROR[code] : undefined;
        if (k !== undefined && k in declared) key = k;
      }
      let where = '';
      if (p && key) {
        const o = p.context.origin(key);
        const full = o?.key ?? p.context.fullKey(key);
        where = `${o ? `${o.file}:${o.line}: ` : ''}${e.message.includes(full) ? '' : `${full}: `}`;
      }
      throw new FlumeError(ErrorCodes.COMPONENT_START, `${where}${what} failed to start: ${e.message}`, { cause: err });
    }
  }

  /** Stop in order; sinks may drain for `graceMs` before they are stopped. */
  async stop(graceMs = this.opts.drainGraceMs ?? 5000): Promise<void> {
    this.running = false;
    for (const s of this.sources) {
      await s.runner?.stop();
      await safely(this.logger, `source ${s.name}`, () => s.source.stop());
      await safely(this.logger, `interceptors of ${s.name}`, () => s.processor.close());
    }
    await Promise.all(this.sinkRunners.map((r) => safely(this.logger, `sink runner ${r.name}`, () => r.stop(graceMs))));
    for (const [name, ch] of this.channels) {
      await safely(this.logger, `channel ${name}`, () => ch.stop());
      if (ch.size > 0) this.logger.warn(`channel ${name} stopped with ${ch.size} event(s) not delivered`);
    }
    for (const c of this.counters) c.stop();
    this.logger.info(`Agent ${this.name} stopped`);
  }

  /** Every counter group, for monitoring. */
  counterGroups(): readonly CounterGroup[] {
    return this.counters;
  }

  /** UP while the agent runs and no sink's last delivery failed. */
  health(): HealthReport {
    const components: Record<string, ComponentHealth> = {};
    let up = this.running;
    for (const r of this.sinkRunners) {
      const err = r.lastError;
      components[`SINK_RUNNER.${r.name}`] = err ? { status: 'DOWN', error: err.message } : { status: this.running ? 'UP' : 'DOWN' };
      if (err) up = false;
    }
    for (const s of this.sources) components[`SOURCE.${s.name}`] = { status: this.running ? 'UP' : 'DOWN' };
    for (const name of this.channels.keys()) components[`CHANNEL.${name}`] = { status: this.running ? 'UP' : 'DOWN' };
    return { status: up ? 'UP' : 'DOWN', agent: this.name, components };
  }
}

/** The key a start error is about, by its system error code (listen and bind failures). */
const KEY_OF_ERROR: Record<string, string> = {
  EADDRINUSE: 'port',
  EACCES: 'port',
  EADDRNOTAVAIL: 'bind',
  ENOTFOUND: 'bind',
  EAI_AGAIN: 'bind',
  EAFNOSUPPORT: 'bind',
  EINVAL: 'bind',
};

async function safely(logger: Logger, what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    logger.error(`error stopping ${what}: ${(err as Error).message}`);
  }
}
