import type { Channel } from './channel.js';
import { compactSlices, type FlumeEvent } from './event.js';
import type { Interceptor, ChannelSelector } from './routing.js';
import type { Logger } from './logger.js';
import { RateLimitedLog } from './rate-limit.js';
import { withTransaction } from './transaction.js';
import { ChannelError, ErrorCodes } from './errors.js';
import { ChannelProcessorCounter } from './counters.js';

/**
 * Runs the interceptor chain, asks the selector where each event goes, and puts
 * each batch into each required channel in one transaction per channel. The call
 * resolves only when every required channel committed, so a source acknowledges
 * upstream only then; it rejects with a ChannelError otherwise. As in Flume, channels
 * committed before a failing one keep their events (at-least-once: a resend may
 * duplicate there).
 */
export class ChannelProcessor {
  /** What routing dropped: served by monitoring as CHANNEL_PROCESSOR.<source>. */
  readonly counters: ChannelProcessorCounter;

  /**
   * The largest batch every channel of the source accepts in one transaction. Sources
   * that gather input freely (netcat lines, file chunks) split by it; sources whose
   * client fixed the batch (an avro appendBatch) hand it over whole, as Flume does.
   */
  readonly maxBatchSize: number;
  /** An optional channel that is full refuses every batch: one line per channel, then a count. */
  private readonly optionalFailures: RateLimitedLog;

  constructor(
    readonly selector: ChannelSelector,
    private readonly interceptors: readonly Interceptor[],
    logger: Logger,
    sourceName = 'source',
  ) {
    this.counters = new ChannelProcessorCounter(sourceName);
    let max = Infinity;
    for (const ch of selector.allChannels) max = Math.min(max, ch.transactionCapacity);
    this.maxBatchSize = Number.isFinite(max) && max > 0 ? max : 100;
    this.optionalFailures = new RateLimitedLog(logger);
  }

  async initialize(): Promise<void> {
    for (const i of this.interceptors) await i.initialize?.();
  }

  async close(): Promise<void> {
    for (const i of this.interceptors) await i.close?.();
    await this.selector.close?.();
    this.optionalFailures.flush();
  }

  /** One event, as Flume's processEvent. */
  processEvent(event: FlumeEvent): Promise<void> {
    return this.processEventBatch([event]);
  }

  async processEventBatch(input: FlumeEvent[]): Promise<void> {
    let events = input;
    for (let i = 0; i < this.interceptors.length && events.length > 0; i++) {
      const before = events.length;
      events = this.interceptors[i]!.intercept(events);
      this.counters.InterceptorDropCount += before - events.length;
    }
    if (events.length === 0) return;
    // The events left must not keep alive the buffers their dropped neighbours shared.
    if (events.length < input.length) events = compactSlices(events);

    const fixed = this.selector.fixed;
    if (fixed) {
      for (const ch of fixed.required) await this.putRequired(ch, events);
      for (const ch of fixed.optional) await this.putOptional(ch, events);
      return;
    }

    const required = new Map<Channel, FlumeEvent[]>();
    const optional = new Map<Channel, FlumeEvent[]>();
    for (const e of events) {
      const req = this.selector.getRequiredChannels(e);
      if (req.length === 0) this.counters.UnroutedEventCount++;
      for (const ch of req) append(required, ch, e);
      for (const ch of this.selector.getOptionalChannels(e)) append(optional, ch, e);
    }
    // A channel that gets part of the batch gets its own copy of the sliced bodies (see compactSlices).
    for (const [ch, batch] of required) await this.putRequired(ch, batch.length < events.length ? compactSlices(batch) : batch);
    for (const [ch, batch] of optional) await this.putOptional(ch, batch.length < events.length ? compactSlices(batch) : batch);
  }

  private async putRequired(ch: Channel, events: readonly FlumeEvent[]): Promise<void> {
    try {
      await withTransaction(ch, (tx) => tx.put(events));
    } catch (err) {
      if (err instanceof ChannelError) throw err;
      throw new ChannelError(ErrorCodes.CHANNEL_CLOSED, `Unable to put batch on required channel: ${ch.name}: ${(err as Error).message}`, { cause: err });
    }
  }

  private async putOptional(ch: Channel, events: readonly FlumeEvent[]): Promise<void> {
    try {
      await withTransaction(ch, (tx) => tx.put(events));
    } catch (err) {
      this.counters.OptionalChannelPutFailCount += events.length;
      this.optionalFailures.warn(`optional:${ch.name}`, `Unable to put batch on optional channel ${ch.name}: ${(err as Error).message}`);
    }
  }
}

function append(map: Map<Channel, FlumeEvent[]>, ch: Channel, e: FlumeEvent): void {
  const list = map.get(ch);
  if (list) list.push(e);
  else map.set(ch, [e]);
}
