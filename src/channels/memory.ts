import { getHeapStatistics } from 'node:v8';
import {
  AvailabilitySignal,
  BaseTransaction,
  bodyLength,
  ChannelCounter,
  ChannelError,
  ChannelFullError,
  Deque,
  ErrorCodes,
  defineChannel,
  opt,
  type Channel,
  type FlumeEvent,
  type Options,
  type Transaction,
} from '../plugin-api/index.js';

export const options = {
  capacity: opt.integer(100, 'The maximum number of events stored in the channel.', { min: 1, max: 2_147_483_647 }),
  transactionCapacity: opt.integer(100, 'The maximum number of events one transaction may put or take.', { min: 1, max: 2_147_483_647 }),
  'keep-alive': opt.duration(3, 'Seconds a commit waits for free space before failing with a channel-full error.', { unit: 's', min: 0, max: 86_400 }),
  byteCapacity: opt.optionalInteger('Bytes of event bodies the channel may hold (counted in 100-byte slots); 0 means no limit. Default: 80% of the V8 heap limit.', { min: 0 }),
  byteCapacityBufferPercentage: opt.integer(20, 'Percent of byteCapacity kept free as headroom.', { min: 0, max: 100 }),
};

type MemoryOptions = Options<typeof options>;

/** Bodies are accounted in slots of this many bytes, as Flume does. */
const SLOT = 100;
const slotsOf = (e: FlumeEvent): number => Math.max(1, Math.ceil(bodyLength(e) / SLOT));

/**
 * Flume's MemoryChannel: puts are staged in the transaction and reach the queue only
 * at commit, which waits up to keep-alive for room (count and bytes); takes leave the
 * queue at once but keep their room until commit, and a rollback returns them to the
 * head in their order. Nothing survives a restart.
 */
export class MemoryChannel implements Channel {
  readonly counter: ChannelCounter;
  readonly capacity: number;
  readonly transactionCapacity: number;
  private readonly keepAliveMs: number;
  /** Usable byte slots; Infinity when unlimited. */
  private readonly slotCapacity: number;
  private readonly queue = new Deque<FlumeEvent>();
  /** Events stored plus events taken by open transactions: the room in use. */
  private used = 0;
  private usedSlots = 0;
  private readonly available = new AvailabilitySignal();
  private readonly spaceFreed = new AvailabilitySignal();
  private stopped = false;

  constructor(
    readonly name: string,
    o: MemoryOptions,
  ) {
    this.capacity = o.capacity;
    this.transactionCapacity = o.transactionCapacity;
    this.keepAliveMs = o['keep-alive'] * 1000;
    const bytes = o.byteCapacity ?? Math.floor(getHeapStatistics().heap_size_limit * 0.8);
    this.slotCapacity = bytes === 0 ? Infinity : Math.floor((bytes * (1 - o.byteCapacityBufferPercentage / 100)) / SLOT);
    this.counter = new ChannelCounter(name, this.capacity);
  }

  get size(): number {
    return this.queue.length;
  }

  get takesInFlight(): number {
    return this.used - this.queue.length;
  }

  async start(): Promise<void> {
    this.stopped = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.available.notify();
    this.spaceFreed.notify();
  }

  transaction(): Transaction {
    return new MemoryTransaction(this);
  }

  waitAvailable(timeoutMs: number): Promise<void> {
    if (this.queue.length > 0 || this.stopped) return Promise.resolve();
    return this.available.wait(timeoutMs);
  }

  /** Called by a transaction's commit: make room and publish the puts. */
  async commit(puts: FlumeEvent[], takes: FlumeEvent[]): Promise<void> {
    const change = puts.length - takes.length;
    let slotChange = 0;
    for (const e of puts) slotChange += slotsOf(e);
    for (const e of takes) slotChange -= slotsOf(e);
    if (change > 0 || slotChange > 0) {
      const deadline = Date.now() + this.keepAliveMs;
      for (;;) {
        if (this.stopped) throw new ChannelError(ErrorCodes.CHANNEL_CLOSED, `channel ${this.name} is stopped`);
        const bytesOk = slotChange <= 0 || this.usedSlots + slotChange <= this.slotCapacity;
        const roomOk = change <= 0 || this.used + change <= this.capacity;
        if (bytesOk && roomOk) break;
        const left = deadline - Date.now();
        if (left <= 0) {
          if (!bytesOk) {
            throw new ChannelError(
              ErrorCodes.CHANNEL_BYTES_FULL,
              `Cannot commit transaction. Byte capacity allocated to store event body ${this.slotCapacity * SLOT} reached. ` +
                'Please increase heap space/byte capacity allocated or consume more events from the channel, or consider using the File Channel',
            );
          }
          throw new ChannelFullError("Space for commit to queue couldn't be acquired. Sinks are likely not keeping up with sources, or the buffer size is too tight");
        }
        await this.spaceFreed.wait(left);
      }
    }
    this.used += change;
    this.usedSlots += slotChange;
    if (puts.length > 0) {
      this.queue.pushAll(puts);
      this.available.notify();
    }
    if (change < 0 || slotChange < 0) this.spaceFreed.notify();
    this.counter.EventPutSuccessCount += puts.length;
    this.counter.EventTakeSuccessCount += takes.length;
    this.counter.ChannelSize = this.queue.length;
  }

  /** Take events off the head; their room stays in use until commit or rollback. */
  takeFromQueue(max: number): FlumeEvent[] {
    return this.queue.shiftMany(max);
  }

  rollbackTakes(takes: FlumeEvent[]): void {
    if (takes.length === 0) return;
    this.queue.unshiftAll(takes);
    this.counter.ChannelSize = this.queue.length;
    this.available.notify();
  }
}

class MemoryTransaction extends BaseTransaction {
  private puts: FlumeEvent[] = [];
  private takes: FlumeEvent[] = [];

  constructor(private readonly ch: MemoryChannel) {
    super();
  }

  protected async doPut(events: readonly FlumeEvent[]): Promise<void> {
    this.ch.counter.EventPutAttemptCount += events.length;
    if (this.puts.length + events.length > this.ch.transactionCapacity) {
      throw new ChannelError(
        ErrorCodes.CHANNEL_TXN_CAPACITY,
        `Put queue for MemoryTransaction of capacity ${this.ch.transactionCapacity} full, consider committing more frequently, increasing capacity or increasing thread count`,
      );
    }
    if (this.puts.length === 0 && Array.isArray(events)) this.puts = events.slice();
    else for (const e of events) this.puts.push(e);
  }

  protected async doTake(max: number): Promise<FlumeEvent[]> {
    const room = this.ch.transactionCapacity - this.takes.length;
    if (room <= 0) {
      throw new ChannelError(
        ErrorCodes.CHANNEL_TXN_CAPACITY,
        `Take list for MemoryTransaction, capacity ${this.ch.transactionCapacity} full, consider committing more frequently, increasing capacity, or increasing thread count`,
      );
    }
    const want = Math.min(max, room);
    const got = this.ch.takeFromQueue(want);
    // Flume counts one attempt per take() call, including the one that found nothing.
    this.ch.counter.EventTakeAttemptCount += got.length + (got.length < want ? 1 : 0);
    if (this.takes.length === 0) this.takes = got;
    else for (const e of got) this.takes.push(e);
    return got;
  }

  protected doCommit(): Promise<void> {
    return this.ch.commit(this.puts, this.takes);
  }

  protected async doRollback(): Promise<void> {
    this.ch.rollbackTakes(this.takes);
    this.takes = [];
    this.puts = [];
  }
}

export default defineChannel({
  type: 'memory',
  aliases: ['org.apache.flume.channel.MemoryChannel'],
  description: 'Holds events in memory: fast, bounded, lost on restart.',
  options,
  validate(o, ctx) {
    if (o.transactionCapacity > o.capacity) {
      return [
        {
          severity: 'error',
          code: ErrorCodes.CONFIG_VALUE,
          key: ctx.containsKey('transactionCapacity') ? 'transactionCapacity' : 'capacity',
          message: `${ctx.prefix}transactionCapacity (${o.transactionCapacity}) must not exceed ${ctx.prefix}capacity (${o.capacity})`,
        },
      ];
    }
    return [];
  },
  create: ({ name, options }) => new MemoryChannel(name, options),
});
