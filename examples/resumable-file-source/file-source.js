// The seed notes' MyFileSource2: reads the lines of one file, one event per line, and
// remembers how far it got in an offset file so a restart resumes there.
//
// Unlike the seed's version the offset is written only after the channel committed the
// batch holding those lines (processEventBatch resolved), and atomically (a temporary
// file renamed over the old one): a kill -9 at any moment loses nothing, and re-sends at
// most the last batch, whose commit the offset file had not recorded yet. A line longer
// than maxLineLength is cut there (counted as EventReadFail and logged), so one
// runaway line cannot hold the whole file in memory; an unfinished last line waits
// until its newline is written.
import fs from 'node:fs/promises';
import { defineSource, opt, RateLimitedLog } from 'flume-ts/plugin';

const NL = 0x0a;

export default defineSource({
  type: 'com.atguigu.MyFileSource2',
  description: 'Reads a file line by line and resumes after a restart from the offset saved in offsetPath, saved only after the channel committed (the seed notes\' MyFileSource2).',
  batchOption: 'batchSize',
  options: {
    filePath: opt.requiredString('The file to read.'),
    offsetPath: opt.requiredString('Where the byte offset of the next unread line is kept (created if missing).'),
    interval: opt.duration(1000, 'How long to wait before looking again when the file has no new complete line.', { unit: 'ms', min: 1 }),
    charset: opt.charset('UTF-8', 'Character set of the file; event bodies are its lines in UTF-8.'),
    batchSize: opt.integer(100, 'Most lines put into the channel in one transaction.', { min: 1, max: 100000 }),
    maxLineLength: opt.integer(65536, 'Longest line in bytes; a longer one is cut there and counted as EventReadFail.', { min: 1, max: 64 * 1024 * 1024 }),
  },
  create({ name, options, processor, counter, logger }) {
    const stopping = new AbortController();
    const decoder = new TextDecoder(options.charset);
    const utf8 = /^utf-?8$/i.test(options.charset);
    const cut = new RateLimitedLog(logger, 60000);
    let offset = 0;
    let file;
    // Room for a whole batch of the longest lines would be unbounded; one read of at most
    // this many bytes is parsed per call instead, and the rest is read on the next call.
    const chunk = Buffer.allocUnsafe(Math.max(options.maxLineLength + 1, 64 * 1024));

    async function saveOffset() {
      const tmp = `${options.offsetPath}.tmp`;
      await fs.writeFile(tmp, String(offset));
      await fs.rename(tmp, options.offsetPath);
    }

    return {
      kind: 'pollable',
      backoffSleepIncrement: options.interval,
      maxBackoffSleep: options.interval,
      async start() {
        try {
          const text = (await fs.readFile(options.offsetPath, 'utf8')).trim();
          if (text !== '') {
            offset = Number(text);
            if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`${options.offsetPath} holds "${text.slice(0, 40)}", not a byte offset`);
          }
        } catch (err) {
          if (err.code !== 'ENOENT') throw err;
          await saveOffset();
        }
        logger.info(`source ${name}: reading ${options.filePath} from byte ${offset}`);
      },
      async stop() {
        stopping.abort();
        cut.flush();
        await file?.close();
        file = undefined;
      },
      async process(signal) {
        const abort = signal ? AbortSignal.any([signal, stopping.signal]) : stopping.signal;
        if (abort.aborted) return 'BACKOFF';
        if (!file) {
          try {
            file = await fs.open(options.filePath, 'r');
          } catch (err) {
            if (err.code === 'ENOENT') return 'BACKOFF'; // not written yet
            throw err;
          }
        }
        const { bytesRead } = await file.read(chunk, 0, chunk.length, offset);
        const events = [];
        let start = 0;
        while (events.length < options.batchSize && start < bytesRead) {
          let end = chunk.indexOf(NL, start);
          let next;
          if (end === -1 || end >= bytesRead) {
            if (bytesRead - start <= options.maxLineLength) break; // unfinished line: wait for its newline
            end = start + options.maxLineLength;
            next = end;
          } else if (end - start > options.maxLineLength) {
            next = start + options.maxLineLength;
            end = next;
          } else {
            next = end + 1;
          }
          if (next !== end + 1) {
            counter.EventReadFail++;
            cut.warn('long line', `source ${name}: a line of ${options.filePath} at byte ${offset + start} is longer than maxLineLength ${options.maxLineLength}; cut there`);
          }
          let line = chunk.subarray(start, end);
          if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
          const body = utf8 ? Buffer.from(line) : Buffer.from(decoder.decode(line), 'utf8');
          events.push({ headers: {}, body });
          start = next;
        }
        if (events.length === 0) return 'BACKOFF';
        counter.EventReceivedCount += events.length;
        counter.AppendBatchReceivedCount++;
        await processor.processEventBatch(events);
        counter.EventAcceptedCount += events.length;
        counter.AppendBatchAcceptedCount++;
        // Committed: only now may a restart skip these lines.
        offset += start;
        await saveOffset();
        return 'READY';
      },
    };
  },
});
