/**
 * Counter groups with Flume's attribute names, so monitoring can serve them as Flume
 * does (`SOURCE.r1`, `CHANNEL.c1`, `SINK.k1`). Plain numeric fields: incrementing one
 * on a hot path is a property add, nothing more.
 */
export type CounterType = 'SOURCE' | 'CHANNEL_PROCESSOR' | 'CHANNEL' | 'SINK' | 'OTHER';

export abstract class CounterGroup {
  StartTime = 0;
  StopTime = 0;
  /** Counters a component added beyond its kind's (the Kafka timers). */
  private extra: string[] = [];
  constructor(
    readonly Type: CounterType,
    readonly name: string,
  ) {}

  /**
   * Adds counters this component keeps beyond its kind's (Flume's Kafka source adds
   * KafkaEventGetTimer, ...); they are reset, served and documented like the others.
   * Returns the group typed with them, to increment as plain fields.
   */
  extend<K extends string>(names: readonly K[]): this & Record<K, number> {
    for (const n of names) {
      if (!this.extra.includes(n) && !this.counterNames().includes(n)) this.extra.push(n);
      (this as unknown as Record<string, number>)[n] ??= 0;
    }
    return this as this & Record<K, number>;
  }

  private allNames(): readonly string[] {
    return this.extra.length === 0 ? this.counterNames() : [...this.counterNames(), ...this.extra];
  }

  /** Counters are reset on every start, as Flume's MonitoredCounterGroup does. */
  start(): void {
    for (const k of this.allNames()) (this as unknown as Record<string, number>)[k] = 0;
    this.StartTime = Date.now();
    this.StopTime = 0;
  }

  stop(): void {
    this.StopTime = Date.now();
  }

  /** The numeric counters of this group (not StartTime/StopTime). */
  abstract counterNames(): readonly string[];

  /** Every attribute, as Flume's JSON reporter lists them. */
  snapshot(): Record<string, number | string> {
    const out: Record<string, number | string> = {};
    for (const k of this.allNames()) out[k] = (this as unknown as Record<string, number>)[k] ?? 0;
    out.StartTime = this.StartTime;
    out.StopTime = this.StopTime;
    out.Type = this.Type;
    return out;
  }
}

const SOURCE_COUNTERS = [
  'EventReceivedCount',
  'EventAcceptedCount',
  'AppendReceivedCount',
  'AppendAcceptedCount',
  'AppendBatchReceivedCount',
  'AppendBatchAcceptedCount',
  'OpenConnectionCount',
  'EventReadFail',
  'ChannelWriteFail',
  'GenericProcessingFail',
] as const;

export class SourceCounter extends CounterGroup {
  EventReceivedCount = 0;
  EventAcceptedCount = 0;
  AppendReceivedCount = 0;
  AppendAcceptedCount = 0;
  AppendBatchReceivedCount = 0;
  AppendBatchAcceptedCount = 0;
  OpenConnectionCount = 0;
  /** Input refused as malformed (a bad line, frame or body). */
  EventReadFail = 0;
  ChannelWriteFail = 0;
  GenericProcessingFail = 0;
  constructor(name: string) {
    super('SOURCE', name);
  }
  counterNames(): readonly string[] {
    return SOURCE_COUNTERS;
  }
}

const CHANNEL_COUNTERS = ['ChannelSize', 'ChannelCapacity', 'EventPutAttemptCount', 'EventPutSuccessCount', 'EventTakeAttemptCount', 'EventTakeSuccessCount'] as const;

export class ChannelCounter extends CounterGroup {
  ChannelSize = 0;
  ChannelCapacity = 0;
  EventPutAttemptCount = 0;
  EventPutSuccessCount = 0;
  EventTakeAttemptCount = 0;
  EventTakeSuccessCount = 0;
  constructor(name: string, capacity = 0) {
    super('CHANNEL', name);
    this.ChannelCapacity = capacity;
  }
  override start(): void {
    const cap = this.ChannelCapacity;
    const size = this.ChannelSize;
    super.start();
    this.ChannelCapacity = cap;
    this.ChannelSize = size;
  }
  counterNames(): readonly string[] {
    return CHANNEL_COUNTERS;
  }
  get ChannelFillPercentage(): number {
    return this.ChannelCapacity === 0 ? Number.MAX_VALUE : (this.ChannelSize / this.ChannelCapacity) * 100;
  }
  override snapshot(): Record<string, number | string> {
    const s = super.snapshot();
    s.ChannelFillPercentage = this.ChannelFillPercentage;
    return s;
  }
}

const SINK_COUNTERS = [
  'ConnectionCreatedCount',
  'ConnectionClosedCount',
  'ConnectionFailedCount',
  'BatchEmptyCount',
  'BatchUnderflowCount',
  'BatchCompleteCount',
  'EventDrainAttemptCount',
  'EventDrainSuccessCount',
  'EventWriteFail',
  'ChannelReadFail',
] as const;

export class SinkCounter extends CounterGroup {
  ConnectionCreatedCount = 0;
  ConnectionClosedCount = 0;
  ConnectionFailedCount = 0;
  BatchEmptyCount = 0;
  BatchUnderflowCount = 0;
  BatchCompleteCount = 0;
  EventDrainAttemptCount = 0;
  EventDrainSuccessCount = 0;
  EventWriteFail = 0;
  ChannelReadFail = 0;
  constructor(name: string) {
    super('SINK', name);
  }
  counterNames(): readonly string[] {
    return SINK_COUNTERS;
  }
  /** Batch bookkeeping shared by every batching sink. */
  countBatch(taken: number, batchSize: number): void {
    if (taken === 0) this.BatchEmptyCount++;
    else if (taken < batchSize) this.BatchUnderflowCount++;
    else this.BatchCompleteCount++;
  }
}

const ROUTING_COUNTERS = ['InterceptorDropCount', 'UnroutedEventCount', 'OptionalChannelPutFailCount'] as const;

/**
 * What routing did with a source's events that reached no required channel (a group
 * Java Flume does not have): events an interceptor dropped, events no selector rule
 * routed (multiplexing without a default), and events an optional channel refused.
 */
export class ChannelProcessorCounter extends CounterGroup {
  InterceptorDropCount = 0;
  UnroutedEventCount = 0;
  OptionalChannelPutFailCount = 0;
  constructor(name: string) {
    super('CHANNEL_PROCESSOR', name);
  }
  counterNames(): readonly string[] {
    return ROUTING_COUNTERS;
  }
}
