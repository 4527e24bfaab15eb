import { defineInterceptor, opt, type FlumeEvent } from '../plugin-api/index.js';

export const options = {
  key: opt.string('key', 'Header name.'),
  value: opt.string('value', 'Header value.'),
  preserveExisting: opt.boolean(true, "Leave the header alone when the event already has it (Flume's default: true)."),
};

/** Flume's StaticInterceptor: one constant header; chain several for several headers. */
export default defineInterceptor({
  type: 'static',
  aliases: ['org.apache.flume.interceptor.StaticInterceptor', 'org.apache.flume.interceptor.StaticInterceptor$Builder'],
  description: 'Adds one constant header to every event.',
  options,
  create: ({ options: { key, value, preserveExisting }, logger }) => {
    logger.info(`Creating StaticInterceptor: preserveExisting=${preserveExisting},key=${key},value=${value}`);
    return {
      intercept(events: FlumeEvent[]): FlumeEvent[] {
        for (let i = 0; i < events.length; i++) {
          const h = events[i]!.headers;
          if (preserveExisting && Object.hasOwn(h, key)) continue;
          h[key] = value;
        }
        return events;
      },
    };
  },
});
