// The seed notes' custom sink: logs each body between a prefix and a suffix.
import { defineSink, opt, withTransaction } from 'flume-ts/plugin';

export default defineSink({
  type: 'com.atguigu.MySink',
  description: 'Logs "<prefix><body><suffix>" for each event (the seed notes\' MySink).',
  options: {
    prefix: opt.string('', 'Text before each body.'),
    suffix: opt.string('', 'Text after each body.'),
  },
  create({ name, channel, options, logger, counter }) {
    return {
      name,
      channel,
      async start() {},
      async stop() {},
      async process() {
        const n = await withTransaction(channel, async (tx) => {
          const events = await tx.take(100);
          counter.EventDrainAttemptCount += events.length;
          for (const e of events) logger.info(options.prefix + e.body.toString('utf8') + options.suffix);
          return events.length;
        });
        counter.EventDrainSuccessCount += n;
        return n === 0 ? 'BACKOFF' : 'READY';
      },
    };
  },
});
