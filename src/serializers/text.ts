import { SlicedEvent, bodyLength, defineSerializer, opt, type FlumeEvent } from '../plugin-api/index.js';

export const options = {
  appendNewline: opt.boolean(true, 'Write a newline after each body.'),
};

const NL = 0x0a;

/**
 * The bodies as they are, each followed by a newline when `newline`. Bodies that are
 * consecutive lines of one buffer (as netcat's are: slices of one read, with the
 * newline between them still there) are copied as one run, not one by one.
 */
export function encodeBodies(events: readonly FlumeEvent[], newline: boolean): Buffer {
  let len = 0;
  for (const e of events) len += bodyLength(e);
  if (newline) len += events.length;
  const out = Buffer.allocUnsafe(len);
  let off = 0;
  // The run being gathered: bytes runStart..runEnd of runSource (the newlines inside included).
  let runSource: Buffer | undefined;
  let runStart = 0;
  let runEnd = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    let src: Buffer;
    let s: number;
    let end: number;
    if (e instanceof SlicedEvent) {
      src = e.source;
      s = e.start;
      end = e.end;
    } else {
      src = e.body;
      s = 0;
      end = src.length;
    }
    if (newline && src === runSource && s === runEnd + 1 && src[runEnd] === NL) {
      runEnd = end;
      continue;
    }
    if (runSource) off = flush(out, off, runSource, runStart, runEnd, newline);
    runSource = src;
    runStart = s;
    runEnd = end;
  }
  if (runSource) off = flush(out, off, runSource, runStart, runEnd, newline);
  return out;
}

function flush(out: Buffer, off: number, src: Buffer, start: number, end: number, newline: boolean): number {
  if (end > start) {
    out.set(start === 0 && end === src.length ? src : src.subarray(start, end), off);
    off += end - start;
  }
  if (newline) out[off++] = NL;
  return off;
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
