import { Kafka, Partitioners, type Consumer, type Producer, type Message } from 'kafkajs';
import { defineChannel } from '../core/component.js';
import { opt, type Options, type OptionProblem } from '../core/options.js';
import { AvailabilitySignal, type Channel } from '../core/channel.js';
import { ChannelCounter } from '../core/counters.js';
import type { Context } from '../core/context.js';
import { Deque } from '../core/deque.js';
import { ChannelError, ErrorCodes } from '../core/errors.js';
import type { FlumeEvent } from '../core/event.js';
import { sleep } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { BaseTransaction, type Transaction } from '../core/transaction.js';
import { kafkaLogCreator, kafkaSettings, type KafkaSettings } from '../kafka/client-options.js';
import { decodeFlumeEvent, encodeFlumeEvent } from '../kafka/flume-event.js';

export const options = {
  'kafka.bootstrap.servers': opt.requiredString('Kafka brokers, host:port,host:port.', { deprecatedAliases: ['brokerList'] }),
  'kafka.topic': opt.string('flume-channel', 'Topic that holds the channel\'s events.', { deprecatedAliases: ['topic'] }),
  groupId: opt.optionalString('Deprecated: use kafka.consumer.group.id.'),
  parseAsFlumeEvent: opt.boolean(true, 'Store events as Avro AvroFlumeEvents (headers kept, readable by Java Flume); false stores the body only.'),
  'kafka.pollTimeout': opt.integer(500, 'Longest wait (ms) of one fetch from Kafka.', { min: 1, aliases: ['pollTimeout'] }),
  defaultPartitionId: opt.optionalInteger('Partition every put goes to (default: the partitioner decides).', { min: 0 }),
  partitionIdHeader: opt.optionalString('Header whose integer value selects the partition of a put.'),
  readSmallestOffset: opt.optionalString('Deprecated: use kafka.consumer.auto.offset.reset.'),
  migrateZookeeperOffsets: opt.boolean(true, 'Accepted for compatibility; not applicable (offsets live in Kafka).'),
  zookeeperConnect: opt.optionalString('Accepted for compatibility; not applicable.'),
};

type KafkaChannelOptions = Options<typeof options>;

/** Events fetched ahead of takes; past this the consumer waits. */
const HIGH_WATER = 20000;

interface Record_ {
  event: FlumeEvent;
  partition: number;
  offset: string;
  done: boolean;
}

/** Per partition, records in fetch order, so offsets are committed only up to the first one not yet taken and committed. */
class PartitionLedger {
  private readonly pending = new Deque<Record_>(64);
  add(r: Record_): void {
    this.pending.pushAll([r]);
  }
  /** The offset to commit after marking records done, if it moved. */
  advance(): string | undefined {
    let last: Record_ | undefined;
    for (;;) {
      const head = this.pending.shiftMany(1)[0];
      if (!head) break;
      if (!head.done) {
        this.pending.unshiftAll([head]);
        break;
      }
      last = head;
    }
    return last ? (BigInt(last.offset) + 1n).toString() : undefined;
  }
  clear(): void {
    this.pending.shiftMany(this.pending.length);
  }
}

function settingsFor(o: KafkaChannelOptions, ctx: Context): KafkaSettings {
  const s = kafkaSettings(ctx, { bootstrap: o['kafka.bootstrap.servers'], producer: true, consumer: true, groupId: o.groupId ?? 'flume' });
  // Flume's channel: acks=all and earliest unless told otherwise.
  if (!ctx.containsKey('kafka.producer.acks')) s.acks = -1;
  if (!ctx.containsKey('kafka.consumer.auto.offset.reset')) s.fromBeginning = o.readSmallestOffset === undefined ? true : o.readSmallestOffset.toLowerCase() === 'true';
  return s;
}

/**
 * Flume's Kafka channel: Kafka itself is the durable buffer. A put transaction sends
 * its events at commit and waits for the acks; a take transaction commits the consumer
 * offsets of what it took at commit, and a rollback hands the events out again. The
 * channel's size is what was fetched and not yet taken.
 */
export class KafkaChannel implements Channel {
  readonly counter: ChannelCounter;
  readonly capacity = 0;
  readonly transactionCapacity = 10000;
  private producer: Producer | undefined;
  private consumer: Consumer | undefined;
  private readonly buffer = new Deque<Record_>();
  private readonly ledgers = new Map<number, PartitionLedger>();
  private readonly available = new AvailabilitySignal();
  private readonly abort = new AbortController();
  /** Bumped at each rebalance: records fetched before it are dropped when rolled back. */
  generation = 0;

  constructor(
    readonly name: string,
    private readonly o: KafkaChannelOptions,
    private readonly settings: KafkaSettings,
    private readonly logger: Logger,
  ) {
    this.counter = new ChannelCounter(name, 0);
  }

  get size(): number {
    return this.buffer.length;
  }

  async start(): Promise<void> {
    const kafka = new Kafka({
      ...this.settings.client,
      clientId: this.settings.client.clientId ?? `flume-ts-${this.name}`,
      logCreator: kafkaLogCreator(this.logger),
      retry: { retries: 2, initialRetryTime: 200, ...this.settings.client.retry },
    });
    this.producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner, ...this.settings.producer });
    await this.producer.connect();
    const consumer = kafka.consumer({ maxWaitTimeInMs: this.o['kafka.pollTimeout'], ...this.settings.consumer, groupId: this.settings.consumer.groupId ?? 'flume' });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      // After a rebalance the consumer reads again from the committed offsets: drop
      // what was fetched and not taken, or it would be handed out twice.
      this.generation++;
      this.buffer.shiftMany(this.buffer.length);
      for (const l of this.ledgers.values()) l.clear();
      this.counter.ChannelSize = 0;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.o['kafka.topic']], fromBeginning: this.settings.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
        const records: Record_[] = [];
        let ledger = this.ledgers.get(batch.partition);
        if (!ledger) this.ledgers.set(batch.partition, (ledger = new PartitionLedger()));
        for (const m of batch.messages) {
          const r: Record_ = { event: { headers: {}, body: Buffer.alloc(0) }, partition: batch.partition, offset: m.offset, done: false };
          ledger.add(r);
          if (this.o.parseAsFlumeEvent) {
            try {
              r.event = decodeFlumeEvent(m.value ?? Buffer.alloc(0));
            } catch (err) {
              // Refused, counted and skipped: it is marked done so its offset can be committed.
              this.logger.warn(`Kafka channel ${this.name}: ${batch.topic}/${batch.partition}@${m.offset} is not an AvroFlumeEvent (${(err as Error).message}); skipped`);
              r.done = true;
              continue;
            }
          } else {
            r.event = { headers: {}, body: m.value ?? Buffer.alloc(0) };
          }
          if (m.key !== null && m.key !== undefined) r.event.headers.key = m.key.toString('utf8');
          records.push(r);
        }
        this.buffer.pushAll(records);
        this.counter.ChannelSize = this.buffer.length;
        if (records.length > 0) this.available.notify();
        // Back-pressure: hold the fetch loop while takers are behind.
        while (this.buffer.length > HIGH_WATER && isRunning() && !isStale()) {
          await sleep(50, this.abort.signal);
          await heartbeat();
        }
      },
    });
    this.logger.info(`Kafka channel ${this.name} on topic ${this.o['kafka.topic']} as group ${this.settings.consumer.groupId ?? 'flume'}`);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.available.notify();
    await this.consumer?.disconnect().catch(() => {});
    await this.producer?.disconnect().catch(() => {});
  }

  transaction(): Transaction {
    return new KafkaTransaction(this);
  }

  waitAvailable(timeoutMs: number): Promise<void> {
    if (this.buffer.length > 0 || this.abort.signal.aborted) return Promise.resolve();
    return this.available.wait(timeoutMs);
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

  async send(events: readonly FlumeEvent[]): Promise<void> {
    const messages: Message[] = events.map((e) => {
      const m: Message = { key: e.headers.key ?? null, value: this.o.parseAsFlumeEvent ? encodeFlumeEvent(e) : e.body };
      let p = this.o.defaultPartitionId;
      if (this.o.partitionIdHeader && e.headers[this.o.partitionIdHeader] !== undefined) {
        const v = e.headers[this.o.partitionIdHeader]!;
        if (!/^\d+$/.test(v.trim())) throw new ChannelError(ErrorCodes.CHANNEL_CLOSED, `header ${this.o.partitionIdHeader}="${v}" is not a partition number`);
        p = Number(v);
      }
      if (p !== undefined) m.partition = p;
      return m;
    });
    try {
      await this.producer!.send({ topic: this.o['kafka.topic'], messages, acks: this.settings.acks, compression: this.settings.compression, timeout: this.settings.sendTimeout });
    } catch (err) {
      throw new ChannelError(ErrorCodes.CHANNEL_CLOSED, `Unable to send events to Kafka topic ${this.o['kafka.topic']}: ${(err as Error).message}`, { cause: err });
    }
  }

  async commitTakes(records: Record_[], generation: number): Promise<void> {
    if (records.length === 0) return;
    for (const r of records) r.done = true;
    if (generation !== this.generation) {
      // Taken before a rebalance: the new owner of the partition reads them again.
      this.logger.debug(`Kafka channel ${this.name}: ${records.length} events taken before a rebalance; their offsets are not committed`);
      return;
    }
    const commits: { topic: string; partition: number; offset: string }[] = [];
    for (const partition of new Set(records.map((r) => r.partition))) {
      const next = this.ledgers.get(partition)?.advance();
      if (next !== undefined) commits.push({ topic: this.o['kafka.topic'], partition, offset: next });
    }
    if (commits.length > 0) {
      try {
        await this.consumer!.commitOffsets(commits);
      } catch (err) {
        // The events were delivered; a lost commit only means they may be delivered again.
        this.logger.warn(`Kafka channel ${this.name}: offset commit failed (${(err as Error).message}); events may be redelivered`);
      }
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
    const got = this.ch.takeRecords(max);
    this.ch.counter.EventTakeAttemptCount += got.length + (got.length < max ? 1 : 0);
    for (const r of got) this.takes.push(r);
    return got.map((r) => r.event);
  }

  protected async doCommit(): Promise<void> {
    if (this.puts.length > 0) await this.ch.send(this.puts);
    await this.ch.commitTakes(this.takes, this.generation);
    this.ch.counter.EventPutSuccessCount += this.puts.length;
    this.ch.counter.EventTakeSuccessCount += this.takes.length;
  }

  protected async doRollback(): Promise<void> {
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
    const problems: OptionProblem[] = [...settingsFor(o, ctx).problems];
    for (const k of ['groupId', 'readSmallestOffset'] as const) {
      if (o[k] !== undefined) {
        problems.push({ severity: 'warning', code: ErrorCodes.CONFIG_UNKNOWN_KEY, key: k, message: `${ctx.fullKey(k)} is deprecated; use ${ctx.prefix}${k === 'groupId' ? 'kafka.consumer.group.id' : 'kafka.consumer.auto.offset.reset'}` });
      }
    }
    return problems;
  },
  create: ({ name, options, context, logger }) => new KafkaChannel(name, options, settingsFor(options, context), logger),
});
