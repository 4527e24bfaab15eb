import type { EachBatchPayload, Message } from 'kafkajs';
import {
  AvailabilitySignal,
  BaseTransaction,
  RateLimitedLog,
  ChannelCounter,
  ChannelError,
  Deque,
  ErrorCodes,
  defineChannel,
  opt,
  sleep,
  type Channel,
  type Context,
  type FlumeEvent,
  type Logger,
  type OptionProblem,
  type Options,
  type Transaction,
} from '../plugin-api/index.js';
import { createKafka, deprecatedKeys, kafkaSettings, type KafkaSettings } from '../kafka/client-options.js';
import { GroupConsumer } from '../kafka/consumer.js';
import { KafkaProducer } from '../kafka/producer.js';
import { decodeFlumeEvent, encodeFlumeEvent } from '../kafka/flume-event.js';

export const options = {
  'kafka.bootstrap.servers': opt.requiredString('Kafka brokers, host:port,host:port.', { aliases: ['brokerList'] }),
  'kafka.topic': opt.string('flume-channel', "Topic that holds the channel's events.", { aliases: ['topic'] }),
  groupId: opt.optionalString('Deprecated: use kafka.consumer.group.id (which wins when both are set).'),
  parseAsFlumeEvent: opt.boolean(
    true,
    "Store events as Avro AvroFlumeEvents (headers kept, readable by Java Flume's Kafka channel and sink); false stores the body only and takes come back with the key header alone.",
  ),
  'kafka.pollTimeout': opt.duration(500, "Longest wait (ms) of one fetch from Kafka (Flume's guide spells it pollTimeout; both work).", { unit: 'ms', min: 1, max: 300_000, aliases: ['pollTimeout'] }),
  defaultPartitionId: opt.optionalInteger('Partition every put goes to (default: the partitioner decides, by the key header when there is one).', { min: 0 }),
  partitionIdHeader: opt.optionalString('Header whose integer value selects the partition of a put (overrides defaultPartitionId).'),
  readSmallestOffset: opt.optionalString('Deprecated: use kafka.consumer.auto.offset.reset.'),
  migrateZookeeperOffsets: opt.boolean(true, 'Accepted for compatibility; not applicable (offsets live in Kafka, there is no ZooKeeper to migrate from).'),
  zookeeperConnect: opt.optionalString('Accepted for compatibility and not used; kafka.bootstrap.servers is required.'),
};

type KafkaChannelOptions = Options<typeof options>;

/** Records fetched ahead of takes; past this the fetch loop waits. */
const HIGH_WATER = 10000;
/** Back-off of a consumer that failed for good: first and longest wait (ms). */
const CONSUMER_BACKOFF_MS = 500;
const CONSUMER_MAX_BACKOFF_MS = 5000;
/** Kafka's retry settings for puts: a commit fails within seconds when Kafka is away, so the source can refuse or retry its input. */
const PUT_RETRY = { retries: 2, initialRetryTime: 200 };

interface Record_ {
  event: FlumeEvent;
  partition: number;
  offset: string;
  /** Taken and committed (or unreadable): its offset may be committed. */
  done: boolean;
}

/**
 * One partition's fetched records in offset order. The committed offset only moves past
 * records that are done, so a record taken by a transaction that is still open (or
 * rolled back) is read again after a restart even when later ones were committed.
 */
class PartitionLedger {
  private recs: Record_[] = [];
  private head = 0;

  add(r: Record_): void {
    this.recs.push(r);
  }

  /** The offset to commit after records were marked done, if it moved. */
  advance(): string | undefined {
    const recs = this.recs;
    let i = this.head;
    while (i < recs.length && recs[i]!.done) i++;
    if (i === this.head) return undefined;
    const last = recs[i - 1]!;
    this.head = i;
    if (i === recs.length) {
      this.recs = [];
      this.head = 0;
    } else if (i > 1024 && i * 2 > recs.length) {
      this.recs = recs.slice(i);
      this.head = 0;
    }
    return (BigInt(last.offset) + 1n).toString();
  }
}

function settingsFor(o: KafkaChannelOptions, ctx: Context): { producer: KafkaSettings; consumer: KafkaSettings } {
  const bootstrap = o['kafka.bootstrap.servers'];
  const producer = kafkaSettings(ctx, { bootstrap, role: 'producer' });
  const consumer = kafkaSettings(ctx, { bootstrap, role: 'consumer', groupId: o.groupId ?? 'flume' });
  // Flume's channel: acks=all, and earliest when the group has no offset.
  if (!ctx.containsKey('kafka.producer.acks')) producer.acks = -1;
  if (!ctx.containsKey('kafka.consumer.auto.offset.reset')) {
    consumer.fromBeginning = o.readSmallestOffset === undefined ? true : o.readSmallestOffset.trim().toLowerCase() === 'true';
  }
  return { producer, consumer };
}

/**
 * Flume's Kafka channel: Kafka itself is the durable buffer. A put transaction sends
 * its events at commit and waits for the acks; a take transaction commits the consumer
 * offsets of what it took at commit, and a rollback hands the events out again. The
 * channel's size is what was fetched and not yet taken.
 */
export class KafkaChannel implements Channel {
  /** Warnings that can repeat per event, batch, retry or connection: first logged, then counted. */
  private readonly failures: RateLimitedLog;
  /** Flume's Kafka channel counters, with its timers (ms) and rolled-back transactions. */
  readonly counter: ChannelCounter & Record<'KafkaEventGetTimer' | 'KafkaEventSendTimer' | 'KafkaCommitTimer' | 'RollbackCount', number>;
  /** Committed events live in Kafka: a crash loses none. */
  readonly durable = true;
  readonly capacity = 0;
  /** Flume's Kafka channel checks no batch size; this only bounds what one source batch puts. */
  readonly transactionCapacity = 10000;
  private readonly producer: KafkaProducer;
  private readonly group: GroupConsumer;
  private readonly topic: string;
  private readonly buffer = new Deque<Record_>();
  private readonly ledgers = new Map<number, PartitionLedger>();
  private readonly available = new AvailabilitySignal();
  private readonly abort = new AbortController();
  /** Bumped when the consumer re-joins or is replaced: older records are read again, so they are neither re-queued nor committed. */
  generation = 0;
  private readonly label: string;

  constructor(
    readonly name: string,
    private readonly o: KafkaChannelOptions,
    settings: { producer: KafkaSettings; consumer: KafkaSettings },
    private readonly logger: Logger,
  ) {
    this.failures = new RateLimitedLog(this.logger);
    this.counter = new ChannelCounter(name, 0).extend(['KafkaEventGetTimer', 'KafkaEventSendTimer', 'KafkaCommitTimer', 'RollbackCount'] as const);
    this.topic = o['kafka.topic'];
    this.label = `Kafka channel ${name}`;
    const kafkaP = createKafka(settings.producer, `flume-ts-${name}-producer`, logger, PUT_RETRY);
    this.producer = new KafkaProducer(kafkaP, settings.producer, this.label, logger);
    const c = settings.consumer;
    this.group = new GroupConsumer({
      label: this.label,
      kafka: createKafka(c, `flume-ts-${name}-consumer`, logger),
      config: { maxWaitTimeInMs: o['kafka.pollTimeout'], ...c.consumer, groupId: c.consumer.groupId ?? 'flume' },
      topics: [this.topic],
      fromBeginning: c.fromBeginning,
      eachBatch: (p) => this.fetched(p),
      eachBatchAutoResolve: true,
      logger,
      backoffMs: CONSUMER_BACKOFF_MS,
      maxBackoffMs: CONSUMER_MAX_BACKOFF_MS,
      onJoin: () => this.reset(),
      onReset: () => this.reset(),
      onFetch: (ms) => {
        this.counter.KafkaEventGetTimer += ms;
      },
    });
  }

  get size(): number {
    return this.buffer.length;
  }

  async start(): Promise<void> {
    this.logger.info(`${this.label}: topic ${this.topic}, group ${this.group.groupId}, ${this.o.parseAsFlumeEvent ? 'Flume Avro events' : 'bodies only'}`);
    this.producer.connectSoon();
    this.group.start();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.available.notify();
    await this.group.stop();
    await this.producer.stop();
  }

  transaction(): Transaction {
    return new KafkaTransaction(this);
  }

  waitAvailable(timeoutMs: number): Promise<void> {
    if (this.buffer.length > 0 || this.abort.signal.aborted) return Promise.resolve();
    return this.available.wait(timeoutMs);
  }

  /**
   * After a re-join (or a new consumer) reading resumes from the committed offsets:
   * drop what was fetched and not taken, or it would be handed out twice.
   */
  private reset(): void {
    this.generation++;
    this.buffer.shiftMany(this.buffer.length);
    this.ledgers.clear();
    this.counter.ChannelSize = 0;
  }

  /** kafkajs' eachBatch: decode the records and queue them for takes. */
  private async fetched(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    if (p.isStale() || !p.isRunning()) return;
    let ledger = this.ledgers.get(batch.partition);
    if (!ledger) this.ledgers.set(batch.partition, (ledger = new PartitionLedger()));
    const records: Record_[] = [];
    const parse = this.o.parseAsFlumeEvent;
    for (const m of batch.messages) {
      const value = m.value ?? Buffer.alloc(0);
      let event: FlumeEvent;
      let done = false;
      if (parse) {
        try {
          event = decodeFlumeEvent(value);
        } catch (err) {
          // Skipped and marked done, so its offset is committed with the next take.
          this.failures.warn('not-avro', `${this.label}: ${batch.topic}/${batch.partition}@${m.offset} is not an AvroFlumeEvent (${(err as Error).message}); skipped`);
          event = { headers: {}, body: value };
          done = true;
        }
      } else {
        event = { headers: {}, body: value };
      }
      if (m.key !== null && m.key !== undefined) event.headers.key = m.key.toString('utf8');
      const r: Record_ = { event, partition: batch.partition, offset: m.offset, done };
      ledger.add(r);
      if (!done) records.push(r);
    }
    this.buffer.pushAll(records);
    this.counter.ChannelSize = this.buffer.length;
    if (records.length > 0) this.available.notify();
    // Back-pressure: hold the fetch loop while takers are behind.
    while (this.buffer.length > HIGH_WATER && p.isRunning() && !this.abort.signal.aborted) {
      await sleep(100, this.abort.signal);
      await p.heartbeat();
    }
  }

  takeRecords(max: number): Record_[] {
    const r = this.buffer.shiftMany(max);
    this.counter.ChannelSize = this.buffer.length;
    return r;
  }

  returnRecords(records: Record_[], generation: number): void {
    if (generation !== this.generation || records.length === 0) return;
    this.buffer.unshiftAll(records);
    this.counter.ChannelSize = this.buffer.length;
    this.available.notify();
  }

  /** A put commit: one request for the transaction's events, resolved when Kafka acknowledged them all. */
  async send(events: readonly FlumeEvent[]): Promise<void> {
    const messages: Message[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) messages[i] = this.messageOf(events[i]!);
    const t0 = Date.now();
    try {
      await this.producer.send([{ topic: this.topic, messages }]);
      this.counter.KafkaEventSendTimer += Date.now() - t0;
    } catch (err) {
      this.counter.KafkaEventSendTimer += Date.now() - t0;
      throw new ChannelError(ErrorCodes.CHANNEL_CLOSED, `${this.label}: unable to send events to Kafka topic ${this.topic}: ${(err as Error).message}`, { cause: err });
    }
  }

  private messageOf(e: FlumeEvent): Message {
    const o = this.o;
    const m: Message = { key: e.headers.key ?? null, value: o.parseAsFlumeEvent ? encodeFlumeEvent(e) : e.body };
    let p = o.defaultPartitionId;
    if (o.partitionIdHeader !== undefined) {
      const v = e.headers[o.partitionIdHeader];
      if (v !== undefined) {
        if (!/^\d+$/.test(v.trim())) throw new ChannelError(ErrorCodes.CHANNEL_CLOSED, `${this.label}: header ${o.partitionIdHeader}="${v}" is not a partition number`);
        p = Number(v);
      }
    }
    if (p !== undefined) m.partition = p;
    return m;
  }

  /** A take commit: mark the records done and commit each partition's offset as far as everything before it is done. */
  async commitTakes(records: Record_[], generation: number): Promise<void> {
    if (records.length === 0) return;
    for (const r of records) r.done = true;
    if (generation !== this.generation) {
      // Taken before a re-join: the partition's owner reads them again (at-least-once).
      this.logger.debug(`${this.label}: ${records.length} events taken before a rebalance; their offsets are not committed`);
      return;
    }
    const partitions: { partition: number; offset: string }[] = [];
    let seen = -1;
    for (const r of records) {
      if (r.partition === seen) continue;
      seen = r.partition;
      if (partitions.some((x) => x.partition === seen)) continue;
      const next = this.ledgers.get(seen)?.advance();
      if (next !== undefined) partitions.push({ partition: seen, offset: next });
    }
    const consumer = this.group.current;
    if (partitions.length === 0 || !consumer) return;
    const t0 = Date.now();
    try {
      await consumer.commitOffsets(partitions.map(({ partition, offset }) => ({ topic: this.topic, partition, offset })));
      this.counter.KafkaCommitTimer += Date.now() - t0;
    } catch (err) {
      // The events were delivered; a lost commit only means they may be delivered again.
      this.failures.warn('commit', `${this.label}: offset commit failed (${(err as Error).message}); events may be delivered again`);
    }
  }
}

class KafkaTransaction extends BaseTransaction {
  private puts: FlumeEvent[] = [];
  private takes: Record_[] = [];
  private readonly generation: number;

  constructor(private readonly ch: KafkaChannel) {
    super();
    this.generation = ch.generation;
  }

  protected async doPut(events: readonly FlumeEvent[]): Promise<void> {
    this.ch.counter.EventPutAttemptCount += events.length;
    for (const e of events) this.puts.push(e);
  }

  protected async doTake(max: number): Promise<FlumeEvent[]> {
    // Records fetched by an older consumer generation are not handed to a transaction begun before the re-join.
    if (this.generation !== this.ch.generation) return [];
    const got = this.ch.takeRecords(max);
    this.ch.counter.EventTakeAttemptCount += got.length + (got.length < max ? 1 : 0);
    const events: FlumeEvent[] = new Array(got.length);
    for (let i = 0; i < got.length; i++) {
      const r = got[i]!;
      this.takes.push(r);
      events[i] = r.event;
    }
    return events;
  }

  protected async doCommit(): Promise<void> {
    if (this.puts.length > 0) await this.ch.send(this.puts);
    await this.ch.commitTakes(this.takes, this.generation);
    this.ch.counter.EventPutSuccessCount += this.puts.length;
    this.ch.counter.EventTakeSuccessCount += this.takes.length;
  }

  protected async doRollback(): Promise<void> {
    this.ch.counter.RollbackCount++;
    this.ch.returnRecords(this.takes, this.generation);
    this.takes = [];
    this.puts = [];
  }
}

export default defineChannel({
  type: 'org.apache.flume.channel.kafka.KafkaChannel',
  aliases: ['kafka'],
  description: 'Uses a Kafka topic as a durable channel between a source and a sink.',
  options,
  prefixes: ['kafka.producer.', 'kafka.consumer.'],
  validate(o, ctx) {
    const s = settingsFor(o, ctx);
    const problems: OptionProblem[] = [
      ...deprecatedKeys(ctx, [
        ['brokerList', 'kafka.bootstrap.servers'],
        ['topic', 'kafka.topic'],
        ['groupId', 'kafka.consumer.group.id'],
        ['readSmallestOffset', 'kafka.consumer.auto.offset.reset'],
      ]),
      ...s.producer.problems,
      ...s.consumer.problems,
    ];
    for (const key of [s.producer.partitionerClass && 'kafka.producer.partitioner.class', s.producer.interceptorClasses && 'kafka.producer.interceptor.classes']) {
      if (key)
        problems.push({
          severity: 'warning',
          code: ErrorCodes.CONFIG_UNKNOWN_KEY,
          key,
          message: `${ctx.fullKey(key)}: Kafka client plugins run in the Kafka sink only, not the Kafka channel; ignored`,
        });
    }
    if (o.zookeeperConnect !== undefined) {
      problems.push({
        severity: 'warning',
        code: ErrorCodes.CONFIG_UNKNOWN_KEY,
        key: 'zookeeperConnect',
        message: `${ctx.fullKey('zookeeperConnect')} is deprecated and not used: offsets live in Kafka, reached through ${ctx.prefix}kafka.bootstrap.servers`,
      });
    }
    return problems;
  },
  create: ({ name, options, context, logger }) => new KafkaChannel(name, options, settingsFor(options, context), logger),
});
