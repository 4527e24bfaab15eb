import { Kafka, type Consumer, type KafkaMessage } from 'kafkajs';
import { defineSource } from '../core/component.js';
import { opt, type Options, type OptionProblem } from '../core/options.js';
import type { EventDrivenSource } from '../core/source.js';
import type { ChannelProcessor } from '../core/channel-processor.js';
import type { SourceCounter } from '../core/counters.js';
import type { Logger } from '../core/logger.js';
import type { Context } from '../core/context.js';
import type { FlumeEvent } from '../core/event.js';
import { ErrorCodes } from '../core/errors.js';
import { sleep } from '../core/lifecycle.js';
import { kafkaLogCreator, kafkaSettings, type KafkaSettings } from '../kafka/client-options.js';
import { decodeFlumeEvent } from '../kafka/flume-event.js';

export const options = {
  'kafka.bootstrap.servers': opt.requiredString('Kafka brokers, host:port,host:port.'),
  'kafka.topics': opt.optionalString('Comma-separated topics to read.', { deprecatedAliases: ['topic'] }),
  'kafka.topics.regex': opt.optionalString('Regular expression of topics to read (overrides kafka.topics).'),
  groupId: opt.optionalString('Deprecated: use kafka.consumer.group.id.'),
  batchSize: opt.integer(1000, 'Most records per channel transaction.', { min: 1 }),
  batchDurationMillis: opt.integer(1000, 'Longest wait (ms) for a batch to fill.', { min: 1 }),
  backoffSleepIncrement: opt.integer(1000, 'First wait (ms) before retrying a batch the channel refused.', { min: 1 }),
  maxBackoffSleep: opt.integer(5000, 'Longest wait (ms) between retries of a refused batch.', { min: 1 }),
  useFlumeEventFormat: opt.boolean(false, 'Record values are Avro AvroFlumeEvents (headers and body), as the Kafka sink writes with the same option.'),
  setTopicHeader: opt.boolean(true, 'Add the topic header.'),
  topicHeader: opt.string('topic', 'Name of the topic header.'),
  migrateZookeeperOffsets: opt.boolean(true, 'Accepted for compatibility; not applicable (offsets live in Kafka).'),
  zookeeperConnect: opt.optionalString('Accepted for compatibility; not applicable.'),
};

type KafkaSourceOptions = Options<typeof options>;

function settingsFor(o: KafkaSourceOptions, ctx: Context): KafkaSettings {
  // Flume's source leaves auto.offset.reset at Kafka's default, latest.
  const s = kafkaSettings(ctx, { bootstrap: o['kafka.bootstrap.servers'], consumer: true, groupId: o.groupId ?? 'flume' });
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
  readonly kind = 'event-driven';
  private consumer: Consumer | undefined;
  private readonly abort = new AbortController();
  private readonly headerMap: [string, string][];

  constructor(
    private readonly name: string,
    private readonly o: KafkaSourceOptions,
    private readonly settings: KafkaSettings,
    ctx: Context,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
    private readonly logger: Logger,
  ) {
    const h = ctx.subProperties('header.');
    this.headerMap = h.keys().map((k) => [k, h.getString(k)!]);
  }

  async start(): Promise<void> {
    const kafka = new Kafka({ ...this.settings.client, clientId: this.settings.client.clientId ?? `flume-ts-${this.name}`, logCreator: kafkaLogCreator(this.logger) });
    const consumer = kafka.consumer({
      maxWaitTimeInMs: this.o.batchDurationMillis,
      ...this.settings.consumer,
      groupId: this.settings.consumer.groupId ?? 'flume',
    });
    this.consumer = consumer;
    await consumer.connect();
    const regex = this.o['kafka.topics.regex'];
    const topics = regex ? [new RegExp(regex)] : (this.o['kafka.topics'] ?? '').split(',').map((t) => t.trim()).filter(Boolean);
    await consumer.subscribe({ topics, fromBeginning: this.settings.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
        const msgs = batch.messages;
        for (let i = 0; i < msgs.length; i += this.o.batchSize) {
          if (!isRunning() || isStale()) return;
          const chunk = msgs.slice(i, i + this.o.batchSize);
          const events = this.toEvents(batch.topic, batch.partition, chunk);
          if (events.length > 0) {
            const stored = await this.store(events, heartbeat, () => isRunning() && !isStale());
            // Not stored (stopping or rebalancing): leave the offsets, the records come again.
            if (!stored) throw new Error('batch not stored; its records will be read again');
          }
          const next = (BigInt(chunk[chunk.length - 1]!.offset) + 1n).toString();
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
          await heartbeat();
        }
      },
    });
    this.logger.info(`Kafka source ${this.name} reading ${regex ? `topics matching /${regex}/` : topics.join(',')} as group ${this.settings.consumer.groupId ?? 'flume'}`);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.consumer?.disconnect().catch(() => {});
  }

  private toEvents(topic: string, partition: number, msgs: KafkaMessage[]): FlumeEvent[] {
    const events: FlumeEvent[] = [];
    for (const m of msgs) {
      let e: FlumeEvent;
      if (this.o.useFlumeEventFormat) {
        try {
          e = decodeFlumeEvent(m.value ?? Buffer.alloc(0));
        } catch (err) {
          this.counter.EventReadFail++;
          this.logger.warn(`Kafka source ${this.name}: ${topic}/${partition}@${m.offset} is not an AvroFlumeEvent (${(err as Error).message}); skipped`);
          continue;
        }
      } else {
        e = { headers: {}, body: m.value ?? Buffer.alloc(0) };
      }
      const h = e.headers;
      h.timestamp ??= m.timestamp;
      if (this.o.setTopicHeader) h[this.o.topicHeader] ??= topic;
      h.partition ??= String(partition);
      h.offset ??= m.offset;
      if (m.key !== null && m.key !== undefined) h.key = m.key.toString('utf8');
      for (const [flume, kafka] of this.headerMap) {
        const v = m.headers?.[kafka];
        if (v !== undefined) h[flume] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
      }
      events.push(e);
    }
    this.counter.EventReceivedCount += events.length;
    return events;
  }

  /** Puts the batch, retrying a refused batch with back-off; false when it gave up because the source is stopping. */
  private async store(events: FlumeEvent[], heartbeat: () => Promise<void>, alive: () => boolean): Promise<boolean> {
    let wait = this.o.backoffSleepIncrement;
    for (;;) {
      try {
        await this.processor.processEventBatch(events);
        this.counter.EventAcceptedCount += events.length;
        this.counter.AppendBatchAcceptedCount++;
        return true;
      } catch (err) {
        this.counter.ChannelWriteFail++;
        this.logger.warn(`Kafka source ${this.name}: channel refused ${events.length} events (${(err as Error).message}); retrying in ${wait} ms`);
      }
      if (this.abort.signal.aborted || !alive()) return false;
      await sleep(wait, this.abort.signal);
      await heartbeat().catch(() => {});
      if (this.abort.signal.aborted || !alive()) return false;
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
    const problems: OptionProblem[] = [...settingsFor(o, ctx).problems];
    if (!o['kafka.topics'] && !o['kafka.topics.regex']) {
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_REQUIRED, key: 'kafka.topics', message: `${ctx.prefix}kafka.topics (or kafka.topics.regex) is required` });
    }
    if (o['kafka.topics.regex']) {
      try {
        new RegExp(o['kafka.topics.regex']);
      } catch (e) {
        problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: 'kafka.topics.regex', message: `${ctx.fullKey('kafka.topics.regex')}: not a valid regular expression: ${(e as Error).message}` });
      }
    }
    if (o.groupId !== undefined) {
      problems.push({ severity: 'warning', code: ErrorCodes.CONFIG_UNKNOWN_KEY, key: 'groupId', message: `${ctx.fullKey('groupId')} is deprecated; use ${ctx.prefix}kafka.consumer.group.id` });
    }
    return problems;
  },
  create: ({ name, options, context, processor, counter, logger }) =>
    new KafkaSource(name, options, settingsFor(options, context), context, processor, counter, logger),
});
