import {
  bodyLength,
  ErrorCodes,
  EscapedString,
  FlumeError,
  RateLimitedLog,
  setLongTimeout,
  withTransaction,
  type Channel,
  type FlumeEvent,
  type LongTimer,
  type Logger,
  type SinkCounter,
  type Sink,
  type Status,
} from '../../plugin-api/index.js';
import { makeFormat, type FileFormat, type FormatSettings } from './formats.js';
import { WebHdfsError, type WebHdfsClient } from './webhdfs.js';

export interface HdfsSettings {
  /** The path inside HDFS, escapes unresolved (scheme and authority removed). */
  path: string;
  filePrefix: string;
  /** fileSuffix, or the codec's extension when fileSuffix is empty. */
  suffix: string;
  inUsePrefix: string;
  inUseSuffix: string;
  rollIntervalS: number;
  rollSize: number;
  rollCount: number;
  idleTimeoutS: number;
  batchSize: number;
  maxOpenFiles: number;
  closeTries: number;
  retryIntervalS: number;
  escape: { useLocalTimeStamp: boolean; timeZone?: string; round?: { value: number; unit: 'second' | 'minute' | 'hour' } };
  format: FormatSettings;
  /** How far back (s) the start-up recovery looks for directories of time-escaped paths. */
  recoveryLookbackS: number;
}

/** At most this many directories are listed at start for leftover in-use files. */
const MAX_RECOVERY_DIRS = 200;
/** Seconds before a start-time recovery that failed is tried again, when hdfs.retryInterval is 0. */
const RECOVERY_RETRY_S = 60;
/** Directories remembered as already checked for leftovers (then the set starts over). */
const MAX_SCANNED_DIRS = 10_000;

/** An open file of a bucket. */
interface OpenFile {
  inUsePath: string;
  finalPath: string;
  format: FileFormat;
  /** CREATE done: later batches APPEND. */
  created: boolean;
  events: number;
  bytes: number;
}

/** A file waiting to be closed (trailer written) and renamed, with its retries. */
interface Closing {
  file: OpenFile;
  tries: number;
  trailerDone: boolean;
  timer?: LongTimer;
}

/**
 * One resolved path + file prefix: Flume's BucketWriter. Its files are named
 * `<inUsePrefix><prefix>.<counter><suffix><inUseSuffix>`, the counter starting at the
 * time the bucket was made (ms) and going up by one per file, as Flume's.
 */
class Bucket {
  file: OpenFile | undefined;
  private counter: number;
  rollTimer: LongTimer | undefined;
  idleTimer: LongTimer | undefined;

  constructor(
    readonly key: string,
    readonly dir: string,
    readonly prefix: string,
  ) {
    this.counter = Date.now();
  }

  nextNames(s: HdfsSettings): { inUsePath: string; finalPath: string } {
    const name = `${this.prefix}.${++this.counter}${s.suffix}`;
    const dir = this.dir.endsWith('/') ? this.dir : this.dir + '/';
    return { inUsePath: `${dir}${s.inUsePrefix}${name}${s.inUseSuffix}`, finalPath: `${dir}${name}` };
  }

  clearTimers(): void {
    this.rollTimer?.clear();
    this.idleTimer?.clear();
    this.rollTimer = this.idleTimer = undefined;
  }
}

/**
 * Flume's HDFSEventSink over WebHDFS. A batch is taken in one transaction, each event
 * goes to the bucket of its resolved path, each touched file gets one CREATE or
 * APPEND, and the transaction commits only after every one of them returned. Any
 * failure rolls the batch back (the runner backs off and retries); the file that
 * failed is closed and renamed, and the retry writes to a new one.
 */
export class HdfsSink implements Sink {
  private readonly pathEsc: EscapedString;
  private readonly prefixEsc: EscapedString;
  private readonly buckets = new Map<string, Bucket>();
  private readonly closing = new Map<string, Closing>();
  private readonly scanned = new Set<string>();
  private readonly inUseRe: RegExp | undefined;
  private busy: Promise<unknown> = Promise.resolve();
  private readonly warn: RateLimitedLog;
  private stopped = false;

  constructor(
    readonly name: string,
    readonly channel: Channel,
    private readonly s: HdfsSettings,
    private readonly fs: WebHdfsClient,
    private readonly logger: Logger,
    private readonly counter: SinkCounter,
  ) {
    this.pathEsc = new EscapedString(s.path, s.escape);
    this.prefixEsc = new EscapedString(s.filePrefix, s.escape);
    this.warn = new RateLimitedLog(logger);
    // Leftover in-use files are recognised by their prefix and suffix: without either,
    // an in-use file cannot be told from a finished one.
    if (s.inUsePrefix || s.inUseSuffix) {
      this.inUseRe = new RegExp(`^${reEscape(s.inUsePrefix)}${escapedRegex(s.filePrefix)}\\.\\d+${reEscape(s.suffix)}${reEscape(s.inUseSuffix)}$`);
    }
  }

  async start(): Promise<void> {
    this.stopped = false;
    // Leftover in-use files of an earlier run: look in the directories this sink will
    // write (all of them for a fixed path, recent ones for a time-escaped one) without
    // holding up the start; every directory is also checked before a file opens in it.
    const dirs = this.recoveryDirs();
    if (dirs.length > 0) this.enqueue(() => this.recoverDirs(dirs)).catch(() => {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.busy.catch(() => {});
    // Every open file is closed and renamed; every pending close gets a last try.
    for (const b of [...this.buckets.values()]) await this.closeBucket(b, 'stop');
    for (const c of [...this.closing.values()]) {
      c.timer?.clear();
      await this.tryClose(c, true);
    }
    this.warn.flush();
    await this.fs.close();
  }

  process(): Promise<Status> {
    return this.enqueue(() => this.write());
  }

  /** Runs `fn` after everything queued before it: batches, timed rolls and retries never overlap. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.busy.then(fn);
    this.busy = p.catch(() => {});
    return p;
  }

  private async write(): Promise<Status> {
    const batchSize = this.s.batchSize;
    const n = await withTransaction(this.channel, async (tx) => {
      const events = await tx.take(batchSize);
      this.counter.countBatch(events.length, batchSize);
      if (events.length === 0) return 0;
      this.counter.EventDrainAttemptCount += events.length;
      // Group the batch by bucket, keeping each bucket's events in order.
      const groups = new Map<Bucket, FlumeEvent[]>();
      for (const e of events) {
        const b = this.bucketFor(e);
        let g = groups.get(b);
        if (!g) groups.set(b, (g = []));
        g.push(e);
      }
      try {
        for (const [b, list] of groups) await this.writeBucket(b, list);
      } catch (err) {
        this.counter.EventWriteFail++;
        throw this.describe(err);
      }
      return events.length;
    });
    this.counter.EventDrainSuccessCount += n;
    return n < batchSize ? 'BACKOFF' : 'READY';
  }

  private describe(err: unknown): Error {
    if (err instanceof WebHdfsError) return err;
    if (err instanceof FlumeError) return err;
    return new FlumeError(ErrorCodes.HDFS_CALL, `hdfs sink ${this.name}: ${(err as Error).message}`);
  }

  private bucketFor(e: FlumeEvent): Bucket {
    let dir: string;
    let prefix: string;
    try {
      dir = this.pathEsc.format(e);
      prefix = this.prefixEsc.format(e);
    } catch (err) {
      // Flume's behaviour: the batch rolls back and the sink keeps retrying; the line
      // says what the event lacks, once per interval.
      this.warn.error('escape', `hdfs sink ${this.name}: ${(err as Error).message}; the batch is rolled back and retried`);
      throw err;
    }
    const key = `${dir}/${prefix}`;
    let b = this.buckets.get(key);
    if (b) {
      // Most recently used last, so the first one is the one to close.
      this.buckets.delete(key);
      this.buckets.set(key, b);
      return b;
    }
    b = new Bucket(key, dir, prefix);
    this.buckets.set(key, b);
    return b;
  }

  private shouldRotate(f: OpenFile): boolean {
    return (this.s.rollCount > 0 && f.events >= this.s.rollCount) || (this.s.rollSize > 0 && f.bytes >= this.s.rollSize);
  }

  private async writeBucket(b: Bucket, events: FlumeEvent[]): Promise<void> {
    // A batch with more buckets than maxOpenFiles may have closed this one already.
    if (this.buckets.get(b.key) !== b) {
      this.buckets.delete(b.key);
      this.buckets.set(b.key, b);
    }
    let start = 0;
    for (let i = 0; i < events.length; i++) {
      if (!b.file) {
        await this.openFile(b);
      } else if (this.shouldRotate(b.file)) {
        await this.flushChunk(b, events, start, i);
        start = i;
        await this.closeFile(b, 'roll');
        await this.openFile(b);
      }
      const f = b.file!;
      f.events++;
      f.bytes += bodyLength(events[i]!);
    }
    await this.flushChunk(b, events, start, events.length);
    this.armIdle(b);
    await this.enforceMaxOpen();
  }

  private async openFile(b: Bucket): Promise<void> {
    await this.scanForLeftovers(b.dir);
    const names = b.nextNames(this.s);
    b.file = { ...names, format: makeFormat(this.s.format), created: false, events: 0, bytes: 0 };
    this.logger.info(`Creating ${names.inUsePath}`);
    if (this.s.rollIntervalS > 0 && !b.rollTimer) {
      b.rollTimer = setLongTimeout(() => {
        b.rollTimer = undefined;
        this.enqueue(() => this.closeBucket(b, 'rollInterval')).catch(() => {});
      }, this.s.rollIntervalS * 1000).unref();
    }
  }

  /** Writes events[from, to) of the bucket's file: CREATE with the header the first time, APPEND after. */
  private async flushChunk(b: Bucket, events: FlumeEvent[], from: number, to: number): Promise<void> {
    const f = b.file!;
    if (to <= from) return;
    const chunk = from === 0 && to === events.length ? events : events.slice(from, to);
    try {
      if (!f.created) {
        const head = f.format.header();
        const body = await f.format.encode(chunk);
        await this.fs.create(f.inUsePath, head.length > 0 ? Buffer.concat([head, body]) : body);
        f.created = true;
        this.counter.ConnectionCreatedCount++;
      } else {
        await this.fs.append(f.inUsePath, await f.format.encode(chunk));
      }
    } catch (err) {
      if (!f.created) this.counter.ConnectionFailedCount++;
      // What reached the file is unknown: this file is finished (renamed when the
      // server lets us), and the retried batch goes to a new one.
      b.file = undefined;
      b.clearTimers();
      this.buckets.delete(b.key);
      // A CREATE that never reached the server left nothing to rename.
      if (f.created || !(err instanceof WebHdfsError && err.notSent)) this.startClosing(f, true);
      this.logger.warn(`hdfs sink ${this.name}: writing ${f.inUsePath} failed: ${(err as Error).message}`);
      throw err;
    }
  }

  private armIdle(b: Bucket): void {
    if (this.s.idleTimeoutS <= 0) return;
    b.idleTimer?.clear();
    b.idleTimer = setLongTimeout(() => {
      b.idleTimer = undefined;
      this.enqueue(() => this.closeBucket(b, 'idleTimeout')).catch(() => {});
    }, this.s.idleTimeoutS * 1000).unref();
  }

  private async enforceMaxOpen(): Promise<void> {
    while (this.buckets.size > this.s.maxOpenFiles) {
      const oldest = this.buckets.values().next().value as Bucket;
      await this.closeBucket(oldest, 'maxOpenFiles');
    }
  }

  /** Closes the bucket's file and forgets the bucket (timed rolls, idle, LRU, stop). */
  private async closeBucket(b: Bucket, why: string): Promise<void> {
    if (this.buckets.get(b.key) === b) this.buckets.delete(b.key);
    b.clearTimers();
    if (b.file) await this.closeFile(b, why);
  }

  /** Closes the bucket's current file: trailer, then rename; failures go to the retry list. */
  private async closeFile(b: Bucket, why: string): Promise<void> {
    const f = b.file;
    b.file = undefined;
    if (!f) return;
    if (why !== 'roll') {
      b.clearTimers();
    } else {
      b.rollTimer?.clear();
      b.rollTimer = undefined;
    }
    if (!f.created) return;
    this.logger.info(`Closing ${f.inUsePath} (${why})`);
    const c: Closing = { file: f, tries: 0, trailerDone: false };
    this.closing.set(f.inUsePath, c);
    await this.tryClose(c, false);
  }

  /** A file whose write failed: close it in the background (it may not exist). */
  private startClosing(f: OpenFile, writeFailed: boolean): void {
    const c: Closing = { file: f, tries: 0, trailerDone: writeFailed };
    this.closing.set(f.inUsePath, c);
    this.scheduleRetry(c, 1000);
  }

  private scheduleRetry(c: Closing, ms: number): void {
    if (this.stopped) return;
    c.timer?.clear();
    c.timer = setLongTimeout(() => {
      c.timer = undefined;
      this.enqueue(() => this.tryClose(c, false)).catch(() => {});
    }, ms).unref();
  }

  private async tryClose(c: Closing, last: boolean): Promise<void> {
    if (this.closing.get(c.file.inUsePath) !== c) return;
    c.tries++;
    const f = c.file;
    try {
      if (!c.trailerDone) {
        const tail = await f.format.trailer();
        if (tail.length > 0) await this.fs.append(f.inUsePath, tail);
        c.trailerDone = true;
      }
      if (f.inUsePath !== f.finalPath) await this.renameInUse(f.inUsePath, f.finalPath);
      this.closing.delete(f.inUsePath);
      this.counter.ConnectionClosedCount++;
    } catch (err) {
      this.counter.ConnectionFailedCount++;
      const unlimited = this.s.closeTries <= 0;
      if (!last && this.s.retryIntervalS > 0 && (unlimited || c.tries < this.s.closeTries)) {
        this.logger.warn(
          `hdfs sink ${this.name}: closing ${f.inUsePath} failed (try ${c.tries}${unlimited ? '' : ` of ${this.s.closeTries}`}): ${(err as Error).message}; trying again in ${this.s.retryIntervalS} s`,
        );
        this.scheduleRetry(c, this.s.retryIntervalS * 1000);
      } else {
        this.closing.delete(f.inUsePath);
        this.logger.error(`hdfs sink ${this.name}: gave up closing ${f.inUsePath} after ${c.tries} tries: ${(err as Error).message}; it is renamed to ${f.finalPath} when the sink next starts`);
      }
    }
  }

  /** RENAME, treating "already renamed" (an earlier answer lost) as done; a missing file (never created) is done too. */
  private async renameInUse(from: string, to: string): Promise<void> {
    if (await this.fs.rename(from, to)) return;
    const [src, dst] = await Promise.all([this.fs.status(from), this.fs.status(to)]);
    if (!src) return;
    throw new FlumeError(ErrorCodes.HDFS_RENAME, `RENAME ${from} to ${to} refused${dst ? ': the destination exists' : ''}`);
  }

  /** Directories to check for leftovers at start. */
  private recoveryDirs(): string[] {
    if (!this.inUseRe) return [];
    if (!this.pathEsc.hasEscapes) return [this.s.path];
    if (!this.pathEsc.onlyTimeEscapes || this.s.recoveryLookbackS <= 0) return [];
    // A path of time escapes only: the directories of the recent past, stepping by the
    // finest unit the path uses, as far back as hdfs.recovery.lookback.
    const step = this.pathEsc.finestTimeUnitMs;
    const now = Date.now();
    const dirs = new Set<string>();
    const pseudo = { headers: {} as Record<string, string>, body: Buffer.alloc(0) };
    for (let t = now; t >= now - this.s.recoveryLookbackS * 1000 && dirs.size < MAX_RECOVERY_DIRS; t -= step) {
      pseudo.headers.timestamp = String(t);
      dirs.add(this.pathEsc.format(pseudo, t));
    }
    return [...dirs];
  }

  /**
   * Checks `dirs` for leftovers. The first failure (namenode away) stops the round, so
   * batches queued behind it are not held up by one timeout per directory; the rest is
   * tried again after a while.
   */
  private async recoverDirs(dirs: string[]): Promise<void> {
    for (let i = 0; i < dirs.length; i++) {
      if (this.stopped) return;
      try {
        await this.scanForLeftovers(dirs[i]!);
      } catch (err) {
        const rest = dirs.slice(i).filter((d) => !this.scanned.has(d));
        const waitS = this.s.retryIntervalS > 0 ? this.s.retryIntervalS : RECOVERY_RETRY_S;
        this.logger.warn(
          `hdfs sink ${this.name}: could not check ${dirs[i]} for leftover in-use files: ${(err as Error).message}; ${rest.length} director${rest.length === 1 ? 'y is' : 'ies are'} checked again in ${waitS} s (and each before a file opens there)`,
        );
        if (!this.stopped) {
          setLongTimeout(() => {
            if (!this.stopped) this.enqueue(() => this.recoverDirs(rest)).catch(() => {});
          }, waitS * 1000).unref();
        }
        return;
      }
    }
  }

  /** Renames leftover in-use files of this sink in `dir` (once per directory). */
  private async scanForLeftovers(dir: string): Promise<void> {
    if (!this.inUseRe || this.scanned.has(dir)) return;
    const entries = await this.fs.list(dir);
    if (this.scanned.size >= MAX_SCANNED_DIRS) this.scanned.clear();
    this.scanned.add(dir);
    if (!entries) return;
    const base = dir.endsWith('/') ? dir : dir + '/';
    const mine = new Set<string>();
    for (const b of this.buckets.values()) if (b.file) mine.add(b.file.inUsePath);
    for (const c of this.closing.keys()) mine.add(c);
    for (const e of entries) {
      if (e.type !== 'FILE' || !this.inUseRe.test(e.pathSuffix)) continue;
      const from = base + e.pathSuffix;
      if (mine.has(from)) continue;
      const finalName = e.pathSuffix.slice(this.s.inUsePrefix.length, e.pathSuffix.length - this.s.inUseSuffix.length);
      try {
        await this.renameInUse(from, base + finalName);
        this.logger.info(`hdfs sink ${this.name}: renamed leftover in-use file ${from} to ${base + finalName}`);
      } catch (err) {
        this.logger.warn(`hdfs sink ${this.name}: leftover in-use file ${from} could not be renamed: ${(err as Error).message}`);
      }
    }
  }
}

function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A regex matching what a file prefix with escapes can resolve to (escapes match anything). */
function escapedRegex(prefix: string): string {
  let out = '';
  let last = 0;
  for (const m of prefix.matchAll(/%(\w|%)|%\{[\w.-]+\}|%\[\w+\]/g)) {
    out += reEscape(prefix.slice(last, m.index)) + '.*';
    last = m.index! + m[0].length;
  }
  return out + reEscape(prefix.slice(last));
}
