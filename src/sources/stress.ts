import { ChannelError, defineSource, opt, type ChannelProcessor, type FlumeEvent, type Options, type PollableSource, type SourceCounter, type Status } from '../plugin-api/index.js';

export const options = {
  size: opt.integer(500, 'Body size of each event in bytes.', { min: 0 }),
  maxTotalEvents: opt.integer(-1, 'Stop after this many attempted events (-1: never).', { min: -1 }),
  maxSuccessfulEvents: opt.integer(-1, 'Stop after this many events were stored (-1: never).', { min: -1 }),
  batchSize: opt.integer(1, 'Events per call.', { min: 1 }),
  maxEventsPerSecond: opt.integer(0, 'Rate limit (0: none).', { min: 0 }),
  backoffSleepIncrement: opt.duration(1000, 'Back-off increment (ms).', { unit: 'ms', min: 1, max: 86_400_000 }),
  maxBackoffSleep: opt.duration(5000, 'Back-off cap (ms).', { unit: 'ms', min: 1, max: 86_400_000 }),
};

/**
 * Flume's StressSource: fixed-size bodies as fast as the channel takes them. All
 * events share one body buffer (it is never written), so generation allocates only
 * the event objects. A failed put is counted and not retried.
 */
class StressSource implements PollableSource {
  readonly kind = 'pollable';
  readonly backoffSleepIncrement: number;
  readonly maxBackoffSleep: number;
  private readonly body: Buffer;
  private attempted = 0;
  private succeeded = 0;
  private windowStart = 0;
  private windowCount = 0;

  constructor(
    private readonly o: Options<typeof options>,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
  ) {
    this.backoffSleepIncrement = o.backoffSleepIncrement;
    this.maxBackoffSleep = o.maxBackoffSleep;
    this.body = Buffer.alloc(o.size, 0x7f);
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async process(): Promise<Status> {
    const o = this.o;
    if (o.maxTotalEvents >= 0 && this.attempted >= o.maxTotalEvents) return 'BACKOFF';
    if (o.maxSuccessfulEvents >= 0 && this.succeeded >= o.maxSuccessfulEvents) return 'BACKOFF';
    let n = o.batchSize;
    if (o.maxTotalEvents >= 0) n = Math.min(n, o.maxTotalEvents - this.attempted);
    if (o.maxEventsPerSecond > 0) {
      const now = Date.now();
      if (now - this.windowStart >= 1000) {
        this.windowStart = now;
        this.windowCount = 0;
      }
      n = Math.min(n, o.maxEventsPerSecond - this.windowCount);
      if (n <= 0) {
        await new Promise((r) => setTimeout(r, 1000 - (now - this.windowStart)));
        return 'READY';
      }
      this.windowCount += n;
    }
    const batch = new Array<FlumeEvent>(n);
    for (let i = 0; i < n; i++) batch[i] = { headers: {}, body: this.body };
    this.attempted += n;
    this.counter.EventReceivedCount += n;
    try {
      await this.processor.processEventBatch(batch);
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      this.counter.ChannelWriteFail++;
      return 'BACKOFF';
    }
    this.succeeded += n;
    this.counter.EventAcceptedCount += n;
    return 'READY';
  }
}

export default defineSource({
  type: 'org.apache.flume.source.StressSource',
  aliases: ['stress'],
  description: 'Generates fixed-size events as fast as possible (for load testing).',
  options,
  batchOption: 'batchSize',
  create: ({ options, processor, counter }) => new StressSource(options, processor, counter),
});
