import { defineInterceptor, opt, type FlumeEvent } from '../plugin-api/index.js';

export const options = {
  headerName: opt.string('timestamp', 'Header that receives the time, in epoch milliseconds.'),
  preserveExisting: opt.boolean(false, 'Leave the header alone when the event already has it.'),
};

/**
 * Flume's TimestampInterceptor: puts the current time in epoch milliseconds (a
 * decimal string) into a header. The clock is read once per batch, so the events of
 * one batch share one value and one string.
 */
export default defineInterceptor({
  type: 'timestamp',
  aliases: ['org.apache.flume.interceptor.TimestampInterceptor', 'org.apache.flume.interceptor.TimestampInterceptor$Builder'],
  description: 'Adds the time the event was received (epoch milliseconds) as a header.',
  options,
  create: ({ options: { headerName, preserveExisting } }) => ({
    intercept(events: FlumeEvent[]): FlumeEvent[] {
      const now = String(Date.now());
      for (let i = 0; i < events.length; i++) {
        const h = events[i]!.headers;
        if (preserveExisting && Object.hasOwn(h, headerName)) continue;
        h[headerName] = now;
      }
      return events;
    },
  }),
});
