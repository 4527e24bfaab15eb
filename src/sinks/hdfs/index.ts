import fs from 'node:fs';
import os from 'node:os';
import { ErrorCodes, defineSink, opt, resolveOptions, type ComponentLookup, type Context, type EventSerializer, type OptionProblem, type Options, type OptionsSpec } from '../../plugin-api/index.js';
import { codecExtension, parseCodec, type Codec } from './formats.js';
import { HdfsSink, type HdfsSettings } from './sink.js';
import { WebHdfsClient, resolveEndpoint } from './webhdfs.js';

export const options = {
  'hdfs.path': opt.requiredString(
    'Directory to write to: hdfs://namenode:port/path (or webhdfs://, swebhdfs://, or a bare path with hdfs.webhdfs.url); escapes such as %Y%m%d/%H and %{header} are resolved per event.',
  ),
  'hdfs.filePrefix': opt.string('FlumeData', 'File name prefix; escapes are resolved per event.'),
  'hdfs.fileSuffix': opt.string('', "Appended after the counter (include the dot); empty: the codec's extension."),
  'hdfs.inUsePrefix': opt.string('', 'Prefix of a file while it is written.'),
  'hdfs.inUseSuffix': opt.string('.tmp', 'Suffix of a file while it is written.'),
  'hdfs.emptyInUseSuffix': opt.boolean(false, 'No in-use suffix (hdfs.inUseSuffix is then ignored).'),
  'hdfs.rollInterval': opt.duration(30, 'Seconds after a file opens before it is closed; 0: never by time.', { unit: 's' }),
  'hdfs.rollSize': opt.integer(1024, 'Bytes of event bodies a file holds before the next event starts a new one; 0: never by size.', { min: 0 }),
  'hdfs.rollCount': opt.integer(10, 'Events a file holds before the next event starts a new one; 0: never by count.', { min: 0 }),
  'hdfs.idleTimeout': opt.duration(0, 'Seconds without writes after which a file is closed; 0: never.', { unit: 's' }),
  'hdfs.batchSize': opt.integer(100, 'Events per transaction; each file written in a batch is flushed before the commit.', { min: 1 }),
  'hdfs.codeC': opt.optionalString('Compression codec: gzip or default/deflate (zlib). bzip2, snappy, lzo, lzop are refused (no well-kept JavaScript encoder).'),
  'hdfs.fileType': opt.enum(
    ['SequenceFile', 'DataStream', 'CompressedStream'],
    'SequenceFile',
    "SequenceFile (Hadoop's key/value file), DataStream (serializer output as is) or CompressedStream (serializer output through hdfs.codeC).",
  ),
  'hdfs.writeFormat': opt.enum(['Writable', 'Text'], 'Writable', 'SequenceFile value type: Writable (BytesWritable) or Text.'),
  'hdfs.maxOpenFiles': opt.integer(5000, 'Open files kept; beyond that the least recently used is closed.', { min: 1 }),
  'hdfs.minBlockReplicas': opt.optionalInteger("Accepted for compatibility; replication is the cluster's business over WebHDFS.", { min: 0 }),
  'hdfs.callTimeout': opt.duration(30000, 'Milliseconds a WebHDFS call may take.', { unit: 'ms', min: 1 }),
  'hdfs.threadsPoolSize': opt.integer(10, 'Accepted for compatibility (calls are asynchronous).', { min: 1 }),
  'hdfs.rollTimerPoolSize': opt.integer(1, "Accepted for compatibility (timers are the event loop's).", { min: 1 }),
  'hdfs.closeTries': opt.integer(10, "Tries to close and rename a file before giving up (0: unlimited, as Flume's default); a file given up on is renamed at the next start."),
  'hdfs.retryInterval': opt.duration(180, 'Seconds between close/rename tries; 0: a single try.', { unit: 's' }),
  'hdfs.round': opt.boolean(false, 'Round the event time down before the time escapes (all but %t).'),
  'hdfs.roundValue': opt.integer(1, 'Round down to a multiple of this (1-60 for second/minute, 1-24 for hour).', { min: 1 }),
  'hdfs.roundUnit': opt.string('second', 'second, minute or hour.'),
  'hdfs.timeZone': opt.optionalString("Time zone of the escapes (e.g. Asia/Shanghai); default: the agent's."),
  'hdfs.useLocalTimeStamp': opt.boolean(false, "Use the sink's clock instead of the timestamp header."),
  'hdfs.proxyUser': opt.optionalString('User to write as (sent as WebHDFS doas).'),
  'hdfs.kerberosPrincipal': opt.optionalString('Not supported: refused when set.'),
  'hdfs.kerberosKeytab': opt.optionalString('Not supported: refused when set.'),
  'hdfs.useRawLocalFileSystem': opt.boolean(false, 'Accepted for compatibility (no local file system here).'),
  'hdfs.webhdfs.url': opt.optionalString(
    "Base URL of the namenode's WebHDFS API, e.g. http://nn:9870; default: http://<namenode host>:9870 for hdfs://, the given port for webhdfs:// and swebhdfs:// (https).",
  ),
  'hdfs.webhdfs.user': opt.optionalString("user.name sent to WebHDFS; default: HADOOP_USER_NAME, else the agent's OS user."),
  'hdfs.webhdfs.caFile': opt.optionalString("PEM file of CA certificates trusted for https (swebhdfs) besides the system's."),
  'hdfs.recovery.lookback': opt.duration(86400, 'For a time-escaped hdfs.path: how far back (seconds) the start looks for directories holding leftover in-use files.', { unit: 's' }),
  serializer: opt.string('TEXT', 'For DataStream and CompressedStream: text, header_and_text, avro_event or a serializer plugin.'),
};

export type HdfsOptions = Options<typeof options>;
const SERIALIZER_PREFIX = 'serializer.';
const ROUND_UNITS = ['second', 'minute', 'hour'] as const;

function serializerDef(registry: ComponentLookup, name: string) {
  // Flume's HDFS-module Avro serializer takes datums from the bodies; ours writes Flume's Event records.
  const n = name === 'org.apache.flume.sink.hdfs.AvroEventSerializer$Builder' ? 'avro_event' : name;
  return registry.lookup('serializer', n);
}

function codecOf(o: HdfsOptions): Codec | undefined | { unsupported: string } {
  const raw = o['hdfs.codeC'];
  if (raw === undefined || raw.trim() === '' || raw.trim().toLowerCase() === 'none') return undefined;
  return parseCodec(raw);
}

/** The agent's OS user (what a Hadoop client sends without Kerberos); undefined when the system has no entry for it. */
function osUser(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}

export default defineSink({
  type: 'hdfs',
  aliases: ['org.apache.flume.sink.hdfs.HDFSEventSink'],
  description: 'Writes events to HDFS over WebHDFS: files per resolved path, rolled by time, size and count.',
  options,
  batchOption: 'hdfs.batchSize',
  prefixes: [SERIALIZER_PREFIX],
  validate(o, ctx, registry) {
    const problems: OptionProblem[] = [];
    const err = (key: string, message: string, code: string = ErrorCodes.CONFIG_VALUE): void => {
      problems.push({ severity: 'error', code, key, message: `${ctx.fullKey(key)}: ${message}` });
    };
    for (const k of ['hdfs.kerberosPrincipal', 'hdfs.kerberosKeytab'] as const) {
      if (o[k]) err(k, 'Kerberos is not supported by this agent (WebHDFS with SPNEGO is not implemented); use simple authentication (hdfs.webhdfs.user) or a gateway such as HttpFS/Knox');
    }
    try {
      const ep = resolveEndpoint(o['hdfs.path'], o['hdfs.webhdfs.url']);
      if (!ep.baseUrl) err('hdfs.path', `"${o['hdfs.path']}" names no namenode: write hdfs://namenode:port/path or set hdfs.webhdfs.url`);
      if (/%/.test(ep.authority)) err('hdfs.path', 'escapes are allowed in the path only, not in the namenode address');
      if (!ep.path.startsWith('/')) err('hdfs.path', `"${ep.path}" is not an absolute path`);
      if (ep.baseUrl) new URL(ep.baseUrl);
    } catch (e) {
      err(o['hdfs.webhdfs.url'] ? 'hdfs.webhdfs.url' : 'hdfs.path', (e as Error).message);
    }
    const codec = codecOf(o);
    const type = o['hdfs.fileType'];
    if (codec && typeof codec === 'object') {
      err(
        'hdfs.codeC',
        `codec "${o['hdfs.codeC']}" is not supported (gzip or default/deflate; ${codec.unsupported === 'bzip2' ? 'there is no well-kept bzip2 encoder for Node.js' : 'no JavaScript encoder is bundled'})`,
      );
    }
    if (type === 'DataStream' && codec) err('hdfs.codeC', 'fileType DataStream does not support compressed output; remove hdfs.codeC or use CompressedStream');
    if (type === 'CompressedStream' && !codec) err('hdfs.codeC', 'fileType CompressedStream needs a codec (gzip or default)', ErrorCodes.CONFIG_REQUIRED);
    if (o['hdfs.round']) {
      const unit = o['hdfs.roundUnit'].toLowerCase();
      const v = o['hdfs.roundValue'];
      if ((unit === 'second' || unit === 'minute') && v > 60) err('hdfs.roundValue', 'must be 1-60 for the second and minute units');
      if (unit === 'hour' && v > 24) err('hdfs.roundValue', 'must be 1-24 for the hour unit');
      if (!(ROUND_UNITS as readonly string[]).includes(unit))
        problems.push({
          severity: 'warning',
          code: ErrorCodes.CONFIG_VALUE,
          key: 'hdfs.roundUnit',
          message: `${ctx.fullKey('hdfs.roundUnit')}: "${o['hdfs.roundUnit']}" is not second, minute or hour; rounding is disabled (as Flume does)`,
        });
    }
    if (o['hdfs.timeZone']) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: o['hdfs.timeZone'] });
      } catch {
        err('hdfs.timeZone', `unknown time zone "${o['hdfs.timeZone']}"`);
      }
    }
    if (o['hdfs.emptyInUseSuffix'] && ctx.containsKey('hdfs.inUseSuffix')) {
      problems.push({ severity: 'warning', code: ErrorCodes.CONFIG_VALUE, key: 'hdfs.inUseSuffix', message: `${ctx.fullKey('hdfs.inUseSuffix')} is ignored: hdfs.emptyInUseSuffix = true` });
    }
    const caFile = o['hdfs.webhdfs.caFile'];
    if (caFile && !fs.existsSync(caFile)) err('hdfs.webhdfs.caFile', `"${caFile}" does not exist`);
    if (type !== 'SequenceFile') {
      const def = serializerDef(registry, o.serializer);
      if (!def) {
        err('serializer', `unknown serializer "${o.serializer}" (text, header_and_text, avro_event or a plugin)`, ErrorCodes.CONFIG_UNKNOWN_TYPE);
      } else {
        const sub = ctx.subProperties(SERIALIZER_PREFIX);
        for (const p of resolveOptions(def.options as OptionsSpec, sub).problems) problems.push({ ...p, key: SERIALIZER_PREFIX + p.key });
      }
    }
    return problems;
  },
  create: ({ name, channel, options: o, logger, counter, context, registry }) => {
    const ep = resolveEndpoint(o['hdfs.path'], o['hdfs.webhdfs.url']);
    const codec = codecOf(o) as Codec | undefined;
    const fileType = o['hdfs.fileType'];
    let makeSerializer: () => EventSerializer = () => {
      throw new Error('a SequenceFile has no serializer');
    };
    if (fileType !== 'SequenceFile') {
      const def = serializerDef(registry, o.serializer)!;
      const sub: Context = context.subProperties(SERIALIZER_PREFIX);
      const sopts = resolveOptions(def.options as OptionsSpec, sub).options;
      makeSerializer = () => def.create({ name, options: sopts as never, context: sub, logger, registry });
    }
    const unit = o['hdfs.roundUnit'].toLowerCase();
    const round = o['hdfs.round'] && (ROUND_UNITS as readonly string[]).includes(unit) ? { value: o['hdfs.roundValue'], unit: unit as 'second' | 'minute' | 'hour' } : undefined;
    const settings: HdfsSettings = {
      path: ep.path,
      filePrefix: o['hdfs.filePrefix'],
      suffix: o['hdfs.fileSuffix'] || codecExtension(codec),
      inUsePrefix: o['hdfs.inUsePrefix'],
      inUseSuffix: o['hdfs.emptyInUseSuffix'] ? '' : o['hdfs.inUseSuffix'],
      rollIntervalS: o['hdfs.rollInterval'],
      rollSize: o['hdfs.rollSize'],
      rollCount: o['hdfs.rollCount'],
      idleTimeoutS: o['hdfs.idleTimeout'],
      batchSize: o['hdfs.batchSize'],
      maxOpenFiles: o['hdfs.maxOpenFiles'],
      closeTries: o['hdfs.closeTries'],
      retryIntervalS: o['hdfs.retryInterval'],
      escape: { useLocalTimeStamp: o['hdfs.useLocalTimeStamp'], timeZone: o['hdfs.timeZone'], round },
      format: { fileType, codec, writeFormat: o['hdfs.writeFormat'], makeSerializer },
      recoveryLookbackS: o['hdfs.recovery.lookback'],
    };
    const client = new WebHdfsClient({
      baseUrl: ep.baseUrl!,
      user: o['hdfs.webhdfs.user'] ?? process.env.HADOOP_USER_NAME ?? osUser(),
      doAs: o['hdfs.proxyUser'],
      timeoutMs: o['hdfs.callTimeout'],
      ca: o['hdfs.webhdfs.caFile'] ? fs.readFileSync(o['hdfs.webhdfs.caFile']) : undefined,
    });
    return new HdfsSink(name, channel, settings, client, logger, counter);
  },
});
