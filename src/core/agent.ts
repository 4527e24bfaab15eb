import type { AgentPlan, Planned, SinkPlan, SourcePlan } from '../config/plan.js';
import type { ChannelDefinition, ComponentLookup, InitBase } from './component.js';
import type { Channel } from './channel.js';
import type { Context } from './context.js';
import { ChannelProcessor } from './channel-processor.js';
import { SourceCounter, SinkCounter, type CounterGroup } from './counters.js';
import type { Logger } from './logger.js';
import type { OptionsSpec, Options } from './options.js';
import { DefaultSinkProcessor, SinkRunner, type Sink } from './sink.js';
import { PollableSourceRunner, type Source } from './source.js';
import { FlumeError, ErrorCodes } from './errors.js';
import { setLongTimeout } from './timers.js';
import type { ComponentHealth, HealthReport } from './health.js';

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

/** What a reconfiguration did, per kind of component (names). */
export interface ReloadReport {
  kept: string[];
  restarted: string[];
  removed: string[];
  added: string[];
  /** Events lost with removed non-durable channels that still held them. */
  lost: number;
}

export interface AgentOptions {
  /** How long the whole stop may take before what is in flight is abandoned (ms). */
  drainGraceMs?: number;
  /** Wait after a failed sink delivery (ms); Flume's is 5000. */
  sinkFailureBackoffMs?: number;
}

interface ChannelUnit {
  plan: Planned<ChannelDefinition>;
  fp: string;
  channel: Channel;
}

interface SourceUnit {
  plan: SourcePlan;
  fp: string;
  source: Source;
  processor: ChannelProcessor;
  counter: SourceCounter;
  runner?: PollableSourceRunner;
}

/** A sink group, or a sink of its own: what one SinkRunner drives. */
interface RunnerUnit {
  name: string;
  fp: string;
  runner: SinkRunner;
  sinks: { plan: SinkPlan; sink: Sink; counter: SinkCounter }[];
}

/** A component's effective configuration: its type and every key it was given. */
function fingerprintOf(type: string, ctx: Context): string {
  return `${type}\n${ctx
    .keys()
    .sort()
    .map((k) => `${k}=${ctx.getString(k)}`)
    .join('\n')}`;
}

/**
 * The running graph of one agent. Starts channels, then sinks, then sources; stops
 * in reverse: sources stop accepting, sinks drain what they can within the grace
 * period, channels close. `reconfigure()` applies a new plan as a difference:
 * components whose effective configuration did not change keep running untouched.
 */
export class Agent {
  private readonly channelUnits = new Map<string, ChannelUnit>();
  private readonly sourceUnits = new Map<string, SourceUnit>();
  private readonly runnerUnits = new Map<string, RunnerUnit>();
  private started = false;
  private running = false;
  private stopping: Promise<StopReport> | undefined;
  private channelsStopped: Promise<void> | undefined;
  private reconfiguring: Promise<ReloadReport> | undefined;
  private current: AgentPlan;

  constructor(
    plan: AgentPlan,
    private readonly registry: ComponentLookup,
    private readonly logger: Logger,
    private readonly opts: AgentOptions = {},
  ) {
    this.current = plan;
    for (const c of plan.channels) this.channelUnits.set(c.name, this.buildChannel(c));
    for (const r of this.runnerPlans(plan)) this.runnerUnits.set(r.name, this.buildRunner(r));
    for (const s of plan.sources) this.sourceUnits.set(s.name, this.buildSource(s));
  }

  get name(): string {
    return this.current.name;
  }

  /** The plan running now (the last one applied). */
  get plan(): AgentPlan {
    return this.current;
  }

  get channels(): ReadonlyMap<string, Channel> {
    return new Map([...this.channelUnits].map(([n, u]) => [n, u.channel]));
  }

  get sinks(): ReadonlyMap<string, Sink> {
    const out = new Map<string, Sink>();
    for (const r of this.runnerUnits.values()) for (const k of r.sinks) out.set(k.plan.name, k.sink);
    return out;
  }

  /** Every counter group, for monitoring. */
  counterGroups(): CounterGroup[] {
    const out: CounterGroup[] = [];
    for (const s of this.sourceUnits.values()) out.push(s.counter, s.processor.counters);
    for (const c of this.channelUnits.values()) out.push(c.channel.counter);
    for (const r of this.runnerUnits.values()) for (const k of r.sinks) out.push(k.counter);
    return out;
  }

  get counters(): CounterGroup[] {
    return this.counterGroups();
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

  private buildChannel(c: Planned<ChannelDefinition>): ChannelUnit {
    return { plan: c, fp: fingerprintOf(c.def.type, c.context), channel: c.def.create(this.init(c, 'channel')) };
  }

  /** A source is rebuilt when it or one of its channels changed (it holds the channel objects). */
  private sourceFp(s: SourcePlan, channelFp: (name: string) => string | undefined): string {
    return `${fingerprintOf(s.def.type, s.context)}\n${s.channels.map((c) => `[${c}] ${channelFp(c)}`).join('\n')}`;
  }

  private buildSource(s: SourcePlan): SourceUnit {
    const channels = s.channels.map((n) => this.channelUnits.get(n)!.channel);
    const selector = s.selector.def.create({ ...this.init(s.selector, 'selector'), name: s.name, channels });
    const interceptors = s.interceptors.map((i) => i.def.create(this.init(i, 'interceptor')));
    const processor = new ChannelProcessor(selector, interceptors, this.logger.child(`flume-ts.source.${s.name}.ChannelProcessor`), s.name);
    const counter = new SourceCounter(s.name);
    const source = s.def.create({ ...this.init(s, 'source'), processor, counter });
    const unit: SourceUnit = { plan: s, fp: this.sourceFp(s, (n) => this.channelUnits.get(n)?.fp), source, processor, counter };
    if (source.kind === 'pollable') unit.runner = new PollableSourceRunner(source, s.name, this.logger.child(`flume-ts.SourceRunner.${s.name}`));
    return unit;
  }

  /** The runners a plan needs: each sink group, and each sink in no group; with the fingerprint that decides whether a running one is kept. */
  private runnerPlans(
    plan: AgentPlan,
    channelFp: (name: string) => string | undefined = (n) => this.channelUnits.get(n)?.fp,
  ): { name: string; fp: string; group?: AgentPlan['sinkgroups'][number]; sinks: SinkPlan[] }[] {
    const sinkFp = (k: SinkPlan): string => `${fingerprintOf(k.def.type, k.context)}\n[${k.channel}] ${channelFp(k.channel)}`;
    const out: { name: string; fp: string; group?: AgentPlan['sinkgroups'][number]; sinks: SinkPlan[] }[] = [];
    const grouped = new Set<string>();
    for (const g of plan.sinkgroups) {
      const sinks = g.sinks.map((n) => plan.sinks.find((k) => k.name === n)).filter((k): k is SinkPlan => k !== undefined);
      g.sinks.forEach((n) => grouped.add(n));
      out.push({ name: g.name, group: g, sinks, fp: `group ${fingerprintOf(g.processor.def.type, g.processor.context)}\n${sinks.map((k) => `<${k.name}> ${sinkFp(k)}`).join('\n')}` });
    }
    for (const k of plan.sinks) if (!grouped.has(k.name)) out.push({ name: k.name, sinks: [k], fp: `sink ${sinkFp(k)}` });
    return out;
  }

  private buildRunner(r: ReturnType<Agent['runnerPlans']>[number]): RunnerUnit {
    const sinks = r.sinks.map((k) => {
      const counter = new SinkCounter(k.name);
      const sink = k.def.create({ ...this.init(k, 'sink'), channel: this.channelUnits.get(k.channel)!.channel, counter });
      return { plan: k, sink, counter };
    });
    const backoff = this.opts.sinkFailureBackoffMs;
    const processor = r.group
      ? r.group.processor.def.create({ ...this.init(r.group.processor, 'processor'), name: r.name, sinks: sinks.map((k) => k.sink) })
      : new DefaultSinkProcessor(sinks[0]!.sink);
    return { name: r.name, fp: r.fp, sinks, runner: new SinkRunner(processor, r.name, this.logger.child(`flume-ts.SinkRunner.${r.name}`), backoff) };
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    try {
      await this.startUnits([...this.channelUnits.values()], [...this.runnerUnits.values()], [...this.sourceUnits.values()]);
    } catch (err) {
      // The reason first, then the stop it causes, so the log reads in order.
      this.logger.error((err as Error).message);
      await this.stop(0).catch(() => {});
      throw err;
    }
    this.running = true;
    this.logger.info(`Agent ${this.name} started: ${this.sourceUnits.size} source(s), ${this.channelUnits.size} channel(s), ${this.sinks.size} sink(s)`);
  }

  private async startUnits(channels: ChannelUnit[], runners: RunnerUnit[], sources: SourceUnit[]): Promise<void> {
    for (const c of channels) {
      c.channel.counter.start();
      await this.startOne(`channel ${c.plan.name}`, () => c.channel.start(), [c.plan]);
    }
    for (const r of runners) {
      for (const k of r.sinks) k.counter.start();
      await this.startOne(
        `sink runner ${r.name}`,
        () => r.runner.start(),
        r.sinks.map((k) => k.plan),
      );
    }
    for (const s of sources) {
      s.counter.start();
      s.processor.counters.start();
      await s.processor.initialize();
      await this.startOne(`source ${s.plan.name}`, () => s.source.start(), [s.plan]);
      s.runner?.start();
    }
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

  /**
   * Applies a new plan as a difference from the running one: components whose
   * effective configuration (type, keys, and the channels they are wired to) did not
   * change keep running untouched, with their events, counters and connections;
   * changed ones are stopped and started again, removed ones stopped, new ones
   * started. A source is stopped before its channels change; the sinks of a channel
   * that goes away drain it first (within the grace period); a changed sink on a kept
   * channel hands its channel over after the batch in flight, so nothing committed is
   * lost. A new component that fails to start is reported and the others keep running.
   */
  reconfigure(next: AgentPlan, graceMs = this.opts.drainGraceMs ?? DEFAULT_GRACE_MS): Promise<ReloadReport> {
    if (!this.running || this.stopping !== undefined) return Promise.reject(new FlumeError(ErrorCodes.COMPONENT_START, `agent ${this.name} is not running`));
    const run = (this.reconfiguring ?? Promise.resolve()).catch(() => undefined).then(() => this.applyPlan(next, graceMs));
    this.reconfiguring = run;
    return run;
  }

  private async applyPlan(next: AgentPlan, graceMs: number): Promise<ReloadReport> {
    const report: ReloadReport = { kept: [], restarted: [], removed: [], added: [], lost: 0 };
    const nextChannelFp = new Map(next.channels.map((c) => [c.name, fingerprintOf(c.def.type, c.context)]));
    const keepChannel = (n: string): boolean => this.channelUnits.get(n)?.fp === nextChannelFp.get(n);
    const nextSources = new Map(next.sources.map((s) => [s.name, s]));
    const nextRunners = new Map(this.runnerPlans(next, (n) => nextChannelFp.get(n)).map((r) => [r.name, r]));
    const note = (kind: string, name: string, list: keyof Omit<ReloadReport, 'lost'>): void => {
      report[list].push(`${kind} ${name}`);
    };

    const abort = new AbortController();
    const grace = setLongTimeout(() => abort.abort(), graceMs);
    try {
      // 1. Sources that change or go: they stop accepting first.
      const stopSources: SourceUnit[] = [];
      for (const [name, u] of this.sourceUnits) {
        const n = nextSources.get(name);
        if (n && this.sourceFp(n, (c) => nextChannelFp.get(c)) === u.fp && n.channels.every(keepChannel)) continue;
        stopSources.push(u);
        this.sourceUnits.delete(name);
        note('source', name, n ? 'restarted' : 'removed');
      }
      await Promise.all(stopSources.map((s) => this.stopSource(s, abort.signal)));

      // 2. Sink runners that change or go: a channel that stays is handed over after the
      // batch in flight; a channel that goes is drained first.
      const stopRunners: Promise<void>[] = [];
      for (const [name, u] of this.runnerUnits) {
        const n = nextRunners.get(name);
        if (n && n.fp === u.fp) continue;
        this.runnerUnits.delete(name);
        note(u.sinks.length > 1 || nextRunners.get(name)?.group ? 'sink group' : 'sink', name, n ? 'restarted' : 'removed');
        const drain = u.sinks.some((k) => !keepChannel(k.plan.channel));
        stopRunners.push(
          safely(this.logger, `sink runner ${name}`, () => u.runner.stop(abort.signal, drain)).then(() => {
            for (const k of u.sinks) k.counter.stop();
          }),
        );
      }
      await Promise.all(stopRunners);

      // 3. Channels that change or go, once nothing uses them any more.
      for (const [name, u] of this.channelUnits) {
        if (keepChannel(name)) continue;
        this.channelUnits.delete(name);
        note('channel', name, nextChannelFp.has(name) ? 'restarted' : 'removed');
        await safely(this.logger, `channel ${name}`, () => u.channel.stop());
        u.channel.counter.stop();
        const left = u.channel.size + (u.channel.takesInFlight ?? 0);
        if (left > 0 && !u.channel.durable) {
          report.lost += left;
          this.logger.warn(`channel ${name} was ${nextChannelFp.has(name) ? 'changed' : 'removed'} with ${left} event(s) its sinks could not deliver in ${graceMs} ms; they are lost`);
        } else if (left > 0) {
          this.logger.info(`channel ${name} keeps ${left} event(s) in its durable store for its next start`);
        }
      }
    } finally {
      grace.clear();
    }

    // 4. Build and start what is new, in the start order: channels, sinks, sources.
    const previous = this.current;
    this.current = next;
    const newChannels: ChannelUnit[] = [];
    for (const c of next.channels) {
      if (this.channelUnits.has(c.name)) {
        report.kept.push(`channel ${c.name}`);
        continue;
      }
      if (!previous.channels.some((p) => p.name === c.name)) note('channel', c.name, 'added');
      const u = this.buildChannel(c);
      this.channelUnits.set(c.name, u);
      newChannels.push(u);
    }
    const newRunners: RunnerUnit[] = [];
    for (const r of nextRunners.values()) {
      if (this.runnerUnits.has(r.name)) {
        report.kept.push(`${r.group ? 'sink group' : 'sink'} ${r.name}`);
        continue;
      }
      if (!report.restarted.some((x) => x.endsWith(` ${r.name}`))) note(r.group ? 'sink group' : 'sink', r.name, 'added');
      const u = this.buildRunner(r);
      this.runnerUnits.set(r.name, u);
      newRunners.push(u);
    }
    const newSources: SourceUnit[] = [];
    for (const s of next.sources) {
      if (this.sourceUnits.has(s.name)) {
        report.kept.push(`source ${s.name}`);
        continue;
      }
      if (!report.restarted.includes(`source ${s.name}`)) note('source', s.name, 'added');
      const u = this.buildSource(s);
      this.sourceUnits.set(s.name, u);
      newSources.push(u);
    }
    for (const u of newChannels)
      await this.startOrDrop(
        `channel ${u.plan.name}`,
        () => this.startUnits([u], [], []),
        () => this.channelUnits.delete(u.plan.name),
      );
    for (const u of newRunners)
      await this.startOrDrop(
        `sink runner ${u.name}`,
        () => this.startUnits([], [u], []),
        () => this.runnerUnits.delete(u.name),
      );
    for (const u of newSources)
      await this.startOrDrop(
        `source ${u.plan.name}`,
        () => this.startUnits([], [], [u]),
        () => this.sourceUnits.delete(u.plan.name),
      );

    const list = (xs: string[]): string => (xs.length ? xs.join(', ') : 'none');
    this.logger.info(`Agent ${this.name} reconfigured: restarted ${list(report.restarted)}; added ${list(report.added)}; removed ${list(report.removed)}; kept ${list(report.kept)}`);
    return report;
  }

  /** Starts a component a reload added; a failure is logged, the component left out, the rest keeps running. */
  private async startOrDrop(what: string, start: () => Promise<void>, drop: () => void): Promise<void> {
    try {
      await start();
    } catch (err) {
      drop();
      this.logger.error(`${(err as Error).message}; ${what} is left out until the configuration is fixed`);
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
    this.running = false;
    this.stopping ??= (this.reconfiguring ?? Promise.resolve()).catch(() => undefined).then(() => this.stopWithin(graceMs));
    return this.stopping;
  }

  /** Events each channel holds right now (for a report when the process must exit at once). */
  held(): HeldEvents[] {
    const out: HeldEvents[] = [];
    for (const [name, u] of this.channelUnits) {
      const ch = u.channel;
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
      signal.addEventListener(
        'abort',
        () => {
          this.logger.warn(`Agent ${this.name}: shutdown grace period of ${graceMs} ms ended; abandoning what is still in flight`);
          void this.stopChannels();
          hardTimer = setTimeout(resolve, ABANDON_MS);
        },
        { once: true },
      );
    });
    // Each step ends when it is done or ABANDON_MS after the deadline, whichever comes first.
    const bounded = (p: Promise<unknown>): Promise<void> => Promise.race([p.then(() => undefined), hard]);

    await bounded(Promise.all([...this.sourceUnits.values()].map((s) => this.stopSource(s, signal))));
    await bounded(Promise.all([...this.runnerUnits.values()].map((r) => safely(this.logger, `sink runner ${r.name}`, () => r.runner.stop(signal)))));
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
    for (const c of this.counterGroups()) {
      c.stop();
      // As Flume's MonitoredCounterGroup.stop: what each component did, for the record.
      const counts = Object.entries(c.snapshot())
        .map(([k, v]) => `${k} == ${v}`)
        .join(', ');
      this.logger.info(`Shutdown Metric for type: ${c.Type}, name: ${c.name}. ${counts}`);
    }
    this.logger.info(`Agent ${this.name} stopped`);
    return { abandoned, held, lost };
  }

  private async stopSource(s: SourceUnit, signal: AbortSignal): Promise<void> {
    await s.runner?.stop(signal);
    await safely(this.logger, `source ${s.plan.name}`, () => s.source.stop(signal));
    await safely(this.logger, `interceptors of ${s.plan.name}`, () => s.processor.close());
    s.counter.stop();
    s.processor.counters.stop();
  }

  private stopChannels(): Promise<void> {
    this.channelsStopped ??= Promise.all([...this.channelUnits].map(([name, u]) => safely(this.logger, `channel ${name}`, () => u.channel.stop()))).then(() => undefined);
    return this.channelsStopped;
  }

  /** UP while the agent runs and no sink's last delivery failed. */
  health(): HealthReport {
    const components: Record<string, ComponentHealth> = {};
    let up = this.running;
    for (const r of this.runnerUnits.values()) {
      const err = r.runner.lastError;
      components[`SINK_RUNNER.${r.name}`] = err ? { status: 'DOWN', error: err.message } : { status: this.running ? 'UP' : 'DOWN' };
      if (err) up = false;
    }
    for (const name of this.sourceUnits.keys()) components[`SOURCE.${name}`] = { status: this.running ? 'UP' : 'DOWN' };
    for (const name of this.channelUnits.keys()) components[`CHANNEL.${name}`] = { status: this.running ? 'UP' : 'DOWN' };
    return { status: up ? 'UP' : 'DOWN', agent: this.name, components };
  }
}

async function safely(logger: Logger, what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    logger.error(`error stopping ${what}: ${(err as Error).message}`);
  }
}

const KEY_OF_ERROR: Record<string, string> = {
  EADDRINUSE: 'port',
  EACCES: 'port',
  EADDRNOTAVAIL: 'bind',
  ENOTFOUND: 'bind',
  EAI_AGAIN: 'bind',
  EAFNOSUPPORT: 'bind',
  EINVAL: 'bind',
};
