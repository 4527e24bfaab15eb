import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { RateLimitedLog, sleep, type ChannelProcessor, type EventDrivenSource, type FlumeEvent, type Logger, type SourceCounter } from '../../plugin-api/index.js';
import { compileJavaFullMatch } from '../../interceptors/java-regex.js';
import { deserializerKind, inputDecoderLabel, OUTPUT_CHARSETS, type SpoolOptions } from './options.js';
import { AvroDeserializer } from './avro.js';
import { BlobDeserializer } from './blob.js';
import { LineDeserializer } from './line.js';
import type { Deserializer, Position } from './reader.js';
import { Scanner, type Candidate } from './scanner.js';
import { Tracker, type Meta } from './tracker.js';

const START: Position = { offset: 0, skip: 0 };

/**
 * Flume's spooling directory source. One file is open at a time. Each batch of
 * events goes into the channels in one transaction; only once it is committed is the
 * position stored in trackerDir, and only once the last batch of a file is committed
 * is the file renamed (or deleted, or marked). A restart resumes the file it was
 * reading at its last committed position. A file that cannot be read to its end is
 * reported once, counted in EventReadFail, and set aside with failedSuffix; unlike
 * Flume, the source then goes on with the other files.
 */
export class SpoolDirectorySource implements EventDrivenSource {
  readonly kind = 'event-driven';
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly dir: string;
  private readonly trackerDir: string;
  private readonly tracker: Tracker;
  private readonly scanner: Scanner;
  private readonly rate: RateLimitedLog;
  private queue: Candidate[] = [];
  /** Files that could neither be finished nor set aside: not read again while the agent runs (path, inode, size and mtime). */
  private readonly leftAlone = new Set<string>();
  private readonly kindOf: 'LINE' | 'AVRO' | 'BLOB';
  private readonly input: string;
  private readonly output: BufferEncoding;

  constructor(
    private readonly name: string,
    private readonly o: SpoolOptions,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
    private readonly logger: Logger,
  ) {
    this.dir = path.resolve(o.spoolDir);
    this.trackerDir = path.isAbsolute(o.trackerDir) ? o.trackerDir : path.join(this.dir, o.trackerDir);
    this.tracker = new Tracker(this.trackerDir);
    this.rate = new RateLimitedLog(logger);
    this.kindOf = deserializerKind(o.deserializer) ?? 'LINE';
    const input = inputDecoderLabel(o.inputCharset);
    this.input = input instanceof Error ? 'utf-8' : input;
    this.output = OUTPUT_CHARSETS[o['deserializer.outputCharset'].trim().toLowerCase()] ?? 'utf8';
    this.scanner = new Scanner({
      dir: this.dir,
      trackerDir: this.trackerDir,
      trackerMarks: o.trackingPolicy === 'tracker_dir' && o.deletePolicy === 'never',
      fileSuffix: o.fileSuffix,
      failedSuffix: o.failedSuffix,
      include: compileJavaFullMatch(o.includePattern),
      ignore: compileJavaFullMatch(o.ignorePattern),
      recursive: o.recursiveDirectorySearch,
      quietMs: o.quietPeriod,
      order: o.consumeOrder,
    });
  }

  async start(): Promise<void> {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.dir);
    } catch (err) {
      throw new Error(`spoolDir ${this.dir} cannot be used: ${(err as Error).message}`);
    }
    if (!st.isDirectory()) throw new Error(`spoolDir ${this.dir} is not a directory`);
    if (this.o.trackingPolicy === 'rename' || this.o.deletePolicy === 'immediate') {
      try {
        fs.accessSync(this.dir, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
      } catch {
        throw new Error(`spoolDir ${this.dir} must be readable and writable (finished files are renamed or deleted there); with a read-only directory use trackingPolicy = tracker_dir`);
      }
    }
    try {
      fs.mkdirSync(this.trackerDir, { recursive: true });
    } catch (err) {
      throw new Error(`trackerDir ${this.trackerDir} cannot be created: ${(err as Error).message}`);
    }
    this.logger.info(`SpoolDirectorySource source ${this.name} starting with directory: ${this.dir}`);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.tracker.close();
    this.rate.flush();
    this.logger.info(`SpoolDir source ${this.name} stopped. Metrics: ${JSON.stringify(this.counter.snapshot())}`);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let resume: { file: Candidate; from: Position } | undefined;
    try {
      resume = this.recover();
    } catch (err) {
      this.counter.GenericProcessingFail++;
      this.logger.error(`spooldir source ${this.name}: cannot resume from ${this.tracker.path}: ${(err as Error).message}`);
    }
    while (!signal.aborted) {
      try {
        if (resume) {
          const r = resume;
          resume = undefined;
          await this.processFile(r.file, r.from);
          continue;
        }
        let c = this.queue.shift();
        if (!c) {
          await this.rescan();
          c = this.queue.shift();
        }
        if (c) await this.processFile(c, START);
        else await sleep(this.o.pollDelay, signal);
      } catch (err) {
        this.counter.GenericProcessingFail++;
        this.logger.error(`spooldir source ${this.name}: ${(err as Error).stack ?? err}`);
        await sleep(this.o.pollDelay, signal);
      }
    }
  }

  /** The file a previous run was reading and where to go on, from the tracker's position file. */
  private recover(): { file: Candidate; from: Position } | undefined {
    const { meta, corrupt } = this.tracker.load();
    if (corrupt !== undefined) {
      this.counter.GenericProcessingFail++;
      let where = '';
      try {
        where = `; moved aside to ${this.tracker.setAside()}`;
      } catch (err) {
        fs.rmSync(this.tracker.path, { force: true });
        where = `; deleted (it could not be moved aside: ${(err as Error).message})`;
      }
      this.logger.error(
        `spooldir source ${this.name}: position file ${this.tracker.path} cannot be used: ${corrupt}${where}. The file it tracked will be read again from its start, so some of its events may be delivered twice.`,
      );
      return undefined;
    }
    if (!meta) return undefined;
    // Java Flume's position file is read once; ours replaces it from the first batch on.
    if (meta.java) fs.rmSync(this.tracker.path, { force: true });
    const st = fs.statSync(meta.file, { throwIfNoEntry: false });
    if (!st || (!meta.java && (st.ino !== meta.ino || st.dev !== meta.dev))) {
      // Finished (renamed or deleted) after its last batch, or another file took its name.
      if (!meta.java) this.tracker.clear();
      return undefined;
    }
    const file: Candidate = {
      path: meta.file,
      rel: path.relative(this.dir, meta.file).split(path.sep).join('/'),
      name: path.basename(meta.file),
      size: st.size,
      mtimeMs: st.mtimeMs,
      ino: st.ino,
      dev: st.dev,
    };
    if (meta.java) {
      if (meta.offset > st.size) {
        this.logger.warn(`spooldir source ${this.name}: Java Flume's position file names ${meta.file} at byte offset ${meta.offset}, past its size ${st.size}; the file is read from its start`);
        return { file, from: { offset: 0, skip: 0 } };
      }
      this.logger.info(`spooldir source ${this.name}: resuming ${meta.file} at byte offset ${meta.offset}, from the position file Java Flume left`);
      return { file, from: { offset: meta.offset, skip: 0 } };
    }
    if (st.size !== meta.size || st.mtimeMs !== meta.mtimeMs) {
      this.setAside(file, `it changed while it was being read (size ${meta.size} → ${st.size} bytes, before this restart); its events up to byte offset ${meta.offset} were delivered`);
      return undefined;
    }
    this.logger.info(`spooldir source ${this.name}: resuming ${meta.file} at byte offset ${meta.offset}${meta.skip ? ` (+${meta.skip} events)` : ''}, where the last committed batch ended`);
    return { file, from: { offset: meta.offset, skip: meta.skip } };
  }

  private async rescan(): Promise<void> {
    let res;
    try {
      res = await this.scanner.scan();
    } catch (err) {
      this.counter.GenericProcessingFail++;
      this.rate.error('scan', `spooldir source ${this.name}: cannot list ${this.dir}: ${(err as Error).message}`);
      return;
    }
    for (const b of res.bad) {
      const c: Candidate = { path: b.path, rel: b.rel, name: path.basename(b.path), size: 0, mtimeMs: 0, ino: 0, dev: 0 };
      if (!this.leftAlone.has(leftAloneKey(c))) this.setAside(c, b.reason);
    }
    this.queue = res.ready.filter((c) => !this.leftAlone.has(leftAloneKey(c)));
  }

  private deserializer(fh: FileHandle, from: Position, size: number): Deserializer {
    switch (this.kindOf) {
      case 'AVRO':
        return new AvroDeserializer(fh, from, size, this.o['deserializer.schemaType']);
      case 'BLOB':
        return new BlobDeserializer(fh, from.offset, size, this.o['deserializer.maxBlobLength'], () =>
          this.rate.warn(
            'blob',
            `spooldir source ${this.name}: File length exceeds maxBlobLength (${this.o['deserializer.maxBlobLength']}), truncating BLOB event! (the rest follows in the next event)`,
          ),
        );
      default:
        return new LineDeserializer(fh, from.offset, size, {
          maxLineLength: this.o['deserializer.maxLineLength'],
          input: this.input,
          output: this.output,
          policy: this.o.decodeErrorPolicy,
          onCut: () => this.rate.warn('line', `spooldir source ${this.name}: Line length exceeds max (${this.o['deserializer.maxLineLength']}), truncating line! (the rest follows in the next event)`),
        });
    }
  }

  /** Reads one file from `from` to its end, then finishes it; or sets it aside. */
  private async processFile(c: Candidate, from: Position): Promise<void> {
    const renaming = this.o.deletePolicy === 'never' && this.o.trackingPolicy === 'rename';
    if (renaming && fs.existsSync(c.path + this.o.fileSuffix)) {
      this.setAside(c, `the file name was used before: ${c.name}${this.o.fileSuffix} already exists (nothing of this file was read)`);
      return;
    }
    let fh: FileHandle;
    try {
      fh = await fs.promises.open(c.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.setAside(c, `it cannot be opened: ${(err as Error).message}`);
      return;
    }
    let problem: string | undefined;
    let finished = false;
    try {
      const st = await fh.stat();
      if (!st.isFile()) {
        problem = 'it is not a regular file';
      } else if (from === START && (st.size !== c.size || st.mtimeMs !== c.mtimeMs)) {
        // Written to since it was listed: not quiet after all; it comes back in a later scan.
        return;
      } else {
        const picked = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
        if (from === START) this.logger.info(`spooldir source ${this.name}: reading ${c.path} (${st.size} bytes)`);
        const r = await this.readAll(fh, c, picked, from);
        if (r.problem) problem = r.problem;
        else if (r.done) {
          const now = await fh.stat();
          if (now.size !== st.size || now.mtimeMs !== st.mtimeMs) {
            problem = `it changed after it was picked up (size ${st.size} → ${now.size} bytes, mtime ${new Date(st.mtimeMs).toISOString()} → ${new Date(now.mtimeMs).toISOString()}); its first ${st.size} bytes were delivered, the rest was not`;
          } else finished = true;
        }
      }
    } catch (err) {
      problem = `it cannot be read: ${(err as Error).message}`;
    } finally {
      await fh.close().catch(() => {});
    }
    if (problem) this.setAside(c, problem);
    else if (finished) this.retire(c);
  }

  /** Delivers the file's events batch by batch; `done` when all are committed, `problem` when the input went bad. */
  private async readAll(fh: FileHandle, c: Candidate, picked: Omit<Meta, 'file' | 'offset' | 'skip'>, from: Position): Promise<{ done: boolean; problem?: string }> {
    if (picked.size === 0) {
      // As Flume: an empty file gives one event with an empty body.
      return { done: await this.deliver([{ headers: {}, body: Buffer.alloc(0) }], c, picked, START) };
    }
    const des = this.deserializer(fh, from, picked.size);
    let delivered = 0;
    for (;;) {
      if (this.abort.signal.aborted) return { done: false };
      const res = await des.read(this.o.batchSize);
      if (res.events.length > 0) {
        if (!(await this.deliver(res.events, c, picked, res.end))) return { done: false };
        delivered += res.events.length;
      }
      if (res.error) {
        return {
          done: false,
          problem: `${res.error.message}; the events before byte offset ${res.end.offset} were delivered (${delivered} in this run${from.offset > 0 ? `, which resumed at byte offset ${from.offset}` : ''})`,
        };
      }
      if (res.eof) return { done: true };
    }
  }

  /** Stores a batch (retrying while the channels refuse it), then its end position. False when stopped first. */
  private async deliver(events: FlumeEvent[], c: Candidate, picked: Omit<Meta, 'file' | 'offset' | 'skip'>, end: Position): Promise<boolean> {
    if (this.o.fileHeader || this.o.basenameHeader) {
      const fk = this.o.fileHeaderKey;
      const bk = this.o.basenameHeaderKey;
      for (const e of events) {
        const h = e.headers;
        if (this.o.fileHeader) h[fk] = c.path;
        if (this.o.basenameHeader) h[bk] = c.name;
      }
    }
    this.counter.EventReceivedCount += events.length;
    this.counter.AppendBatchReceivedCount++;
    const signal = this.abort.signal;
    let wait = 250;
    for (;;) {
      try {
        await this.processor.processEventBatch(events);
        break;
      } catch (err) {
        this.counter.ChannelWriteFail++;
        if (signal.aborted) {
          this.logger.warn(`spooldir source ${this.name}: stopping with a batch of ${events.length} event(s) from ${c.path} not stored; it is read again at the next start`);
          return false;
        }
        this.rate.warn('channel', `spooldir source ${this.name}: The channel is full or failing (${(err as Error).message}); the source will try again after ${wait} ms`);
        await sleep(wait, signal);
        wait = Math.min(wait * 2, this.o.maxBackoff);
        if (signal.aborted) return false;
      }
    }
    this.counter.EventAcceptedCount += events.length;
    this.counter.AppendBatchAcceptedCount++;
    try {
      this.tracker.save({ file: c.path, ...picked, offset: end.offset, skip: end.skip });
    } catch (err) {
      this.counter.GenericProcessingFail++;
      this.rate.error(
        'tracker',
        `spooldir source ${this.name}: cannot store the position in ${this.tracker.path}: ${(err as Error).message}; a restart would deliver this file's events since the last stored position again`,
      );
    }
    return true;
  }

  /** The file's events are all committed: rename, delete or mark it, then forget its position. */
  private retire(c: Candidate): void {
    try {
      if (this.o.deletePolicy === 'immediate') {
        this.logger.info(`Preparing to delete file ${c.path}`);
        fs.rmSync(c.path, { force: true });
      } else if (this.o.trackingPolicy === 'tracker_dir') {
        const mark = path.join(this.trackerDir, c.rel + this.o.fileSuffix);
        this.logger.info(`Preparing to create tracker file for ${c.path} at ${mark}`);
        fs.mkdirSync(path.dirname(mark), { recursive: true });
        fs.writeFileSync(mark, '', { flag: 'wx' });
      } else {
        const dest = c.path + this.o.fileSuffix;
        if (fs.existsSync(dest)) {
          this.setAside(c, `its events were all delivered, but ${path.basename(dest)} appeared meanwhile, so it cannot take that name`);
          return;
        }
        this.logger.info(`Preparing to move file ${c.path} to ${dest}`);
        fs.renameSync(c.path, dest);
      }
      this.tracker.clear();
    } catch (err) {
      this.counter.GenericProcessingFail++;
      this.leftAlone.add(leftAloneKey(c));
      this.logger.error(
        `spooldir source ${this.name}: all events of ${c.path} were delivered, but it cannot be finished: ${(err as Error).message}. It is left in place and not read again while the agent runs; remove it, or it will be read again after a restart.`,
      );
    }
  }

  /**
   * Reports a file that cannot be read to its end (once: it is renamed with
   * failedSuffix, or marked in trackerDir, so no later scan sees it), counts it in
   * EventReadFail, and lets the source go on with the other files.
   */
  private setAside(c: Candidate, reason: string): void {
    this.counter.EventReadFail++;
    let where: string;
    try {
      if (this.o.trackingPolicy === 'tracker_dir' && this.o.deletePolicy === 'never') {
        const mark = path.join(this.trackerDir, c.rel + this.o.failedSuffix);
        fs.mkdirSync(path.dirname(mark), { recursive: true });
        fs.writeFileSync(mark, `${reason}\n`);
        where = `left in place and marked by ${mark}`;
      } else {
        let dest = c.path + this.o.failedSuffix;
        for (let n = 1; fs.existsSync(dest); n++) {
          if (n > 1000) throw new Error(`${dest} and 1000 numbered names exist already`);
          dest = `${c.path}.${n}${this.o.failedSuffix}`;
        }
        fs.renameSync(c.path, dest);
        where = `renamed to ${path.basename(dest)}`;
      }
    } catch (err) {
      this.leftAlone.add(leftAloneKey(c));
      where = `left in place and skipped while the agent runs (it could not be set aside: ${(err as Error).message})`;
    }
    if (this.tracker.current === c.path) {
      try {
        this.tracker.clear();
      } catch (err) {
        this.rate.error('tracker', `spooldir source ${this.name}: cannot update ${this.tracker.path}: ${(err as Error).message}`);
      }
    }
    this.logger.error(`spooldir source ${this.name}: file ${c.path} is set aside: ${reason}; ${where}. The source goes on with the other files.`);
  }
}

function leftAloneKey(c: Candidate): string {
  return `${c.path}\0${c.ino}\0${c.size}\0${c.mtimeMs}`;
}
