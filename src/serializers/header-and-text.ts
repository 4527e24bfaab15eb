import { defineSerializer, javaMapString, opt } from '../plugin-api/index.js';

export const options = {
  appendNewline: opt.boolean(true, 'Write a newline after each event.'),
};

export default defineSerializer({
  type: 'header_and_text',
  aliases: ['org.apache.flume.serialization.HeaderAndBodyTextEventSerializer$Builder'],
  description: 'Writes the headers as Flume prints a map ({k1=v1, k2=v2}), a space, then the body.',
  options,
  create: ({ options }) => ({
    afterCreate: () => undefined,
    encode(events) {
      const parts: Buffer[] = [];
      for (const e of events) {
        parts.push(Buffer.from(javaMapString(e.headers) + ' ', 'utf8'), e.body);
        if (options.appendNewline) parts.push(NEWLINE);
      }
      return Buffer.concat(parts);
    },
    beforeClose: () => undefined,
  }),
});

const NEWLINE = Buffer.from('\n');
