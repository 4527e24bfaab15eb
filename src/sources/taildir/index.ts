import os from 'node:os';
import path from 'node:path';
import { defineSource, opt, throwOnErrors } from '../../plugin-api/index.js';
import { parseGroups } from './groups.js';
import { TaildirSource } from './source.js';

export const options = {
  filegroups: opt.list(
    [],
    'Space-separated names of file groups; each is then given as filegroups.<name> = /directory/file-name-regex (the directory is literal, the file name a Java regular expression matched against the whole name).',
  ),
  positionFile: opt.string(
    '~/.flume/taildir_position.json',
    "JSON file recording the inode, committed byte position and path of each followed file, in Java Flume's format (its directory is created). A fingerprints file beside it (<positionFile>.fingerprints) helps recognise copytruncate copies across restarts.",
  ),
  byteOffsetHeader: opt.boolean(false, "Add the header byteoffset: the byte offset of the line's start in its file."),
  skipToEnd: opt.boolean(false, 'At start, begin files that are not in the position file at their end instead of their start.'),
  idleTimeout: opt.duration(120000, "A file not growing for this long has its descriptor closed (it is reopened when it grows); a rotated file's unfinished last line is sent then.", {
    unit: 'ms',
    min: 1,
  }),
  writePosInterval: opt.duration(3000, 'How often the position file is written (only positions of committed lines; also at stop).', { unit: 'ms', min: 1 }),
  batchSize: opt.integer(100, 'Lines per channel transaction.', { min: 1 }),
  maxBatchCount: opt.integer(Number.MAX_SAFE_INTEGER, 'Batches read from one file in a row before the other files get their turn (0 or less: no limit).'),
  backoffSleepIncrement: opt.duration(1000, 'When a scan finds nothing new, the next scan waits this much longer than the last one...', { unit: 'ms', min: 1 }),
  maxBackoffSleep: opt.duration(5000, '...up to this long. Directory notifications wake the source earlier; this bounds how late a missed notification can make a line.', { unit: 'ms', min: 1 }),
  cachePatternMatching: opt.boolean(true, 'List a directory again only when its modification time changed.'),
  fileHeader: opt.boolean(false, "Add a header holding the file's absolute path."),
  fileHeaderKey: opt.string('file', 'Name of that header.'),
  maxLineLength: opt.integer(1048576, 'Bytes of one line at most (not in Flume, which has no limit): a longer line is split into events of this many bytes, counted in EventReadFail and logged.', {
    min: 1,
    max: 256 * 1024 * 1024,
  }),
  maxOpenFiles: opt.integer(1000, 'Descriptors held open at most (not in Flume): beyond it the least recently read file is closed and reopened when it grows.', { min: 1, max: 1_000_000 }),
};

/** `~` at the start of a path is the home directory (Flume's default is ${user.home}/.flume/...). */
function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : path.resolve(p);
}

export default defineSource({
  type: 'TAILDIR',
  aliases: ['org.apache.flume.source.taildir.TaildirSource'],
  description: 'Follows files matching regular expressions in directories, by inode, through rotation and truncation; each line becomes an event.',
  options,
  batchOption: 'batchSize',
  prefixes: ['filegroups.', 'headers.'],
  validate: (o, ctx) => parseGroups(o.filegroups, ctx).problems,
  create: ({ name, options: o, context, processor, counter, logger }) => {
    const { groups, problems } = parseGroups(o.filegroups, context);
    throwOnErrors(context, problems);
    if (o.maxBatchCount <= 0) logger.warn(`TAILDIR source ${name}: maxBatchCount ${o.maxBatchCount} is not positive; no limit is used`);
    return new TaildirSource(
      name,
      {
        groups,
        positionFile: expandHome(o.positionFile),
        batchSize: o.batchSize,
        maxBatchCount: o.maxBatchCount > 0 ? o.maxBatchCount : Number.MAX_SAFE_INTEGER,
        skipToEnd: o.skipToEnd,
        byteOffsetHeader: o.byteOffsetHeader,
        fileHeader: o.fileHeader,
        fileHeaderKey: o.fileHeaderKey,
        idleTimeout: o.idleTimeout,
        writePosInterval: o.writePosInterval,
        backoffSleepIncrement: o.backoffSleepIncrement,
        maxBackoffSleep: o.maxBackoffSleep,
        cachePatternMatching: o.cachePatternMatching,
        maxLineLength: o.maxLineLength,
        maxOpenFiles: o.maxOpenFiles,
      },
      processor,
      counter,
      logger,
    );
  },
});
