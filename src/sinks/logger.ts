import { defineSink, dumpEvent, opt, withTransaction, type Channel, type Logger, type Sink, type SinkCounter, type Status } from '../plugin-api/index.js';

export const options = {
  maxBytesToLog: opt.integer(16, 'Body bytes shown in each log line (Flume ignores this key, a known bug; here it is honoured).', { min: 0 }),
};

/** Events per transaction; Flume takes one, the log lines are the same. */
const BATCH = 100;

/** Logs each event at INFO as Flume's LoggerSink: `Event: { headers:{...} body: <hex> <text> }`. */
class LoggerSink implements Sink {
  constructor(
    readonly name: string,
    readonly channel: Channel,
    private readonly maxBytes: number,
    private readonly logger: Logger,
    private readonly counter: SinkCounter,
  ) {}

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async process(): Promise<Status> {
    const n = await withTransaction(this.channel, async (tx) => {
      const events = await tx.take(BATCH);
      this.counter.countBatch(events.length, BATCH);
      this.counter.EventDrainAttemptCount += events.length;
      for (const e of events) this.logger.info('Event: ' + dumpEvent(e, this.maxBytes));
      return events.length;
    });
    this.counter.EventDrainSuccessCount += n;
    return n === 0 ? 'BACKOFF' : 'READY';
  }
}

export default defineSink({
  type: 'logger',
  aliases: ['org.apache.flume.sink.LoggerSink'],
  description: 'Logs every event at INFO level (for testing and debugging).',
  options,
  create: ({ name, channel, options, logger, counter }) => new LoggerSink(name, channel, options.maxBytesToLog, logger, counter),
});
