import { Partitioners, type Kafka, type Producer, type TopicMessages } from 'kafkajs';
import type { Logger } from '../core/logger.js';
import type { KafkaSettings } from './client-options.js';
import { installFastProduceEncoder } from './record-batch.js';

installFastProduceEncoder();

/** Connection counts a producer reports (the sink's SinkCounter fields). */
export interface ConnectionCounts {
  ConnectionCreatedCount: number;
  ConnectionClosedCount: number;
  ConnectionFailedCount: number;
}

/**
 * A kafkajs producer that connects on first use and again after a failed connect, so a
 * component starts while the brokers are away and delivers once they are back. Once
 * connected, kafkajs reconnects by itself inside each send's retries.
 */
export class KafkaProducer {
  private readonly producer: Producer;
  private connected = false;
  private connecting: Promise<void> | undefined;
  private stopped = false;

  constructor(
    kafka: Kafka,
    private readonly settings: KafkaSettings,
    private readonly label: string,
    private readonly logger: Logger,
    private readonly counts?: ConnectionCounts,
  ) {
    // The Java client's partitioner (murmur2 of the key), so keyed records land where Java Flume would put them.
    this.producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner, ...settings.producer });
  }

  /** Try to connect now without waiting; a failure is logged and the next send tries again. */
  connectSoon(): void {
    this.connect().catch((err) => this.logger.warn(`${this.label}: cannot connect to Kafka yet (${(err as Error).message}); will retry on the next send`));
  }

  connect(): Promise<void> {
    if (this.connected) return Promise.resolve();
    this.connecting ??= (async () => {
      try {
        await this.producer.connect();
      } catch (err) {
        if (this.counts) this.counts.ConnectionFailedCount++;
        throw err;
      } finally {
        this.connecting = undefined;
      }
      if (this.stopped) {
        await this.producer.disconnect().catch(() => {});
        return;
      }
      this.connected = true;
      if (this.counts) this.counts.ConnectionCreatedCount++;
      this.logger.info(`${this.label}: connected to Kafka at ${brokerList(this.settings)}`);
    })();
    return this.connecting;
  }

  /** Sends and resolves once Kafka acknowledged every message (as `acks` asks); rejects otherwise. */
  async send(topicMessages: TopicMessages[]): Promise<void> {
    await this.connect();
    const s = this.settings;
    await this.producer.sendBatch({ topicMessages, acks: s.acks, compression: s.compression, timeout: s.sendTimeout });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.connecting?.catch(() => {});
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect().catch(() => {});
    if (this.counts) this.counts.ConnectionClosedCount++;
  }
}

export function brokerList(s: KafkaSettings): string {
  return Array.isArray(s.client.brokers) ? s.client.brokers.join(',') : '(brokers from a function)';
}
