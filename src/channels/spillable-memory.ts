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
  type Context,
  type FlumeEvent,
  type Logger,
  type Options,
  type Transaction,
} from '../plugin-api/index.js';
import { FileChannel, type FileTransaction } from './file/channel.js';
import { fileChannelConfig, fileOptions, validateFileOptions } from './file/index.js';

export const options = {
  memoryCapacity: opt.integer(10000, 'Events held in memory; 0 keeps everything in the overflow (a file channel).', { min: 0 }),
  overflowCapacity: opt.integer(100000000, 'Events held in the overflow on disk; 0 turns the overflow off (a memory channel).', { min: 0 }),
  overflowTimeout: opt.duration(3, 'Seconds a put waits for room in memory before it goes to the overflow.', { unit: 's', min: 0 }),
  byteCapacity: opt.optionalInteger('Bytes of event bodies memory may hold; 0 means no limit. Default: 80% of the V8 heap limit.', { min: 0 }),
  byteCapacityBufferPercentage: opt.integer(20, 'Percent of byteCapacity kept free as headroom.', { min: 0, max: 100 }),
  avgEventSize: opt.integer(500, 'Accepted for compatibility: bodies are counted at their real size.', { min: 1 }),
  overflowDeactivationThreshold: opt.integer(5, 'Accepted for compatibility: puts go to memory again as soon as it has room.', { min: 0, max: 100 }),
  ...fileOptions,
};

type SpillOptions = Options<typeof options>;

interface Run {
  overflow: boolean;
  n: number;
}

/**
 * Flume's SPILLABLEMEMORY channel: puts go to memory while it has room and spill to a
 * file channel (the overflow) when memory stayed full for overflowTimeout (at once
 * while the overflow already holds events); takes follow arrival order across both,
 * through a list of runs (n events from memory, m from the overflow, ...). What is in
 * memory is lost on a crash, as in Flume; what spilled survives.
 */
export class SpillableMemoryChannel implements Channel {
  readonly counter: ChannelCounter;
  readonly capacity: number;
  readonly transactionCapacity: number;
  readonly memoryCapacity: number;
  private readonly byteBudget: number;
  readonly overflow: FileChannel | undefined;
  readonly memory = new Deque<FlumeEvent>();
  private memUsed = 0;
  private memBytes = 0;
  readonly runs: Run[] = [];
  private readonly available = new AvailabilitySignal();
  private readonly spaceFreed = new AvailabilitySignal();
  private stopped = true;
  private readonly overflowTimeoutMs: number;

  constructor(
    readonly name: string,
    o: SpillOptions,
    logger: Logger,
    ctx?: Context,
  ) {
    const overflowCapacity = o.memoryCapacity === 0 && o.overflowCapacity === 0 ? 100000000 : o.overflowCapacity;
    this.memoryCapacity = o.memoryCapacity;
    this.capacity = o.memoryCapacity + overflowCapacity;
    this.transactionCapacity = o.transactionCapacity;
    this.overflowTimeoutMs = o.overflowTimeout * 1000;
    const bytes = o.byteCapacity ?? Math.floor(getHeapStatistics().heap_size_limit * 0.8);
    this.byteBudget = bytes === 0 ? Infinity : Math.floor(bytes * (1 - o.byteCapacityBufferPercentage / 100));
    this.counter = new ChannelCounter(name, this.capacity);
    if (overflowCapacity > 0) {
      const cfg = fileChannelConfig(o, overflowCapacity, 0, ctx);
      this.overflow = new FileChannel(`${name}-overflow`, { ...cfg, transactionCapacity: Math.max(o.transactionCapacity, 1) }, logger);
    }
  }

  get size(): number {
    return this.memory.length + (this.overflow?.size ?? 0);
  }

  async start(): Promise<void> {
    if (this.overflow) {
      await this.overflow.start();
      if (this.overflow.size > 0) this.runs.push({ overflow: true, n: this.overflow.size });
    }
    this.stopped = false;
    this.counter.ChannelSize = this.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.available.notify();
    this.spaceFreed.notify();
    await this.overflow?.stop();
  }

  transaction(): Transaction {
    return new SpillTransaction(this);
  }

  waitAvailable(timeoutMs: number): Promise<void> {
    if (this.size > 0 || this.stopped) return Promise.resolve();
    return this.available.wait(timeoutMs);
  }

  private appendRun(overflow: boolean, n: number): void {
    const last = this.runs[this.runs.length - 1];
    if (last && last.overflow === overflow) last.n += n;
    else this.runs.push({ overflow, n });
  }

  prependRuns(taken: readonly Run[]): void {
    for (let i = taken.length - 1; i >= 0; i--) {
      const r = taken[i]!;
      const first = this.runs[0];
      if (first && first.overflow === r.overflow) first.n += r.n;
      else this.runs.unshift({ overflow: r.overflow, n: r.n });
    }
  }

  private memoryHasRoom(n: number, bytes: number): boolean {
    return this.memUsed + n <= this.memoryCapacity && this.memBytes + bytes <= this.byteBudget;
  }

  /** Puts go to memory when it has room (waiting up to overflowTimeout while nothing has spilled), else to the overflow. */
  async commitPuts(puts: FlumeEvent[]): Promise<void> {
    let bytes = 0;
    for (const e of puts) bytes += bodyLength(e);
    // While something has spilled, a full memory sends puts straight to the overflow.
    const spilling = this.overflow !== undefined && this.runs.some((r) => r.overflow);
    const deadline = Date.now() + (spilling ? 0 : this.overflow ? this.overflowTimeoutMs : 3000);
    for (;;) {
      if (this.stopped) throw new ChannelError(ErrorCodes.CHANNEL_CLOSED, `channel ${this.name} is stopped`);
      if (this.memoryHasRoom(puts.length, bytes)) {
        this.memUsed += puts.length;
        this.memBytes += bytes;
        this.memory.pushAll(puts);
        this.appendRun(false, puts.length);
        this.afterPut(puts.length);
        return;
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.spaceFreed.wait(left);
    }
    if (!this.overflow) {
      throw new ChannelFullError(`Space for commit to queue couldn't be acquired. Sinks are likely not keeping up with sources, or the buffer size is too tight [channel=${this.name}]`);
    }
    const tx = this.overflow.transaction();
    try {
      await tx.put(puts);
      await tx.commit();
    } catch (e) {
      await tx.rollback().catch(() => {});
      throw e;
    }
    this.appendRun(true, puts.length);
    this.afterPut(puts.length);
  }

  private afterPut(n: number): void {
    this.counter.EventPutSuccessCount += n;
    this.counter.ChannelSize = this.size;
    this.available.notify();
  }

  releaseMemory(events: readonly FlumeEvent[]): void {
    if (events.length === 0) return;
    let bytes = 0;
    for (const e of events) bytes += bodyLength(e);
    this.memUsed -= events.length;
    this.memBytes -= bytes;
    this.spaceFreed.notify();
  }

  notifyAvailable(): void {
    this.counter.ChannelSize = this.size;
    this.available.notify();
  }
}

class SpillTransaction extends BaseTransaction {
  private puts: FlumeEvent[] = [];
  private readonly taken: Run[] = [];
  /** Events taken from memory, as the arrays they came in (no copy per event). */
  private readonly memTaken: FlumeEvent[][] = [];
  private ovfTx: FileTransaction | undefined;
  private takeCount = 0;

  constructor(private readonly ch: SpillableMemoryChannel) {
    super();
  }

  protected async doPut(events: readonly FlumeEvent[]): Promise<void> {
    this.ch.counter.EventPutAttemptCount += events.length;
    if (this.puts.length + events.length > this.ch.transactionCapacity) {
      throw new ChannelError(
        ErrorCodes.CHANNEL_TXN_CAPACITY,
        `Put queue for the transaction of channel ${this.ch.name} (transactionCapacity ${this.ch.transactionCapacity}) full, consider committing more frequently or increasing transactionCapacity`,
      );
    }
    for (const e of events) this.puts.push(e);
  }

  protected async doTake(max: number): Promise<FlumeEvent[]> {
    let want = Math.min(max, this.ch.transactionCapacity - this.takeCount);
    if (want <= 0) {
      throw new ChannelError(
        ErrorCodes.CHANNEL_TXN_CAPACITY,
        `Take list for the transaction of channel ${this.ch.name} (transactionCapacity ${this.ch.transactionCapacity}) full, consider committing more frequently`,
      );
    }
    const asked = want;
    const parts: FlumeEvent[][] = [];
    while (want > 0 && this.ch.runs.length > 0) {
      const head = this.ch.runs[0]!;
      const k = Math.min(want, head.n);
      let consumed: number;
      if (!head.overflow) {
        const got = this.ch.memory.shiftMany(k);
        this.memTaken.push(got);
        parts.push(got);
        consumed = got.length;
      } else {
        this.ovfTx ??= this.ch.overflow!.transaction() as FileTransaction;
        const before = this.ovfTx.takePtrs.length;
        parts.push(await this.ovfTx.take(k));
        consumed = this.ovfTx.takePtrs.length - before;
      }
      if (consumed === 0) {
        // The store holds fewer than its run says (damage skipped at replay): drop the run.
        this.ch.runs.shift();
        continue;
      }
      head.n -= consumed;
      if (head.n === 0) this.ch.runs.shift();
      const last = this.taken[this.taken.length - 1];
      if (last && last.overflow === head.overflow) last.n += consumed;
      else this.taken.push({ overflow: head.overflow, n: consumed });
      want -= consumed;
      this.takeCount += consumed;
    }
    // One run (the usual case) is returned as taken, without a copy.
    const out = parts.length === 1 ? parts[0]! : parts.flat();
    this.ch.counter.EventTakeAttemptCount += out.length + (out.length < asked ? 1 : 0);
    this.ch.counter.ChannelSize = this.ch.size;
    return out;
  }

  protected async doCommit(): Promise<void> {
    if (this.puts.length > 0) {
      await this.ch.commitPuts(this.puts);
      this.puts = [];
    }
    if (this.ovfTx) {
      await this.ovfTx.commit();
      this.ovfTx = undefined;
    }
    for (const m of this.memTaken) this.ch.releaseMemory(m);
    this.ch.counter.EventTakeSuccessCount += this.takeCount;
    this.memTaken.length = 0;
    this.taken.length = 0;
  }

  protected async doRollback(): Promise<void> {
    this.puts = [];
    if (this.ovfTx) await this.ovfTx.rollback();
    this.ovfTx = undefined;
    for (let i = this.memTaken.length - 1; i >= 0; i--) this.ch.memory.unshiftAll(this.memTaken[i]!);
    this.ch.prependRuns(this.taken);
    this.memTaken.length = 0;
    this.taken.length = 0;
    this.ch.notifyAvailable();
  }
}

export default defineChannel({
  type: 'SPILLABLEMEMORY',
  aliases: ['org.apache.flume.channel.SpillableMemoryChannel'],
  description: 'Holds events in memory and spills to disk (a file channel) when memory is full; what is in memory is lost on a crash.',
  options,
  prefixes: ['encryption.'],
  validate(o, ctx) {
    return o.overflowCapacity > 0 || o.memoryCapacity === 0 ? validateFileOptions(o, ctx) : [];
  },
  create: ({ name, options, logger, context }) => new SpillableMemoryChannel(name, options, logger, context),
});
