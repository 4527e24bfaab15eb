import { defineSerializer, opt, type FlumeEvent } from '../plugin-api/index.js';

export const options = {
  appendNewline: opt.boolean(true, 'Write a newline after each body.'),
};

/** The body bytes as they are, one event per line. */
export function encodeBodies(events: readonly FlumeEvent[], newline: boolean): Buffer {
  let len = 0;
  for (const e of events) len += e.body.length;
  if (newline) len += events.length;
  const out = Buffer.allocUnsafe(len);
  let off = 0;
  for (const e of events) {
    off += e.body.copy(out, off);
    if (newline) out[off++] = 0x0a;
  }
  return out;
}

export default defineSerializer({
  type: 'text',
  aliases: ['org.apache.flume.serialization.BodyTextEventSerializer$Builder'],
  description: 'Writes each event body followed by a newline; headers are not written.',
  options,
  create: ({ options }) => ({
    afterCreate: () => undefined,
    encode: (events) => encodeBodies(events, options.appendNewline),
    beforeClose: () => undefined,
  }),
});
