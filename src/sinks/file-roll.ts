import { promises as fsp, constants as fsc, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import {
  ConfigError,
  ErrorCodes,
  RateLimitedLog,
  defineSink,
  opt,
  resolveOptions,
  setLongTimeout,
  withTransaction,
  type Channel,
  type LongTimer,
  type ComponentLookup,
  type Context,
  type EventSerializer,
  type Logger,
  type OptionProblem,
  type Options,
  type OptionsSpec,
  type Sink,
  type SinkCounter,
  type Status,
} from '../plugin-api/index.js';

export const options = {
  'sink.directory': opt.requiredString('Directory the files are written to; it must exist.'),
  'sink.rollInterval': opt.duration(30, 'Seconds between new files; 0 writes one file for the life of the sink.', { unit: 's', min: 0 }),
  'sink.pathManager': opt.enum(['DEFAULT', 'ROLLTIME'], 'DEFAULT', 'How files are named: DEFAULT <prefix><start millis>-<n>, ROLLTIME <prefix><yyyyMMddHHmmss>-<n>.'),
  'sink.pathManager.prefix': opt.string('', 'File name prefix.'),
  'sink.pathManager.extension': opt.string('', 'File name extension (a "." is added before it).'),
  'sink.serializer': opt.string('TEXT', 'text, header_and_text, avro_event, or a serializer plugin.'),
  'sink.batchSize': opt.integer(100, 'Events per transaction.', { min: 1, aliases: ['batchSize'] }),
};

export type RollOptions = Options<typeof options>;

/**
 * Writes go straight from the event loop while the disk takes them this fast (the
 * usual case: they land in the page cache in microseconds), which spares a thread-pool
 * hand-off and two context switches per batch. A slower write means the disk is
 * pushing back, so the sink hands its writes to the thread pool for ASYNC_FOR_MS,
 * and the other components keep running meanwhile.
 */
const SLOW_WRITE_MS = 20;
const ASYNC_FOR_MS = 60_000;

/** Sub-keys of the serializer (e.g. sink.serializer.appendNewline). */
const SERIALIZER_PREFIX = 'sink.serializer.';

/**
 * Flume's file_roll sink: writes batches to a file in `sink.directory` and starts a
 * new file every rollInterval. Unlike Flume it opens a file only when there is
 * something to write, so an idle sink leaves no empty files behind; and a roll
 * happens on time even when no event arrives to trigger it.
 */
export class RollingFileSink implements Sink {
  private file: fsp.FileHandle | undefined;
  private fileName = '';
  private serializer: EventSerializer | undefined;
  private readonly startMillis = Date.now();
  private fileIndex = 0;
  private lastStamp = '';
  private timer: LongTimer | undefined;
  private busy: Promise<unknown> = Promise.resolve();
  /** Until when writes go through the thread pool (see SLOW_WRITE_MS). */
  private asyncUntil = 0;
  /** A roll failing on every interval (a broken disk): one line, then a count. */
  private readonly failures: RateLimitedLog;

  constructor(
    readonly name: string,
    readonly channel: Channel,
    private readonly o: RollOptions,
    private readonly makeSerializer: () => EventSerializer,
    private readonly logger: Logger,
    private readonly counter: SinkCounter,
    private readonly slowWriteMs = SLOW_WRITE_MS,
  ) {
    this.failures = new RateLimitedLog(logger);
  }

  async start(): Promise<void> {
    const dir = this.o['sink.directory'];
    try {
      const st = await fsp.stat(dir);
      if (!st.isDirectory()) throw new Error('not a directory');
      await fsp.access(dir, fsc.W_OK);
    } catch (err) {
      throw new ConfigError(
        ErrorCodes.CONFIG_VALUE,
        `file_roll sink ${this.name}: sink.directory "${dir}" ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist (create it first; the sink does not create it)' : `is not usable: ${(err as Error).message}`}`,
        'sink.directory',
      );
    }
    const every = this.o['sink.rollInterval'];
    if (every > 0) {
      const arm = (): void => {
        this.timer = setLongTimeout(() => {
          this.busy = this.busy.then(() => this.closeFile()).catch((err) => this.failures.error('roll', `file_roll ${this.name}: roll failed: ${(err as Error).message}`));
          arm();
        }, every * 1000).unref();
      };
      arm();
    }
  }

  async stop(): Promise<void> {
    this.timer?.clear();
    await this.busy.catch(() => {});
    await this.closeFile();
  }

  process(): Promise<Status> {
    const p = this.busy.then(() => this.write());
    this.busy = p.catch(() => {});
    return p;
  }

  private async write(): Promise<Status> {
    const batchSize = this.o['sink.batchSize'];
    const n = await withTransaction(this.channel, async (tx) => {
      const events = await tx.take(batchSize);
      this.counter.countBatch(events.length, batchSize);
      if (events.length === 0) return 0;
      this.counter.EventDrainAttemptCount += events.length;
      try {
        if (!this.file) await this.openFile();
        await this.writeAll(this.file!, this.serializer!.encode(events));
      } catch (err) {
        this.counter.EventWriteFail++;
        await this.closeFile().catch(() => {});
        throw err;
      }
      return events.length;
    });
    this.counter.EventDrainSuccessCount += n;
    return n < batchSize ? 'BACKOFF' : 'READY';
  }

  private async writeAll(file: fsp.FileHandle, buf: Buffer): Promise<void> {
    let off = 0;
    if (Date.now() >= this.asyncUntil) {
      const t0 = performance.now();
      while (off < buf.length) off += writeSync(file.fd, buf, off, buf.length - off);
      const took = performance.now() - t0;
      if (took > this.slowWriteMs) {
        this.asyncUntil = Date.now() + ASYNC_FOR_MS;
        this.logger.info(`file_roll ${this.name}: a write of ${buf.length} bytes took ${Math.round(took)} ms; writing from the thread pool for the next ${ASYNC_FOR_MS / 1000} s`);
      }
      return;
    }
    while (off < buf.length) off += (await file.write(buf, off, buf.length - off)).bytesWritten;
  }

  private nextName(): string {
    const prefix = this.o['sink.pathManager.prefix'];
    const ext = this.o['sink.pathManager.extension'];
    let stamp: string;
    if (this.o['sink.pathManager'] === 'ROLLTIME') {
      const d = new Date();
      const p2 = (n: number): string => String(n).padStart(2, '0');
      stamp = `${d.getFullYear()}${p2(d.getMonth() + 1)}${p2(d.getDate())}${p2(d.getHours())}${p2(d.getMinutes())}${p2(d.getSeconds())}`;
      if (stamp !== this.lastStamp) this.fileIndex = 0;
      this.lastStamp = stamp;
    } else {
      stamp = String(this.startMillis);
    }
    this.fileIndex++;
    return `${prefix}${stamp}-${this.fileIndex}${ext ? '.' + ext : ''}`;
  }

  private async openFile(): Promise<void> {
    const file = path.join(this.o['sink.directory'], this.nextName());
    this.logger.debug(`Opening output file ${file}`);
    this.file = await fsp.open(file, 'w');
    this.fileName = file;
    this.counter.ConnectionCreatedCount++;
    this.serializer = this.makeSerializer();
    const head = this.serializer.afterCreate();
    if (head) await this.writeAll(this.file, head);
  }

  private async closeFile(): Promise<void> {
    const f = this.file;
    if (!f) return;
    this.file = undefined;
    this.logger.debug(`Closing output file ${this.fileName}`);
    try {
      const tail = this.serializer?.beforeClose();
      if (tail) await this.writeAll(f, tail);
    } finally {
      await f.close();
      this.counter.ConnectionClosedCount++;
    }
  }
}

function serializerFor(registry: ComponentLookup, ctx: Context, type: string) {
  return registry.lookup('serializer', type);
}

export default defineSink({
  type: 'file_roll',
  aliases: ['org.apache.flume.sink.RollingFileSink'],
  description: 'Writes events to files in a local directory, starting a new file every roll interval.',
  options,
  batchOption: 'sink.batchSize',
  prefixes: [SERIALIZER_PREFIX],
  validate(o, ctx, registry) {
    const problems: OptionProblem[] = [];
    const def = serializerFor(registry, ctx, o['sink.serializer']);
    if (!def) {
      problems.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_UNKNOWN_TYPE,
        key: 'sink.serializer',
        message: `${ctx.fullKey('sink.serializer')}: unknown serializer "${o['sink.serializer']}" (text, header_and_text, avro_event or a plugin)`,
      });
      return problems;
    }
    const sub = ctx.subProperties(SERIALIZER_PREFIX);
    for (const p of resolveOptions(def.options as OptionsSpec, sub).problems) problems.push({ ...p, key: SERIALIZER_PREFIX + p.key });
    return problems;
  },
  create: ({ name, channel, options, logger, counter, context, registry }) => {
    const def = serializerFor(registry, context, options['sink.serializer'])!;
    const sub = context.subProperties(SERIALIZER_PREFIX);
    const sopts = resolveOptions(def.options as OptionsSpec, sub).options;
    const make = (): EventSerializer => def.create({ name, options: sopts as never, context: sub, logger, registry });
    return new RollingFileSink(name, channel, options, make, logger, counter);
  },
});
