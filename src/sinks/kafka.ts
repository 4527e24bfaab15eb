import { Kafka, Partitioners, type Producer, type Message, type TopicMessages } from 'kafkajs';
import { defineSink } from '../core/component.js';
import { opt, type Options, type OptionProblem } from '../core/options.js';
import type { Sink } from '../core/sink.js';
import type { Channel } from '../core/channel.js';
import type { Status } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { SinkCounter } from '../core/counters.js';
import type { Context } from '../core/context.js';
import { FlumeError, ErrorCodes } from '../core/errors.js';
import { withTransaction } from '../core/transaction.js';
import { EscapedString } from '../formatting/escape.js';
import { kafkaLogCreator, kafkaSettings, type KafkaSettings } from '../kafka/client-options.js';
import { encodeFlumeEvent } from '../kafka/flume-event.js';

export const options = {
  'kafka.bootstrap.servers': opt.requiredString('Kafka brokers, host:port,host:port.', { deprecatedAliases: ['brokerList'] }),
  'kafka.topic': opt.string('default-flume-topic', 'Topic to write to; %{header} and time escapes are resolved per event.', { deprecatedAliases: ['topic'] }),
  flumeBatchSize: opt.integer(100, 'Events per transaction (and per Kafka send).', { min: 1, aliases: ['kafka.flumeBatchSize'], deprecatedAliases: ['batchSize'] }),
  requiredAcks: opt.optionalString('Deprecated: use kafka.producer.acks.'),
  useFlumeEventFormat: opt.boolean(false, 'Write the value as an Avro AvroFlumeEvent (headers and body) instead of the body alone.'),
  defaultPartitionId: opt.optionalInteger('Partition every event goes to (default: the partitioner decides).', { min: 0 }),
  partitionIdHeader: opt.optionalString('Header whose integer value selects the partition (overrides defaultPartitionId).'),
  allowTopicOverride: opt.boolean(true, 'Let the topicHeader header choose the topic.'),
  topicHeader: opt.string('topic', 'Header naming the topic when allowTopicOverride is on.'),
  timestampHeader: opt.optionalString('Header whose epoch-millis value becomes the record timestamp.'),
};

type KafkaSinkOptions = Options<typeof options>;

function settingsFor(o: KafkaSinkOptions, ctx: Context): KafkaSettings {
  const s = kafkaSettings(ctx, { bootstrap: o['kafka.bootstrap.servers'], producer: true });
  if (o.requiredAcks !== undefined && !ctx.containsKey('kafka.producer.acks')) {
    const a = o.requiredAcks.trim().toLowerCase();
    s.acks = a === 'all' || a === '-1' ? -1 : Number(a);
  }
  return s;
}

/**
 * Flume's Kafka sink: takes up to flumeBatchSize events, sends them (the `key` header
 * as the message key), and commits the channel transaction only after Kafka
 * acknowledged the whole batch. Any failure rolls back, so a broker outage leaves the
 * events in the channel and the runner retries after its back-off.
 */
class KafkaSink implements Sink {
  private producer: Producer | undefined;
  private connected = false;
  private readonly topic: EscapedString;
  private readonly headerMap: [string, string][];

  constructor(
    readonly name: string,
    readonly channel: Channel,
    private readonly o: KafkaSinkOptions,
    private readonly settings: KafkaSettings,
    ctx: Context,
    private readonly logger: Logger,
    private readonly counter: SinkCounter,
  ) {
    this.topic = new EscapedString(o['kafka.topic']);
    const h = ctx.subProperties('header.');
    this.headerMap = h.keys().map((k) => [k, h.getString(k)!]);
  }

  async start(): Promise<void> {
    const kafka = new Kafka({
      ...this.settings.client,
      clientId: this.settings.client.clientId ?? `flume-ts-${this.name}`,
      logCreator: kafkaLogCreator(this.logger),
      // Fail a send within seconds so the transaction rolls back and the runner backs off.
      retry: { retries: 2, initialRetryTime: 200, ...this.settings.client.retry },
    });
    this.producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner, ...this.settings.producer });
    this.producer.on('producer.disconnect', () => {
      this.connected = false;
    });
    await this.connect().catch((err) => this.logger.warn(`Kafka sink ${this.name}: cannot connect yet (${(err as Error).message}); will retry`));
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect().catch(() => {});
    if (this.connected) this.counter.ConnectionClosedCount++;
    this.connected = false;
  }

  private async connect(): Promise<void> {
    if (this.connected) return;
    try {
      await this.producer!.connect();
    } catch (err) {
      this.counter.ConnectionFailedCount++;
      throw err;
    }
    this.connected = true;
    this.counter.ConnectionCreatedCount++;
  }

  async process(): Promise<Status> {
    const batch = this.o.flumeBatchSize;
    const n = await withTransaction(this.channel, async (tx) => {
      const events = await tx.take(batch);
      this.counter.countBatch(events.length, batch);
      if (events.length === 0) return 0;
      this.counter.EventDrainAttemptCount += events.length;
      const byTopic = new Map<string, Message[]>();
      for (const e of events) {
        const topic = this.o.allowTopicOverride ? (e.headers[this.o.topicHeader] ?? this.topic.format(e)) : this.o['kafka.topic'];
        const m: Message = { key: e.headers.key ?? null, value: this.o.useFlumeEventFormat ? encodeFlumeEvent(e) : e.body };
        const partition = this.partitionOf(e.headers);
        if (partition !== undefined) m.partition = partition;
        if (this.o.timestampHeader) {
          const ts = e.headers[this.o.timestampHeader];
          if (ts !== undefined && /^\d+$/.test(ts)) m.timestamp = ts;
        }
        if (this.headerMap.length > 0) {
          const headers: Record<string, string> = {};
          for (const [flume, kafka] of this.headerMap) if (e.headers[flume] !== undefined) headers[kafka] = e.headers[flume]!;
          m.headers = headers;
        }
        const list = byTopic.get(topic);
        if (list) list.push(m);
        else byTopic.set(topic, [m]);
      }
      const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
      try {
        await this.connect();
        await this.producer!.sendBatch({ topicMessages, acks: this.settings.acks, compression: this.settings.compression, timeout: this.settings.sendTimeout });
      } catch (err) {
        this.counter.EventWriteFail++;
        throw new FlumeError(ErrorCodes.SINK_DELIVERY, `Failed to publish events to Kafka: ${(err as Error).message}`, { cause: err });
      }
      return events.length;
    });
    this.counter.EventDrainSuccessCount += n;
    return n < batch ? 'BACKOFF' : 'READY';
  }

  private partitionOf(headers: Record<string, string>): number | undefined {
    if (this.o.partitionIdHeader) {
      const v = headers[this.o.partitionIdHeader];
      if (v !== undefined) {
        if (!/^\d+$/.test(v.trim())) throw new FlumeError(ErrorCodes.SINK_DELIVERY, `header ${this.o.partitionIdHeader}="${v}" is not a partition number`);
        return Number(v);
      }
    }
    return this.o.defaultPartitionId;
  }
}

export default defineSink({
  type: 'org.apache.flume.sink.kafka.KafkaSink',
  aliases: ['kafka'],
  description: 'Publishes events to a Kafka topic (Flume as a Kafka producer).',
  options,
  prefixes: ['kafka.producer.', 'header.'],
  validate(o, ctx) {
    const problems: OptionProblem[] = [...settingsFor(o, ctx).problems];
    if (o.requiredAcks !== undefined) {
      problems.push({ severity: 'warning', code: ErrorCodes.CONFIG_UNKNOWN_KEY, key: 'requiredAcks', message: `${ctx.fullKey('requiredAcks')} is deprecated; use ${ctx.prefix}kafka.producer.acks` });
    }
    return problems;
  },
  create: ({ name, channel, options, context, logger, counter }) =>
    new KafkaSink(name, channel, options, settingsFor(options, context), context, logger, counter),
});
