// The seed notes' custom source: emits `<field>0` .. `<field>4`, `delay` milliseconds
// apart, over and over. A plugin uses only flume-ts/plugin, the API the built-ins use.
//
// One event per process() call: the runner checks for a stop between calls, so after a
// stop is asked for no further event is emitted, and the wait is cut short by the abort
// signal the runner passes (or by stop()).
import { defineSource, opt, sleep } from 'flume-ts/plugin';

export default defineSource({
  type: 'com.atguigu.MySource',
  description: 'Emits "<field>0" .. "<field>4" in turn with a delay between events (the seed notes\' MySource).',
  options: {
    delay: opt.duration(1000, 'Time between events.', { unit: 'ms' }),
    field: opt.string('hello', 'Text each body starts with.'),
  },
  create({ options, processor, counter }) {
    const stopping = new AbortController();
    let i = 0;
    return {
      kind: 'pollable',
      backoffSleepIncrement: 1000,
      maxBackoffSleep: 5000,
      async start() {},
      async stop() {
        stopping.abort();
      },
      async process(signal) {
        const abort = signal ? AbortSignal.any([signal, stopping.signal]) : stopping.signal;
        if (abort.aborted) return 'BACKOFF';
        counter.EventReceivedCount++;
        await processor.processEvent({ headers: {}, body: Buffer.from(options.field + i) });
        counter.EventAcceptedCount++;
        i = (i + 1) % 5;
        await sleep(options.delay, abort);
        return 'READY';
      },
    };
  },
});
