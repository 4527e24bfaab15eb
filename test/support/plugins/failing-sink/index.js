// A test sink, loaded as a plugin with --plugins-path: it appends every event it
// delivers to `outFile` as one JSON line {"sink", "headers", "body"}, and fails
// (after taking its batch, which then rolls back) while the file `failFile` exists,
// as a sink whose destination is down would.
import fs from 'node:fs';
import { defineSink, opt, withTransaction } from '../../../../dist/src/plugin-api/index.js';

export const options = {
  outFile: opt.requiredString('File the delivered events are appended to, one JSON line each.'),
  failFile: opt.optionalString('While this file exists, every process() call fails.'),
  batchSize: opt.integer(100, 'Events taken per transaction.', { min: 1 }),
};

class FailingSink {
  constructor(name, channel, o, logger, counter) {
    this.name = name;
    this.channel = channel;
    this.o = o;
    this.logger = logger;
    this.counter = counter;
  }

  async start() {}
  async stop() {}

  async process() {
    const n = await withTransaction(this.channel, async (tx) => {
      const events = await tx.take(this.o.batchSize);
      if (this.o.failFile !== undefined && fs.existsSync(this.o.failFile)) {
        throw new Error(`sink ${this.name} fails on command (${this.o.failFile} exists)`);
      }
      if (events.length > 0) {
        let text = '';
        for (const e of events) text += JSON.stringify({ sink: this.name, headers: e.headers, body: e.body.toString('utf8') }) + '\n';
        await fs.promises.appendFile(this.o.outFile, text);
      }
      return events.length;
    });
    this.counter.countBatch(n, this.o.batchSize);
    this.counter.EventDrainSuccessCount += n;
    return n > 0 ? 'READY' : 'BACKOFF';
  }
}

export default defineSink({
  type: 'com.example.FailingSink',
  description: 'Test sink: records delivered events as JSON lines; fails while failFile exists.',
  options,
  create: ({ name, channel, options, logger, counter }) => new FailingSink(name, channel, options, logger, counter),
});
