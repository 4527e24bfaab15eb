import { TextDecoder } from 'node:util';
import { opt, type Options } from '../../plugin-api/index.js';
import { regexOpt } from '../../interceptors/java-regex.js';

/** Flume's class names of the deserializers. */
export const CLASS_NAMES = {
  LINE: 'org.apache.flume.serialization.LineDeserializer$Builder',
  AVRO: 'org.apache.flume.serialization.AvroEventDeserializer$Builder',
  BLOB: 'org.apache.flume.sink.solr.morphline.BlobDeserializer$Builder',
} as const;

/** Flume's deserializer aliases (any case) and class names, and what each one is here (BLOB is ours: Flume has only the class name). */
const DESERIALIZERS: ReadonlyMap<string, 'LINE' | 'AVRO' | 'BLOB'> = new Map([
  ['line', 'LINE'],
  ['avro', 'AVRO'],
  ['blob', 'BLOB'],
  ...Object.entries(CLASS_NAMES).map(([k, v]) => [v.toLowerCase(), k as 'LINE' | 'AVRO' | 'BLOB'] as const),
]);

/** Output charsets the LINE deserializer can encode to, by their Java and common names. */
export const OUTPUT_CHARSETS: Readonly<Record<string, BufferEncoding>> = {
  'utf-8': 'utf8',
  utf8: 'utf8',
  'iso-8859-1': 'latin1',
  latin1: 'latin1',
  iso8859_1: 'latin1',
  'utf-16le': 'utf16le',
  utf_16le: 'utf16le',
};

/** The longest line (in characters) a LINE deserializer may be told to keep; its read buffer grows to 3 bytes per character. */
export const MAX_LINE_LENGTH = 16 * 1024 * 1024;
/** The largest BLOB event (Java's int limit in Flume; here bounded to what one Buffer holds comfortably). */
export const MAX_BLOB_LENGTH = 1024 * 1024 * 1024;

export const options = {
  spoolDir: opt.requiredString('The directory whose files are ingested. Files must be complete and not change once they are in it.'),
  fileSuffix: opt.string('.COMPLETED', 'Suffix appended to a file once all of its events are committed (or to its tracker file with trackingPolicy = tracker_dir).'),
  deletePolicy: opt.enum(['never', 'immediate'] as const, 'never', 'never: rename (or track) finished files; immediate: delete them once all of their events are committed.'),
  fileHeader: opt.boolean(false, 'Add a header with the absolute path of the file the event came from.'),
  fileHeaderKey: opt.string('file', 'Name of the absolute-path header.'),
  basenameHeader: opt.boolean(false, 'Add a header with the file name (without its directory).'),
  basenameHeaderKey: opt.string('basename', 'Name of the file-name header.'),
  includePattern: regexOpt.regex('^.*$', 'Java regular expression a file name must match (whole name) to be read.'),
  ignorePattern: regexOpt.regex('^$', 'Java regular expression of file names (and, with recursiveDirectorySearch, directory names) to skip; wins over includePattern.'),
  trackerDir: opt.string('.flumespool', 'Directory for the position of the file being read (and tracker files); relative paths are inside spoolDir.'),
  trackingPolicy: opt.enum(
    ['rename', 'tracker_dir'] as const,
    'rename',
    'rename: finished files get fileSuffix; tracker_dir: they stay as they are and an empty <trackerDir>/<name><fileSuffix> marks them done.',
  ),
  consumeOrder: opt.enum(['oldest', 'youngest', 'random'] as const, 'oldest', 'Which file is read next: oldest or youngest by modification time (ties by name), or random.'),
  pollDelay: opt.duration(500, 'Milliseconds between directory scans when there is nothing to read.', { unit: 'ms', min: 1 }),
  recursiveDirectorySearch: opt.boolean(false, 'Also read files in sub-directories (names starting with "." are skipped).'),
  maxBackoff: opt.duration(4000, 'Longest wait (ms) between retries while the channel refuses a batch (starts at 250 ms and doubles).', { unit: 'ms', min: 1 }),
  batchSize: opt.integer(100, 'Events per channel transaction.', { min: 1 }),
  inputCharset: opt.string('UTF-8', 'Character set of the files (LINE deserializer). ASCII-compatible charsets only: lines end at the byte 0x0A.'),
  decodeErrorPolicy: opt.enum(
    ['FAIL', 'REPLACE', 'IGNORE'] as const,
    'FAIL',
    'Bytes that are not valid in inputCharset: FAIL the file (events before them are delivered, the file is set aside), REPLACE them with U+FFFD, or IGNORE (drop) them.',
  ),
  deserializer: opt.string('LINE', "LINE (one event per line), AVRO (one event per record of an Avro container file), BLOB (the whole file as one event), or Flume's class name of one of them."),
  'deserializer.maxLineLength': opt.integer(2048, 'LINE: longest event in characters; a longer line is cut and the rest continues as the next event.', {
    min: 1,
    max: MAX_LINE_LENGTH,
    aliases: [],
    deprecatedAliases: ['bufferMaxLineLength'],
  }),
  'deserializer.outputCharset': opt.string('UTF-8', 'LINE: character set of the event bodies (UTF-8, ISO-8859-1 or UTF-16LE).'),
  'deserializer.maxBlobLength': opt.integer(100_000_000, 'BLOB: largest event in bytes; a longer file continues in the next event.', { min: 1, max: MAX_BLOB_LENGTH }),
  'deserializer.schemaType': opt.enum(
    ['HASH', 'LITERAL'] as const,
    'HASH',
    "AVRO: put the schema's CRC-64-AVRO fingerprint in the header flume.avro.schema.hash (HASH) or the schema itself in flume.avro.schema.literal (LITERAL).",
  ),
  bufferMaxLines: opt.optionalInteger('Obsolete in Flume and ignored.'),
  quietPeriod: opt.duration(
    500,
    'flume-ts: a file is picked up only when neither its size nor its modification or change time moved for this many milliseconds, so a file still being written is not read early.',
    { unit: 'ms' },
  ),
  failedSuffix: opt.string(
    '.FAILED',
    'flume-ts: suffix given to a file that cannot be read to its end (changed after pickup, name re-used, undecodable under FAIL, unreadable); the source goes on with the other files.',
  ),
};

export type SpoolOptions = Options<typeof options>;

/** The deserializer a value names, or undefined. */
export function deserializerKind(value: string): 'LINE' | 'AVRO' | 'BLOB' | undefined {
  return DESERIALIZERS.get(value.trim().toLowerCase());
}

/**
 * How the LINE deserializer decodes a charset: 'utf-8', 'latin1' (ISO-8859-1) and
 * 'ascii' (US-ASCII) as Java does, any other ASCII-compatible charset through a
 * TextDecoder label; or a reason it cannot be used. (WHATWG decoders, Node's, read
 * ISO-8859-1 and US-ASCII as windows-1252, which Java does not.)
 */
export function inputDecoderLabel(charset: string): string | Error {
  const label = charset.trim().toLowerCase().replace(/_/g, '-');
  if (['iso-8859-1', 'iso8859-1', 'latin1', 'iso-latin-1', 'l1', '8859-1'].includes(label)) return 'latin1';
  if (['us-ascii', 'ascii', 'iso646-us'].includes(label)) return 'ascii';
  let enc: string;
  try {
    enc = new TextDecoder(label).encoding;
  } catch {
    return new Error(`unknown character set "${charset}"`);
  }
  if (enc.startsWith('utf-16')) return new Error(`${charset} is not supported: lines are cut at the byte 0x0A, so the charset must be ASCII-compatible`);
  return enc;
}
