// The seed notes' custom source: each call emits five events `<field><i>`, `delay`
// milliseconds apart. A plugin uses only flume-ts/plugin, the API the built-ins use.
import { defineSource, opt, sleep } from 'flume-ts/plugin';

export default defineSource({
  type: 'com.atguigu.MySource',
  description: 'Emits "<field>0" .. "<field>4" with a delay between events (the seed notes\' MySource).',
  options: {
    delay: opt.integer(1000, 'Milliseconds between events.', { min: 0 }),
    field: opt.string('hello', 'Text each body starts with.'),
  },
  create({ options, processor, counter }) {
    const abort = new AbortController();
    return {
      kind: 'pollable',
      backoffSleepIncrement: 1000,
      maxBackoffSleep: 5000,
      async start() {},
      async stop() {
        abort.abort();
      },
      async process() {
        for (let i = 0; i < 5 && !abort.signal.aborted; i++) {
          counter.EventReceivedCount++;
          await processor.processEvent({ headers: {}, body: Buffer.from(options.field + i) });
          counter.EventAcceptedCount++;
          await sleep(options.delay, abort.signal);
        }
        return 'READY';
      },
    };
  },
});
