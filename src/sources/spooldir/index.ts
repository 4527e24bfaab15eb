// Flume's spooldir source (org.apache.flume.source.SpoolDirectorySource): the definition.
// options.ts holds its keys; source.ts the reading loop; scanner.ts the pick-up rule;
// tracker.ts the committed position; line.ts, blob.ts, avro.ts the deserializers.
import { ErrorCodes, defineSource, type OptionProblem } from '../../plugin-api/index.js';
import { CLASS_NAMES, OUTPUT_CHARSETS, deserializerKind, inputDecoderLabel, options } from './options.js';
import { SpoolDirectorySource } from './source.js';

export default defineSource({
  type: 'spooldir',
  aliases: ['org.apache.flume.source.SpoolDirectorySource'],
  description: 'Ingests the files dropped into a directory, each once, renaming (or deleting) a file only after all of its events are committed.',
  options,
  batchOption: 'batchSize',
  validate(o, ctx) {
    const problems: OptionProblem[] = [];
    if (deserializerKind(o.deserializer) === undefined) {
      problems.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_VALUE,
        key: 'deserializer',
        message: `${ctx.fullKey('deserializer')}: unknown deserializer "${o.deserializer}"; known: LINE, AVRO, BLOB, ${Object.values(CLASS_NAMES).join(', ')}`,
      });
    }
    const input = inputDecoderLabel(o.inputCharset);
    if (input instanceof Error) problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: 'inputCharset', message: `${ctx.fullKey('inputCharset')}: ${input.message}` });
    if (OUTPUT_CHARSETS[o['deserializer.outputCharset'].trim().toLowerCase()] === undefined) {
      problems.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_VALUE,
        key: 'deserializer.outputCharset',
        message: `${ctx.fullKey('deserializer.outputCharset')}: expected UTF-8, ISO-8859-1 or UTF-16LE, got "${o['deserializer.outputCharset']}"`,
      });
    }
    if (o.fileSuffix === '') problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: 'fileSuffix', message: `${ctx.fullKey('fileSuffix')} must not be empty` });
    if (o.failedSuffix === '' || o.failedSuffix === o.fileSuffix) {
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: 'failedSuffix', message: `${ctx.fullKey('failedSuffix')} must be non-empty and differ from fileSuffix` });
    }
    if (o.bufferMaxLines !== undefined) {
      problems.push({ severity: 'warning', code: ErrorCodes.CONFIG_UNKNOWN_KEY, key: 'bufferMaxLines', message: `${ctx.fullKey('bufferMaxLines')} is obsolete (as in Flume) and ignored` });
    }
    return problems;
  },
  create: ({ name, options, processor, counter, logger }) => new SpoolDirectorySource(name, options, processor, counter, logger),
});
