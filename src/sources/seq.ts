import { ChannelError, defineSource, opt, type ChannelProcessor, type FlumeEvent, type Options, type PollableSource, type SourceCounter, type Status } from '../plugin-api/index.js';

export const options = {
  batchSize: opt.integer(1, 'Events generated per call.', { min: 1 }),
  totalEvents: opt.integer(Number.MAX_SAFE_INTEGER, 'Stop after this many events.', { min: 0 }),
  backoffSleepIncrement: opt.duration(1000, 'Back-off increment (ms) once all events are sent.', { unit: 'ms', min: 1, max: 86_400_000 }),
  maxBackoffSleep: opt.duration(5000, 'Back-off cap (ms).', { unit: 'ms', min: 1, max: 86_400_000 }),
};

/**
 * Flume's sequence generator: bodies "0", "1", ... as text, no headers. A failed
 * put does not advance the counter, so the same numbers are retried.
 */
class SequenceGeneratorSource implements PollableSource {
  readonly kind = 'pollable';
  readonly backoffSleepIncrement: number;
  readonly maxBackoffSleep: number;
  private next = 0;

  constructor(
    private readonly o: Options<typeof options>,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
  ) {
    this.backoffSleepIncrement = o.backoffSleepIncrement;
    this.maxBackoffSleep = o.maxBackoffSleep;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async process(): Promise<Status> {
    const n = Math.min(this.o.batchSize, this.o.totalEvents - this.next);
    if (n <= 0) return 'BACKOFF';
    const batch = new Array<FlumeEvent>(n);
    for (let i = 0; i < n; i++) batch[i] = { headers: {}, body: Buffer.from(String(this.next + i)) };
    this.counter.EventReceivedCount += n;
    this.counter.AppendBatchReceivedCount++;
    try {
      await this.processor.processEventBatch(batch);
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      this.counter.ChannelWriteFail++;
      return 'READY';
    }
    this.next += n;
    this.counter.EventAcceptedCount += n;
    this.counter.AppendBatchAcceptedCount++;
    return 'READY';
  }
}

export default defineSource({
  type: 'seq',
  aliases: ['org.apache.flume.source.SequenceGeneratorSource'],
  description: 'Generates events whose bodies are a counter: 0, 1, 2, ... (for testing).',
  options,
  batchOption: 'batchSize',
  create: ({ options, processor, counter }) => new SequenceGeneratorSource(options, processor, counter),
});
