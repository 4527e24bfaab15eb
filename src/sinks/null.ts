import { defineSink, opt, withTransaction, type Channel, type Logger, type Sink, type SinkCounter, type Status } from '../plugin-api/index.js';

export const options = {
  batchSize: opt.integer(100, 'Events taken and discarded per transaction.', { min: 1 }),
  logEveryNEvents: opt.integer(10000, 'Log progress at INFO every this many events.', { min: 1 }),
};

/** Takes events and discards them. */
class NullSink implements Sink {
  private total = 0;
  private nextLog: number;

  constructor(
    readonly name: string,
    readonly channel: Channel,
    private readonly batchSize: number,
    private readonly logEvery: number,
    private readonly logger: Logger,
    private readonly counter: SinkCounter,
  ) {
    this.nextLog = logEvery;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async process(): Promise<Status> {
    const n = await withTransaction(this.channel, async (tx) => (await tx.take(this.batchSize)).length);
    this.counter.countBatch(n, this.batchSize);
    this.counter.EventDrainAttemptCount += n;
    this.counter.EventDrainSuccessCount += n;
    this.total += n;
    if (this.total >= this.nextLog) {
      this.logger.info(`${this.name}: ${this.total} events consumed`);
      this.nextLog = this.total + this.logEvery;
    }
    return n < this.batchSize ? 'BACKOFF' : 'READY';
  }
}

export default defineSink({
  type: 'null',
  aliases: ['org.apache.flume.sink.NullSink'],
  description: 'Discards every event (for testing and benchmarks).',
  options,
  batchOption: 'batchSize',
  create: ({ name, channel, options, logger, counter }) => new NullSink(name, channel, options.batchSize, options.logEveryNEvents, logger, counter),
});
