import { randomUUID } from 'node:crypto';
import { defineInterceptor, opt, type FlumeEvent } from '../plugin-api/index.js';

export const options = {
  headerName: opt.string('id', 'Header that receives the identifier.'),
  preserveExisting: opt.boolean(true, 'Leave the header alone when the event already has it.'),
  prefix: opt.string('', 'Text put before each UUID.'),
};

/**
 * Flume's UUIDInterceptor (shipped with the morphline Solr sink, so it has no short
 * alias in Flume): a random version-4 UUID, lowercase, after an optional prefix.
 */
export default defineInterceptor({
  type: 'uuid',
  aliases: ['org.apache.flume.sink.solr.morphline.UUIDInterceptor', 'org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder'],
  description: 'Adds a unique identifier (prefix + random UUID) as a header.',
  options,
  create: ({ options: { headerName, preserveExisting, prefix } }) => ({
    intercept(events: FlumeEvent[]): FlumeEvent[] {
      for (let i = 0; i < events.length; i++) {
        const h = events[i]!.headers;
        if (preserveExisting && Object.hasOwn(h, headerName)) continue;
        h[headerName] = prefix + randomUUID();
      }
      return events;
    },
  }),
});
