import type { Consumer, ConsumerConfig, EachBatchHandler, Kafka } from 'kafkajs';
import type { Logger } from '../core/logger.js';
import { sleep } from '../core/lifecycle.js';
import { RateLimitedLog } from '../core/rate-limit.js';
import { RangeAssigner } from './assigner.js';

export interface GroupConsumerOptions {
  /** How log lines name the component, e.g. `Kafka source r1`. */
  label: string;
  kafka: Kafka;
  config: ConsumerConfig;
  topics: (string | RegExp)[];
  fromBeginning: boolean;
  /** kafkajs' eachBatch; offsets are never auto-committed. */
  eachBatch: EachBatchHandler;
  /** false: the handler resolves offsets itself (batch.messages it did not store are fetched again). */
  eachBatchAutoResolve: boolean;
  logger: Logger;
  /** First and longest wait before a consumer is made again after it failed (ms). */
  backoffMs: number;
  maxBackoffMs: number;
  /** The group (re)assigned partitions: reading resumes from the committed offsets. */
  onJoin?(assignment: Record<string, number[]>): void;
  /** The consumer is being replaced or stopped: what it fetched and was not committed will be read again. */
  onReset?(): void;
  /** A fetch ended (for Flume's KafkaEventGetTimer and KafkaEmptyCount). */
  onFetch?(durationMs: number, batches: number): void;
}

/** How long stop() waits for a connect that kafkajs is still retrying. */
const STOP_WAIT_MS = 3000;

/**
 * A kafkajs group consumer that is made again after it dies. kafkajs restarts a
 * consumer itself after a retriable error, but some failures end it for good
 * (`consumer.crash` with restart=false; e.g. GROUP_ID_NOT_FOUND from a coordinator
 * that lost its state, or no broker reachable when it started). Then this class
 * disconnects it, waits a growing back-off, and makes a new one, until stopped.
 * Start never fails because Kafka is away: it keeps trying, as Java Flume's consumer does.
 */
export class GroupConsumer {
  private consumer: Consumer | undefined;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private wakeOnStop: (() => void) | undefined;

  /** A broker that stays down fails every retry: one line per kind, then a count. */
  private readonly failures: RateLimitedLog;

  constructor(private readonly o: GroupConsumerOptions) {
    this.failures = new RateLimitedLog(o.logger);
  }

  /** The live consumer, if any (for commitOffsets outside eachBatch). */
  get current(): Consumer | undefined {
    return this.consumer;
  }

  get groupId(): string {
    return this.o.config.groupId;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    this.wakeOnStop?.();
    // disconnect() stops the fetch loop, waits for a running eachBatch, and leaves the group.
    await this.consumer?.disconnect().catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise<void>((r) => (timer = setTimeout(r, STOP_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    const o = this.o;
    const signal = this.abort.signal;
    let wait = o.backoffMs;
    while (!signal.aborted) {
      const consumer = o.kafka.consumer({ partitionAssigners: [RangeAssigner], ...o.config });
      this.consumer = consumer;
      let fetched = false;
      let crashed: ((err: Error) => void) | undefined;
      const ended = new Promise<Error | undefined>((resolve) => {
        crashed = resolve;
        this.wakeOnStop = () => resolve(undefined);
      });
      consumer.on(consumer.events.CRASH, (e) => {
        if (signal.aborted) return;
        if (e.payload.restart) {
          this.failures.warn('crash', `${o.label}: consumer failed (${e.payload.error.message}); kafkajs restarts it`);
        } else {
          crashed!(e.payload.error);
        }
      });
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        wait = o.backoffMs;
        fetched = false;
        const assignment = e.payload.memberAssignment as Record<string, number[]>;
        o.logger.info(`${o.label}: joined group ${e.payload.groupId}, assigned ${describe(assignment)}`);
        o.onJoin?.(assignment);
      });
      consumer.on(consumer.events.FETCH, (e) => {
        o.onFetch?.(e.payload.duration, e.payload.numberOfBatches);
        if (fetched) return;
        fetched = true;
        o.logger.info(`${o.label}: consuming as group ${o.config.groupId}`);
      });
      let failure: string;
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: o.topics, fromBeginning: o.fromBeginning });
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: o.eachBatchAutoResolve, eachBatch: o.eachBatch });
        const err = await ended;
        failure = `consumer stopped (${err?.message ?? 'stopping'}); making a new one`;
      } catch (err) {
        failure = `cannot reach Kafka (${(err as Error).message}); trying again`;
      }
      o.onReset?.();
      // Also when stopping: a connect still under way when stop() ran ends here.
      await consumer.disconnect().catch(() => {});
      if (signal.aborted) break;
      this.failures.warn('retry', `${o.label}: ${failure} in ${wait} ms`);
      await sleep(wait, signal);
      wait = Math.min(wait * 2, o.maxBackoffMs);
    }
  }
}

function describe(assignment: Record<string, number[]>): string {
  const parts = Object.entries(assignment).map(([t, ps]) => `${t}[${[...ps].sort((a, b) => a - b).join(',')}]`);
  return parts.length > 0 ? parts.join(' ') : 'no partitions';
}
