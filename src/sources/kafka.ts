import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import {
  ErrorCodes,
  RateLimitedLog,
  defineSource,
  opt,
  sleep,
  type ChannelProcessor,
  type Context,
  type EventDrivenSource,
  type FlumeEvent,
  type Logger,
  type OptionProblem,
  type Options,
  type SourceCounter,
} from '../plugin-api/index.js';
import { createKafka, deprecatedKeys, kafkaSettings, type KafkaSettings } from '../kafka/client-options.js';
import { GroupConsumer } from '../kafka/consumer.js';
import { decodeFlumeEvent } from '../kafka/flume-event.js';

export const options = {
  'kafka.bootstrap.servers': opt.requiredString('Kafka brokers, host:port,host:port.'),
  'kafka.topics': opt.optionalString('Comma-separated topics to read.', { aliases: ['topic'] }),
  'kafka.topics.regex': opt.optionalString('Regular expression of topics to read (overrides kafka.topics).'),
  groupId: opt.optionalString('Deprecated: use kafka.consumer.group.id (which wins when both are set).'),
  batchSize: opt.integer(1000, "Most records per channel transaction (and never more than the channel's transactionCapacity).", { min: 1 }),
  batchDurationMillis: opt.duration(1000, 'Longest wait (ms) of one fetch for records to arrive (kafka.consumer.fetch.max.wait.ms overrides it).', { unit: 'ms', min: 1, max: 300_000 }),
  backoffSleepIncrement: opt.duration(1000, 'First wait (ms) before retrying a batch the channel refused, or before making a failed consumer again.', { unit: 'ms', min: 1, max: 86_400_000 }),
  maxBackoffSleep: opt.duration(5000, 'Longest of those waits (ms); each retry doubles the wait up to it.', { unit: 'ms', min: 1, max: 86_400_000 }),
  useFlumeEventFormat: opt.boolean(false, 'Record values are Avro AvroFlumeEvents (headers and body), as the Kafka sink writes with the same option.'),
  setTopicHeader: opt.boolean(true, 'Add the topic header.'),
  topicHeader: opt.string('topic', 'Name of the topic header.'),
  migrateZookeeperOffsets: opt.boolean(true, 'Accepted for compatibility; not applicable (offsets live in Kafka, there is no ZooKeeper to migrate from).'),
  zookeeperConnect: opt.optionalString('Accepted for compatibility and not used; kafka.bootstrap.servers is required.'),
};

type KafkaSourceOptions = Options<typeof options>;

function settingsFor(o: KafkaSourceOptions, ctx: Context): KafkaSettings {
  const s = kafkaSettings(ctx, { bootstrap: o['kafka.bootstrap.servers'], role: 'consumer', groupId: o.groupId ?? 'flume' });
  // Flume's source leaves auto.offset.reset at Kafka's default, latest.
  if (!ctx.containsKey('kafka.consumer.auto.offset.reset')) s.fromBeginning = false;
  return s;
}

/**
 * Flume's Kafka source, as a member of a consumer group. Records go to the channel in
 * batches of up to batchSize; the offsets of a batch are committed only after the
 * channel committed it (at-least-once), so a restart or a rebalance resumes from the
 * last batch stored. A batch the channel refuses is retried with back-off.
 */
class KafkaSource implements EventDrivenSource {
  /** Warnings that can repeat per event, batch, retry or connection: first logged, then counted. */
  private readonly failures: RateLimitedLog;
  readonly kind = 'event-driven';
  private readonly group: GroupConsumer;
  private readonly abort = new AbortController();
  private readonly headerMap: [string, string][];
  /** Records per channel transaction: batchSize, within what every channel of the source accepts. */
  private readonly chunk: number;
  private readonly topicHeader: string | undefined;
  private readonly label: string;
  /** Flume's Kafka source timers (ms) and empty fetches. */
  private readonly timers: SourceCounter & Record<'KafkaEventGetTimer' | 'KafkaCommitTimer' | 'KafkaEmptyCount', number>;

  constructor(
    name: string,
    private readonly o: KafkaSourceOptions,
    settings: KafkaSettings,
    ctx: Context,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
    private readonly logger: Logger,
  ) {
    this.failures = new RateLimitedLog(this.logger);
    const h = ctx.subProperties('header.');
    this.headerMap = h.keys().map((k) => [k, h.getString(k)!]);
    this.chunk = Math.max(1, Math.min(o.batchSize, processor.maxBatchSize));
    this.topicHeader = o.setTopicHeader ? o.topicHeader : undefined;
    this.label = `Kafka source ${name}`;
    this.timers = counter.extend(['KafkaEventGetTimer', 'KafkaCommitTimer', 'KafkaEmptyCount'] as const);
    const regex = o['kafka.topics.regex'];
    const topics = regex
      ? [new RegExp(regex)]
      : (o['kafka.topics'] ?? '')
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean);
    this.group = new GroupConsumer({
      label: this.label,
      kafka: createKafka(settings, `flume-ts-${name}`, logger),
      config: { maxWaitTimeInMs: o.batchDurationMillis, ...settings.consumer, groupId: settings.consumer.groupId ?? 'flume' },
      topics,
      fromBeginning: settings.fromBeginning,
      eachBatch: (p) => this.eachBatch(p),
      // Offsets are resolved per stored chunk: a chunk not stored is fetched again.
      eachBatchAutoResolve: false,
      logger,
      backoffMs: o.backoffSleepIncrement,
      maxBackoffMs: o.maxBackoffSleep,
      onFetch: (ms, batches) => {
        this.timers.KafkaEventGetTimer += ms;
        if (batches === 0) this.timers.KafkaEmptyCount++;
      },
    });
  }

  async start(): Promise<void> {
    const o = this.o;
    const what = o['kafka.topics.regex'] ? `topics matching /${o['kafka.topics.regex']}/` : `topics ${o['kafka.topics']}`;
    this.logger.info(`${this.label}: reading ${what} as group ${this.group.groupId}`);
    this.group.start();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.group.stop();
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const msgs = batch.messages;
    const step = this.chunk;
    for (let i = 0; i < msgs.length; i += step) {
      if (!p.isRunning() || p.isStale() || this.abort.signal.aborted) return;
      const chunk = i === 0 && msgs.length <= step ? msgs : msgs.slice(i, i + step);
      const events = this.toEvents(batch.topic, batch.partition, chunk);
      // Not stored (stopping): nothing is resolved or committed, the records come again.
      if (events.length > 0 && !(await this.store(events, p))) return;
      const last = chunk[chunk.length - 1]!.offset;
      p.resolveOffset(last);
      const next = (BigInt(last) + 1n).toString();
      const t0 = Date.now();
      await p.commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
      this.timers.KafkaCommitTimer += Date.now() - t0;
      await p.heartbeat();
    }
  }

  private toEvents(topic: string, partition: number, msgs: KafkaMessage[]): FlumeEvent[] {
    const events: FlumeEvent[] = [];
    const partitionText = String(partition);
    for (const m of msgs) {
      let e: FlumeEvent;
      if (this.o.useFlumeEventFormat) {
        try {
          e = decodeFlumeEvent(m.value ?? Buffer.alloc(0));
        } catch (err) {
          this.counter.EventReadFail++;
          this.failures.warn('not-avro', `${this.label}: ${topic}/${partition}@${m.offset} is not an AvroFlumeEvent (${(err as Error).message}); skipped`);
          continue;
        }
      } else {
        e = { headers: {}, body: m.value ?? Buffer.alloc(0) };
      }
      // Headers a Flume-format record brought win, except key (as Flume).
      const h = e.headers;
      h.timestamp ??= m.timestamp;
      if (this.topicHeader !== undefined) h[this.topicHeader] ??= topic;
      h.partition ??= partitionText;
      h.offset ??= m.offset;
      if (m.key !== null && m.key !== undefined) h.key = m.key.toString('utf8');
      if (this.headerMap.length > 0 && m.headers) {
        for (const [flume, kafka] of this.headerMap) {
          const v = m.headers[kafka];
          if (v !== undefined) h[flume] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
        }
      }
      events.push(e);
    }
    this.counter.EventReceivedCount += events.length;
    this.counter.AppendBatchReceivedCount++;
    return events;
  }

  /**
   * Puts the batch, retrying a refused batch with back-off while heart-beating so the
   * group keeps the partition; false when it gave up because the source is stopping.
   * A failed heartbeat (the group is rebalancing) is thrown to kafkajs, which re-joins.
   */
  private async store(events: FlumeEvent[], p: EachBatchPayload): Promise<boolean> {
    let wait = this.o.backoffSleepIncrement;
    for (;;) {
      try {
        await this.processor.processEventBatch(events);
        this.counter.EventAcceptedCount += events.length;
        this.counter.AppendBatchAcceptedCount++;
        return true;
      } catch (err) {
        this.counter.ChannelWriteFail++;
        this.failures.warn('refused', `${this.label}: channel refused ${events.length} events (${(err as Error).message}); retrying in ${wait} ms`);
      }
      if (this.abort.signal.aborted || !p.isRunning()) return false;
      await sleep(wait, this.abort.signal);
      if (this.abort.signal.aborted || !p.isRunning()) return false;
      await p.heartbeat();
      wait = Math.min(wait * 2, this.o.maxBackoffSleep);
    }
  }
}

export default defineSource({
  type: 'org.apache.flume.source.kafka.KafkaSource',
  aliases: ['kafka'],
  description: 'Reads Kafka topics as a consumer group member (Flume as a Kafka consumer).',
  options,
  prefixes: ['kafka.consumer.', 'header.'],
  validate(o, ctx) {
    const problems: OptionProblem[] = [
      ...deprecatedKeys(ctx, [
        ['topic', 'kafka.topics'],
        ['groupId', 'kafka.consumer.group.id'],
      ]),
      ...settingsFor(o, ctx).problems,
    ];
    if (!o['kafka.topics'] && !o['kafka.topics.regex']) {
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_REQUIRED, key: 'kafka.topics', message: `${ctx.prefix}kafka.topics (or kafka.topics.regex) is required` });
    }
    if (o['kafka.topics.regex']) {
      try {
        new RegExp(o['kafka.topics.regex']);
      } catch (e) {
        problems.push({
          severity: 'error',
          code: ErrorCodes.CONFIG_VALUE,
          key: 'kafka.topics.regex',
          message: `${ctx.fullKey('kafka.topics.regex')}: not a valid regular expression: ${(e as Error).message}`,
        });
      }
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
  create: ({ name, options, context, processor, counter, logger }) => new KafkaSource(name, options, settingsFor(options, context), context, processor, counter, logger),
});
