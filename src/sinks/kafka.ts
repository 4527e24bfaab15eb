import type { Message, TopicMessages } from 'kafkajs';
import {
  ErrorCodes,
  FlumeError,
  defineSink,
  opt,
  withTransaction,
  type Channel,
  type Context,
  type FlumeEvent,
  type Logger,
  type OptionProblem,
  type Options,
  type Sink,
  type SinkCounter,
  type Status,
  type Transaction,
} from '../plugin-api/index.js';
import { EscapedString } from '../formatting/escape.js';
import { createKafka, deprecatedKeys, kafkaSettings, type KafkaSettings } from '../kafka/client-options.js';
import { KafkaProducer } from '../kafka/producer.js';
import { encodeFlumeEvent } from '../kafka/flume-event.js';
import { clientPluginProblems, createClientPlugins, kafkajsPartitioner, type ClientPlugins } from '../kafka/client-plugins.js';
import { RateLimitedLog, type ComponentLookup } from '../plugin-api/index.js';

export const options = {
  'kafka.bootstrap.servers': opt.requiredString('Kafka brokers, host:port,host:port.', { aliases: ['brokerList'] }),
  'kafka.topic': opt.string('default-flume-topic', 'Topic to write to; %{header} and time escapes are resolved per event.', { aliases: ['topic'] }),
  flumeBatchSize: opt.integer(100, 'Events per transaction (and per Kafka request).', { min: 1, aliases: ['kafka.flumeBatchSize', 'batchSize'] }),
  requiredAcks: opt.optionalString('Deprecated: use kafka.producer.acks.'),
  useFlumeEventFormat: opt.boolean(false, 'Write the value as an Avro AvroFlumeEvent (headers and body) instead of the body alone.'),
  defaultPartitionId: opt.optionalInteger('Partition every event goes to (default: the partitioner decides, by the key when there is one).', { min: 0 }),
  partitionIdHeader: opt.optionalString('Header whose integer value selects the partition (overrides defaultPartitionId).'),
  allowTopicOverride: opt.boolean(true, 'Let the topicHeader header choose the topic.'),
  topicHeader: opt.string('topic', 'Header naming the topic when allowTopicOverride is on.'),
  timestampHeader: opt.optionalString('Header whose epoch-millis value becomes the record timestamp.'),
};

type KafkaSinkOptions = Options<typeof options>;

const DEPRECATED = [
  ['brokerList', 'kafka.bootstrap.servers'],
  ['topic', 'kafka.topic'],
  ['batchSize', 'flumeBatchSize'],
  ['requiredAcks', 'kafka.producer.acks'],
] as const;

function settingsFor(o: KafkaSinkOptions, ctx: Context): KafkaSettings {
  const s = kafkaSettings(ctx, { bootstrap: o['kafka.bootstrap.servers'], role: 'producer' });
  if (o.requiredAcks !== undefined && !ctx.containsKey('kafka.producer.acks')) {
    const a = o.requiredAcks.trim().toLowerCase();
    s.acks = a === 'all' || a === '-1' ? -1 : Number(a);
  }
  return s;
}

/** Kafka's retry settings for a sink: a send gives up within seconds, the transaction rolls back and the sink runner backs off. */
const SINK_RETRY = { retries: 2, initialRetryTime: 200 };

/**
 * Flume's Kafka sink: takes up to flumeBatchSize events, sends them in one request
 * (the `key` header as the message key), and commits the channel transaction only
 * after Kafka acknowledged the whole batch. Any failure rolls back, so a broker
 * outage leaves the events in the channel and the runner retries after its back-off.
 */
class KafkaSink implements Sink {
  private readonly producer: KafkaProducer;
  private readonly topic: EscapedString;
  /** kafka.topic as written, for allowTopicOverride=false (Flume does not resolve escapes then). */
  private readonly fixedTopic: string;
  private readonly headerMap: [string, string][];
  private readonly batch: number;
  private readonly o: KafkaSinkOptions;
  /** kafka.producer.partitioner.class and interceptor.classes, when the job names plugins. */
  private readonly plugins: ClientPlugins;
  private readonly interceptorLog: RateLimitedLog;

  constructor(
    readonly name: string,
    readonly channel: Channel,
    o: KafkaSinkOptions,
    settings: KafkaSettings,
    ctx: Context,
    logger: Logger,
    private readonly counter: SinkCounter,
    registry: ComponentLookup,
  ) {
    this.o = o;
    this.plugins = createClientPlugins(settings, ctx, registry, name, logger);
    this.interceptorLog = new RateLimitedLog(logger, 60_000);
    if (this.plugins.partitioner) settings = { ...settings, producer: { ...settings.producer, createPartitioner: kafkajsPartitioner(this.plugins.partitioner) } };
    this.topic = new EscapedString(o['kafka.topic']);
    this.fixedTopic = o['kafka.topic'];
    this.batch = o.flumeBatchSize;
    const h = ctx.subProperties('header.');
    this.headerMap = h.keys().map((k) => [k, h.getString(k)!]);
    const kafka = createKafka(settings, `flume-ts-${name}`, logger, SINK_RETRY);
    this.producer = new KafkaProducer(kafka, settings, `Kafka sink ${name}`, logger, counter);
    this.timers = counter.extend(['KafkaEventSendTimer', 'RollbackCount'] as const);
  }

  /** Flume's Kafka sink timer (ms) and rolled-back transactions. */
  private readonly timers: SinkCounter & Record<'KafkaEventSendTimer' | 'RollbackCount', number>;

  async start(): Promise<void> {
    this.producer.connectSoon();
  }

  async stop(): Promise<void> {
    await this.producer.stop();
    this.interceptorLog.flush();
    await this.plugins.close();
  }

  async process(): Promise<Status> {
    const n = await withTransaction(this.channel, (tx) => this.deliver(tx));
    this.counter.EventDrainSuccessCount += n;
    return n < this.batch ? 'BACKOFF' : 'READY';
  }

  private async deliver(tx: Transaction): Promise<number> {
    const events = await tx.take(this.batch);
    this.counter.countBatch(events.length, this.batch);
    if (events.length === 0) return 0;
    this.counter.EventDrainAttemptCount += events.length;
    const byTopic = new Map<string, Message[]>();
    for (const e of events) {
      const topic = this.topicOf(e);
      const list = byTopic.get(topic);
      if (list) list.push(this.messageOf(e));
      else byTopic.set(topic, [this.messageOf(e)]);
    }
    const topicMessages: TopicMessages[] = [];
    for (const [topic, messages] of byTopic) topicMessages.push({ topic, messages: this.intercept(topic, messages) });
    const t0 = Date.now();
    try {
      await this.producer.send(topicMessages);
      this.timers.KafkaEventSendTimer += Date.now() - t0;
      this.acknowledged(topicMessages);
    } catch (err) {
      this.acknowledged(topicMessages, err as Error);
      this.timers.KafkaEventSendTimer += Date.now() - t0;
      this.timers.RollbackCount++;
      this.counter.EventWriteFail++;
      throw new FlumeError(ErrorCodes.SINK_DELIVERY, `Failed to publish events to Kafka: ${(err as Error).message}`, { cause: err });
    }
    return events.length;
  }

  /** Runs the producer interceptors in order; one that throws is logged and skipped for that record, as the Java client does. */
  private intercept(topic: string, messages: Message[]): Message[] {
    const chain = this.plugins.interceptors;
    if (chain.length === 0) return messages;
    return messages.map((m) => {
      let r = { topic, key: m.key ?? null, value: m.value, headers: m.headers as Record<string, string | Buffer> | undefined, partition: m.partition };
      for (const i of chain) {
        try {
          r = { ...r, ...i.onSend(r) };
        } catch (err) {
          this.interceptorLog.warn('onSend', `Kafka sink ${this.name}: a producer interceptor's onSend failed: ${(err as Error).message}`);
        }
      }
      return { key: r.key, value: r.value, headers: r.headers, partition: r.partition, timestamp: m.timestamp };
    });
  }

  private acknowledged(topicMessages: TopicMessages[], error?: Error): void {
    for (const i of this.plugins.interceptors) {
      if (!i.onAcknowledgement) continue;
      for (const t of topicMessages) {
        for (const m of t.messages) {
          try {
            i.onAcknowledgement(error ? undefined : { topic: t.topic, partition: m.partition ?? -1 }, error);
          } catch (err) {
            this.interceptorLog.warn('onAcknowledgement', `Kafka sink ${this.name}: a producer interceptor's onAcknowledgement failed: ${(err as Error).message}`);
          }
        }
      }
    }
  }

  private topicOf(e: FlumeEvent): string {
    if (!this.o.allowTopicOverride) return this.fixedTopic;
    return e.headers[this.o.topicHeader] ?? this.topic.format(e);
  }

  private messageOf(e: FlumeEvent): Message {
    const o = this.o;
    const m: Message = { key: e.headers.key ?? null, value: o.useFlumeEventFormat ? encodeFlumeEvent(e) : e.body };
    const partition = this.partitionOf(e.headers);
    if (partition !== undefined) m.partition = partition;
    if (o.timestampHeader !== undefined) {
      const ts = e.headers[o.timestampHeader];
      if (ts !== undefined && /^\d+$/.test(ts)) m.timestamp = ts;
    }
    if (this.headerMap.length > 0) {
      const headers: Record<string, string> = {};
      for (const [flume, kafka] of this.headerMap) {
        const v = e.headers[flume];
        if (v !== undefined) headers[kafka] = v;
      }
      m.headers = headers;
    }
    return m;
  }

  private partitionOf(headers: Record<string, string>): number | undefined {
    const name = this.o.partitionIdHeader;
    if (name !== undefined) {
      const v = headers[name];
      if (v !== undefined) {
        if (!/^\d+$/.test(v.trim())) {
          this.counter.EventWriteFail++;
          throw new FlumeError(ErrorCodes.SINK_DELIVERY, `header ${name}="${v}" is not a partition number`);
        }
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
  validate(o, ctx, registry) {
    const settings = settingsFor(o, ctx);
    const problems: OptionProblem[] = [...deprecatedKeys(ctx, DEPRECATED), ...settings.problems, ...clientPluginProblems(settings, ctx, registry)];
    if (o.requiredAcks !== undefined) {
      const a = o.requiredAcks.trim().toLowerCase();
      if (a !== 'all' && a !== '-1' && a !== '0' && a !== '1') {
        problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: 'requiredAcks', message: `${ctx.fullKey('requiredAcks')}: expected all, -1, 0 or 1, got "${o.requiredAcks}"` });
      }
    }
    return problems;
  },
  create: ({ name, channel, options, context, logger, counter, registry }) => new KafkaSink(name, channel, options, settingsFor(options, context), context, logger, counter, registry),
});
