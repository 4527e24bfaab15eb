import fs from 'node:fs';
import path from 'node:path';
import {
  AvailabilitySignal,
  BaseTransaction,
  bodyLength,
  ChannelError,
  ChannelFullError,
  ErrorCodes,
  RateLimitedLog,
  type Channel,
  type FlumeEvent,
  type Logger,
  type Transaction,
} from '../../plugin-api/index.js';
import { CHECKPOINT_NAME, encodeCheckpoint, readCheckpoint, writeCheckpoint, type CheckpointData } from './checkpoint.js';
import { FileChannelCounter } from './counter.js';
import { decodeEvent, encodeTxn, eventLengthAt, FILE_HEADER, MAX_FILE_HEADER, MAX_RECORD, RECORD_HEADER, parseFileHeader, pointer, pointerFile, pointerOffset, type Damage } from './format.js';
import { cryptAt, loadKeyRing, type EncryptionConfig, type KeyRing } from './crypto.js';
import { lockDir } from './lock.js';
import { PointerQueue } from './queue.js';
import { listLogs, scanLog } from './scan.js';
import { LogWriter } from './writer.js';

export interface FileChannelConfig {
  checkpointDir: string;
  backupCheckpointDir: string | undefined;
  dataDirs: readonly string[];
  capacity: number;
  transactionCapacity: number;
  checkpointIntervalMs: number;
  maxFileSize: number;
  minimumRequiredSpace: number;
  keepAliveMs: number;
  checkpointOnClose: boolean;
  fsyncPerTransaction: boolean;
  fsyncIntervalMs: number;
  /** Bytes of event bodies kept in memory beside their pointers, so fresh events are not read back. */
  cacheBytes: number;
  /** Encrypt data at rest (AES-CTR) with keys read from files. */
  encryption?: EncryptionConfig | undefined;
}

/** Bodies of recent puts kept in memory for takes (no re-read from disk). */
export const DEFAULT_CACHE_BYTES = 64 << 20;
const READ_CHUNK = 1 << 20;

interface FileEntry {
  path: string;
  fd: number;
  /** Set once the header was read: the key and nonce of an encrypted file. */
  header?: { key: Buffer | undefined; nonce: Buffer | undefined };
  chunk: Buffer | undefined;
  chunkStart: number;
}

/**
 * Flume's file channel, with our own format (docs/file-channel-format.md): each commit
 * is one checksummed record appended to the log of one data directory and fsync'd
 * (shared by concurrent commits) before the commit resolves; the queue of event
 * pointers lives in memory and is checkpointed; restart = checkpoint + log after it.
 */
export class FileChannel implements Channel {
  readonly durable = true;
  readonly counter: FileChannelCounter;
  readonly capacity: number;
  readonly transactionCapacity: number;
  private readonly queue = new PointerQueue(1024);
  private readonly files = new Map<number, FileEntry>();
  private readonly refs = new Map<number, number>();
  private writers: LogWriter[] = [];
  private nextWriter = 0;
  private readonly openTakes = new Set<FileTransaction>();
  openTakeCount = 0;
  private inflightPuts = 0;
  private cachedBytes = 0;
  private seq = 0;
  private nextFileId = 1;
  private readonly available = new AvailabilitySignal();
  private readonly spaceFreed = new AvailabilitySignal();
  private stopped = true;
  private locks: (() => void)[] = [];
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> | undefined;
  /** Set once the last checkpoint of a stop is written: no more after it (the locks go next). */
  private closed = false;
  /** Commits applied, and how many the last checkpoint written covers (-1: none yet). */
  private applied = 0;
  private checkpointedApplied = -1;
  private lastSpaceCheckpoint = 0;
  private readonly rl: RateLimitedLog;
  private keyRing: KeyRing | undefined;
  /** What the last start found and skipped. */
  readonly replayReport = { damage: [] as Damage[], missingEvents: 0, checkpoint: '' as string, events: 0, ms: 0 };

  constructor(
    readonly name: string,
    readonly cfg: FileChannelConfig,
    private readonly logger: Logger,
  ) {
    this.capacity = cfg.capacity;
    this.transactionCapacity = cfg.transactionCapacity;
    this.counter = new FileChannelCounter(name, cfg.capacity);
    this.rl = new RateLimitedLog(logger);
  }

  get size(): number {
    return this.queue.length;
  }

  transaction(): Transaction {
    return new FileTransaction(this);
  }

  waitAvailable(timeoutMs: number): Promise<void> {
    if (this.queue.length > 0 || this.stopped) return Promise.resolve();
    return this.available.wait(timeoutMs);
  }

  async start(): Promise<void> {
    const dirs = [this.cfg.checkpointDir, ...(this.cfg.backupCheckpointDir ? [this.cfg.backupCheckpointDir] : []), ...this.cfg.dataDirs];
    try {
      if (this.cfg.encryption) {
        try {
          this.keyRing = loadKeyRing(this.cfg.encryption);
        } catch (e) {
          throw new ChannelError(ErrorCodes.CHANNEL_IO, `file channel ${this.name}: encryption keys: ${(e as Error).message}`);
        }
      }
      for (const d of dirs) {
        fs.mkdirSync(d, { recursive: true });
        this.locks.push(lockDir(d, this.name));
      }
      this.replay();
      this.writers = this.cfg.dataDirs.map(
        (d) =>
          new LogWriter(path.resolve(d), {
            maxFileSize: this.cfg.maxFileSize,
            fsyncPerTransaction: this.cfg.fsyncPerTransaction,
            minimumRequiredSpace: this.cfg.minimumRequiredSpace,
            allocFileId: () => this.nextFileId++,
            onRoll: (id, file, previous) => this.onRoll(id, file, previous),
            logger: this.logger,
            encryption: this.keyRing,
          }),
      );
      for (const w of this.writers) w.open(this.cfg.fsyncIntervalMs);
    } catch (err) {
      this.releaseLocks();
      this.counter.Unhealthy = 1;
      throw err;
    }
    this.stopped = false;
    this.closed = false;
    this.counter.Open = 1;
    this.counter.Closed = 0;
    this.counter.Unhealthy = 0;
    this.counter.ChannelSize = this.queue.length;
    // A checkpoint right away: the next start replays nothing, and files the replay
    // found empty can go.
    await this.checkpoint();
    this.checkpointTimer = setInterval(() => void this.checkpoint(), this.cfg.checkpointIntervalMs);
    this.checkpointTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.available.notify();
    this.spaceFreed.notify();
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    await Promise.all(this.writers.map((w) => w.drained()));
    await this.checkpointing;
    if (this.cfg.checkpointOnClose) await this.checkpoint();
    this.closed = true;
    for (const w of this.writers) await w.close().catch((e: Error) => this.logger.error(`file channel ${this.name}: closing ${w.currentPath}: ${e.message}`));
    for (const f of this.files.values()) this.closeFile(f);
    this.rl.flush();
    this.releaseLocks();
    this.counter.Open = 0;
    this.counter.Closed = 1;
  }

  private releaseLocks(): void {
    for (const r of this.locks.splice(0)) r();
  }

  // ---- replay -------------------------------------------------------------

  private loadCheckpoint(): CheckpointData | undefined {
    const places = [this.cfg.checkpointDir, ...(this.cfg.backupCheckpointDir ? [this.cfg.backupCheckpointDir] : [])];
    for (const dir of places) {
      const file = path.join(dir, CHECKPOINT_NAME);
      if (!fs.existsSync(file)) continue;
      try {
        const cp = readCheckpoint(file);
        this.replayReport.checkpoint = file;
        return cp;
      } catch (e) {
        this.counter.ReplayDamageCount++;
        this.logger.warn(`file channel ${this.name}: unusable checkpoint ${(e as Error).message}; trying the next one (backup checkpoint, then a full replay of the logs)`);
      }
    }
    return undefined;
  }

  /** Rebuilds the queue: the checkpoint, then every record written after it. */
  private replay(): void {
    const t0 = Date.now();
    let maxId = 0;
    const byDir = this.cfg.dataDirs.map((d) => {
      const logs = listLogs(path.resolve(d));
      for (const l of logs) {
        this.files.set(l.id, { path: l.path, fd: -1, chunk: undefined, chunkStart: 0 });
        maxId = Math.max(maxId, l.id);
      }
      return logs;
    });
    // Every file must be readable: an encrypted one needs its key now, not at the first take.
    for (const f of this.files.values()) {
      f.fd = fs.openSync(f.path, 'r');
      try {
        f.header = this.readHeader(f);
      } finally {
        this.closeFile(f);
      }
    }
    const cp = this.loadCheckpoint();
    if (!cp && this.files.size > 0) this.logger.warn(`file channel ${this.name}: no usable checkpoint; replaying all ${this.files.size} log file(s)`);
    let seq = cp?.seq ?? 0;
    const batches: { seq: number; puts: number[] }[] = [];
    const taken = new Set<number>();
    this.cfg.dataDirs.forEach((d, i) => {
      const abs = path.resolve(d);
      const pos = cp?.positions.find((p) => p.dir === abs);
      for (const l of byDir[i]!) {
        if (pos && l.id < pos.fileId) continue;
        const from = pos && l.id === pos.fileId ? pos.offset : FILE_HEADER;
        const r = scanLog(
          l.path,
          l.id,
          (rec) => {
            if (rec.seq > seq) seq = rec.seq;
            for (const t of rec.takes) taken.add(t);
            if (rec.puts.length > 0) batches.push({ seq: rec.seq, puts: rec.puts });
          },
          from,
          this.keyRing?.keys,
        );
        if (r.fileId !== undefined && r.fileId !== l.id) this.logger.warn(`file channel ${this.name}: ${l.path} says it is log ${r.fileId}; read as ${l.id}`);
        for (const dmg of r.damage) this.reportDamage(dmg);
      }
    });
    // The checkpoint's queue first, then the puts after it in commit order; minus what was taken.
    batches.sort((a, b) => a.seq - b.seq);
    const refs = this.refs;
    const add = (p: number): void => {
      if (taken.has(p)) return;
      const f = pointerFile(p);
      if (!this.files.has(f)) {
        this.replayReport.missingEvents++;
        return;
      }
      this.queue.push(p, undefined);
      refs.set(f, (refs.get(f) ?? 0) + 1);
    };
    if (cp) for (let i = 0; i < cp.queue.length; i++) add(cp.queue[i]!);
    for (const b of batches) for (const p of b.puts) add(p);
    if (this.replayReport.missingEvents > 0) {
      this.logger.error(`file channel ${this.name}: ${this.replayReport.missingEvents} event(s) of the checkpoint point into log files that no longer exist; they are lost`);
      this.counter.ReplayDamageCount++;
    }
    this.seq = seq + 1;
    this.nextFileId = Math.max(cp?.nextFileId ?? 1, maxId + 1);
    this.replayReport.events = this.queue.length;
    this.replayReport.ms = Date.now() - t0;
    this.logger.info(
      `file channel ${this.name}: replayed ${this.queue.length} event(s) in ${this.replayReport.ms} ms` +
        (cp ? ` from checkpoint ${this.replayReport.checkpoint} and the logs after it` : '') +
        (this.replayReport.damage.length ? `; ${this.replayReport.damage.length} damaged range(s) skipped` : ''),
    );
    if (this.queue.length > this.capacity) this.logger.warn(`file channel ${this.name}: holds ${this.queue.length} events, more than its capacity ${this.capacity}; puts wait until it drains below`);
  }

  private reportDamage(d: Damage): void {
    this.replayReport.damage.push(d);
    this.counter.ReplayDamageCount++;
    if (d.tail) {
      this.logger.warn(
        `file channel ${this.name}: ${d.file}: incomplete or damaged record at offset ${d.offset} (${d.reason}), ${d.length} byte(s) to the end of the file; ` +
          'a write cut short by a crash: never committed, cut off',
      );
      try {
        fs.truncateSync(d.file, d.offset);
      } catch (e) {
        this.logger.error(`file channel ${this.name}: could not cut ${d.file} at ${d.offset}: ${(e as Error).message}`);
      }
    } else {
      this.logger.error(
        `file channel ${this.name}: ${d.file}: damaged bytes at offset ${d.offset}, length ${d.length} (${d.reason}); ` +
          'skipped, the records before and after are kept. `flume-ng tool fcintegritytool` lists and removes such ranges',
      );
    }
  }

  // ---- reads ---------------------------------------------------------------

  private closeFile(f: FileEntry): void {
    if (f.fd >= 0) {
      try {
        fs.closeSync(f.fd);
      } catch {
        // already closed
      }
      f.fd = -1;
    }
    f.chunk = undefined;
  }

  /** Reads the event at `p` from its log file (a cache miss), or undefined when it is damaged. */
  readEvent(p: number): FlumeEvent | undefined {
    const f = this.files.get(pointerFile(p));
    if (!f) return undefined;
    const off = pointerOffset(p);
    try {
      if (f.fd < 0) f.fd = fs.openSync(f.path, 'r');
      if (!f.header) f.header = this.readHeader(f);
      let c = f.chunk;
      let rel = off - f.chunkStart;
      if (!c || rel < 0 || rel + 4 > c.length || rel + eventLengthAt(c, rel) > c.length) {
        c = this.readChunk(f, off, READ_CHUNK);
        rel = 0;
        const need = eventLengthAt(c, 0);
        if (need > c.length) {
          c = this.readChunk(f, off, need);
        }
      }
      return decodeEvent(c, rel);
    } catch (e) {
      this.rl.error('read', `file channel ${this.name}: reading ${f.path} at ${off}: ${(e as Error).message}`);
      return undefined;
    }
  }

  private readHeader(f: FileEntry): { key: Buffer | undefined; nonce: Buffer | undefined } {
    const b = Buffer.alloc(MAX_FILE_HEADER);
    const n = fs.readSync(f.fd, b, 0, b.length, 0);
    const info = parseFileHeader(b.subarray(0, n));
    if (!info?.alias) return { key: undefined, nonce: undefined };
    const key = this.keyRing?.keys.get(info.alias);
    if (!key) throw new Error(`${f.path} is encrypted with key ${info.alias}, which is not configured`);
    return { key, nonce: info.nonce };
  }

  private readChunk(f: FileEntry, at: number, len: number): Buffer {
    // A fresh buffer per read: the events handed out are views of it.
    const b = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const n = fs.readSync(f.fd, b, got, len - got, at + got);
      if (n === 0) break;
      got += n;
    }
    const h = f.header;
    f.chunk = h?.key && h.nonce ? cryptAt(h.key, h.nonce, at, b.subarray(0, got)) : b.subarray(0, got);
    f.chunkStart = at;
    return f.chunk;
  }

  // ---- transactions -----------------------------------------------------------

  takeFromQueue(tx: FileTransaction, want: number): FlumeEvent[] {
    const from = tx.takePtrs.length;
    const n = this.queue.shiftInto(want, tx.takePtrs, tx.takeEvents);
    if (n === 0) return [];
    this.openTakes.add(tx);
    this.openTakeCount += n;
    const out: FlumeEvent[] = [];
    for (let i = from; i < from + n; i++) {
      let e = tx.takeEvents[i];
      if (e) this.cachedBytes -= bodyLength(e);
      else {
        e = this.readEvent(tx.takePtrs[i]!);
        if (!e) {
          this.counter.EventTakeErrorCount++;
          this.rl.error('damaged', `file channel ${this.name}: event at ${this.describePointer(tx.takePtrs[i]!)} cannot be read (damaged); it is skipped and removed when this take commits`);
          continue;
        }
        tx.takeEvents[i] = e;
      }
      out.push(e);
    }
    this.counter.ChannelSize = this.queue.length;
    return out;
  }

  private describePointer(p: number): string {
    return `${this.files.get(pointerFile(p))?.path ?? `log-${pointerFile(p)}`} offset ${pointerOffset(p)}`;
  }

  rollbackTakes(tx: FileTransaction): void {
    const n = tx.takePtrs.length;
    if (n === 0) return;
    for (const e of tx.takeEvents) if (e) this.cachedBytes += bodyLength(e);
    this.queue.unshiftAll(tx.takePtrs, tx.takeEvents);
    this.openTakes.delete(tx);
    this.openTakeCount -= n;
    this.counter.ChannelSize = this.queue.length;
    this.available.notify();
  }

  private async reserve(puts: number, takes: number): Promise<void> {
    const deadline = Date.now() + this.cfg.keepAliveMs;
    for (;;) {
      if (this.stopped) throw new ChannelError(ErrorCodes.CHANNEL_CLOSED, `channel ${this.name} is stopped`);
      if (this.queue.length + this.openTakeCount + this.inflightPuts + puts - takes <= this.capacity) {
        this.inflightPuts += puts;
        return;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ChannelFullError(
          `The channel has reached it's capacity. This might be the result of a sink on the channel having too low of batch size, ` +
            `a downstream system running slower than normal, or that the channel capacity is just too low. [channel=${this.name}]`,
        );
      }
      await this.spaceFreed.wait(left);
    }
  }

  private pickWriter(bytes: number, needRoom: boolean): LogWriter {
    const n = this.writers.length;
    for (let k = 0; k < n; k++) {
      const w = this.writers[(this.nextWriter + k) % n]!;
      if (!needRoom || w.hasRoomFor(bytes)) {
        this.nextWriter = (this.nextWriter + k + 1) % n;
        return w;
      }
    }
    // Every data directory is below minimumRequiredSpace.
    const now = Date.now();
    if (now - this.lastSpaceCheckpoint > 1000) {
      this.lastSpaceCheckpoint = now;
      void this.checkpoint();
    }
    for (const w of this.writers) w.refreshFree();
    const where = this.writers.map((w) => `${w.dir} has ${Math.max(0, w.free)} bytes usable`).join(', ');
    throw new ChannelError(
      ErrorCodes.CHANNEL_DISK_FULL,
      `file channel ${this.name} is out of disk space: ${where}, below minimumRequiredSpace (${this.cfg.minimumRequiredSpace} bytes); ` +
        'puts are refused until space is freed (takes go on, and the log files they empty are deleted)',
    );
  }

  async commit(tx: FileTransaction): Promise<void> {
    const puts = tx.puts;
    const takes = tx.takePtrs;
    if (puts.length === 0 && takes.length === 0) return;
    if (this.stopped) throw new ChannelError(ErrorCodes.CHANNEL_CLOSED, `channel ${this.name} is stopped`);
    if (puts.length > 0) {
      try {
        await this.reserve(puts.length, takes.length);
      } catch (e) {
        this.counter.EventPutErrorCount += puts.length;
        throw e;
      }
    }
    const offsets: number[] = new Array(puts.length);
    const seq = this.seq++;
    let writer: LogWriter;
    let buf: Buffer;
    try {
      buf = encodeTxn(seq, takes, puts, offsets);
      if (buf.length - RECORD_HEADER > MAX_RECORD) {
        throw new ChannelError(
          ErrorCodes.CHANNEL_TXN_CAPACITY,
          `file channel ${this.name}: a transaction of ${buf.length} bytes is larger than the ${MAX_RECORD} bytes one record may hold; commit smaller batches`,
        );
      }
      writer = this.pickWriter(buf.length, puts.length > 0);
    } catch (e) {
      this.inflightPuts -= puts.length;
      this.counter.EventPutErrorCount += puts.length;
      throw e;
    }
    return new Promise<void>((resolve, reject) => {
      writer.append({
        buf,
        done: (fileId, at) => {
          this.apply(tx, fileId, at, offsets);
          resolve();
        },
        fail: (err) => {
          this.inflightPuts -= puts.length;
          this.counter.EventPutErrorCount += puts.length;
          this.counter.EventTakeErrorCount += takes.length;
          if ((err as ChannelError).code === ErrorCodes.CHANNEL_IO) this.counter.Unhealthy = 1;
          reject(err);
        },
      });
    });
  }

  /** The commit is on disk: make its puts visible and its takes final. Synchronous, so a checkpoint never sees half of it. */
  private apply(tx: FileTransaction, fileId: number, at: number, offsets: number[]): void {
    this.applied++;
    const takes = tx.takePtrs;
    if (takes.length > 0) {
      let f = -1;
      let c = 0;
      for (let i = 0; i < takes.length; i++) {
        const tf = pointerFile(takes[i]!);
        if (tf !== f) {
          if (c > 0) this.unref(f, c);
          f = tf;
          c = 0;
        }
        c++;
      }
      if (c > 0) this.unref(f, c);
      this.openTakes.delete(tx);
      this.openTakeCount -= takes.length;
      this.counter.EventTakeSuccessCount += takes.length;
      this.spaceFreed.notify();
    }
    const puts = tx.puts;
    if (puts.length > 0) {
      const budget = this.cfg.cacheBytes;
      for (let i = 0; i < puts.length; i++) {
        const e = puts[i]!;
        const len = bodyLength(e);
        if (this.cachedBytes + len <= budget) {
          this.cachedBytes += len;
          this.queue.push(pointer(fileId, at + offsets[i]!), e);
        } else this.queue.push(pointer(fileId, at + offsets[i]!), undefined);
      }
      this.refs.set(fileId, (this.refs.get(fileId) ?? 0) + puts.length);
      this.inflightPuts -= puts.length;
      this.counter.EventPutSuccessCount += puts.length;
      this.available.notify();
    }
    this.counter.ChannelSize = this.queue.length;
  }

  private unref(file: number, n: number): void {
    const left = (this.refs.get(file) ?? 0) - n;
    if (left > 0) this.refs.set(file, left);
    else this.refs.delete(file);
  }

  private onRoll(id: number, file: string, previous: number): void {
    this.files.set(id, { path: file, fd: -1, chunk: undefined, chunkStart: 0 });
    // A file just closed may already be empty of events: a checkpoint lets it go.
    if (previous >= 0 && !this.stopped && !this.refs.has(previous)) setImmediate(() => void this.checkpoint());
  }

  // ---- checkpoints ------------------------------------------------------------

  /** Writes a checkpoint, then deletes the log files no event and no replay needs. */
  checkpoint(): Promise<void> {
    if (this.checkpointing !== undefined) return this.checkpointing;
    const p = this.doCheckpoint().finally(() => {
      if (this.checkpointing === p) this.checkpointing = undefined;
    });
    this.checkpointing = p;
    return p;
  }

  private async doCheckpoint(): Promise<void> {
    if (this.writers.length === 0 || this.closed) return;
    // Nothing committed since the last one: it still holds (an idle channel writes nothing).
    if (this.applied === this.checkpointedApplied) return;
    const appliedAtSnapshot = this.applied;
    const current = new Set(this.writers.map((w) => w.fileId));
    const dead: number[] = [];
    for (const id of this.files.keys()) if (!current.has(id) && !this.refs.has(id)) dead.push(id);
    const positions = this.writers.map((w) => ({ dir: w.dir, fileId: w.fileId, offset: w.size }));
    const count = this.openTakeCount + this.queue.length;
    let buf: Buffer;
    try {
      // Without fsync per transaction, what the checkpoint counts on must be on disk first.
      if (!this.cfg.fsyncPerTransaction) for (const w of this.writers) w.syncSync();
      buf = encodeCheckpoint(this.seq, this.nextFileId, positions, count, (out) => {
        let k = 0;
        for (const tx of this.openTakes) for (const p of tx.takePtrs) out[k++] = p;
        this.queue.copyTo(out, k);
      });
    } catch (e) {
      this.counter.CheckpointWriteErrorCount++;
      this.logger.error(`file channel ${this.name}: checkpoint failed: ${(e as Error).message}`);
      return;
    }
    try {
      await writeCheckpoint(this.cfg.checkpointDir, buf);
    } catch (e) {
      this.counter.CheckpointWriteErrorCount++;
      this.rl.error('checkpoint', `file channel ${this.name}: writing the checkpoint in ${this.cfg.checkpointDir} failed: ${(e as Error).message}`);
      return;
    }
    if (this.cfg.backupCheckpointDir) {
      try {
        await writeCheckpoint(this.cfg.backupCheckpointDir, buf);
      } catch (e) {
        this.counter.CheckpointBackupWriteErrorCount++;
        this.rl.error('backup', `file channel ${this.name}: writing the backup checkpoint in ${this.cfg.backupCheckpointDir} failed: ${(e as Error).message}`);
        return;
      }
    }
    for (const id of dead) {
      const f = this.files.get(id);
      if (!f) continue;
      this.closeFile(f);
      try {
        fs.unlinkSync(f.path);
        this.files.delete(id);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') this.files.delete(id);
        else this.rl.warn('unlink', `file channel ${this.name}: could not delete ${f.path}: ${(e as Error).message}`);
      }
    }
    this.checkpointedApplied = appliedAtSnapshot;
    if (dead.length > 0) for (const w of this.writers) w.refreshFree();
  }
}

export class FileTransaction extends BaseTransaction {
  puts: FlumeEvent[] = [];
  readonly takePtrs: number[] = [];
  readonly takeEvents: (FlumeEvent | undefined)[] = [];

  constructor(private readonly ch: FileChannel) {
    super();
  }

  protected async doPut(events: readonly FlumeEvent[]): Promise<void> {
    this.ch.counter.EventPutAttemptCount += events.length;
    if (this.puts.length + events.length > this.ch.transactionCapacity) {
      throw new ChannelError(
        ErrorCodes.CHANNEL_TXN_CAPACITY,
        `Put queue for FileBackedTransaction of capacity ${this.ch.transactionCapacity} full, consider committing more frequently, increasing capacity or increasing thread count. [channel=${this.ch.name}]`,
      );
    }
    if (this.puts.length === 0 && Array.isArray(events)) this.puts = events.slice();
    else for (const e of events) this.puts.push(e);
  }

  protected async doTake(max: number): Promise<FlumeEvent[]> {
    const room = this.ch.transactionCapacity - this.takePtrs.length;
    if (room <= 0) {
      throw new ChannelError(
        ErrorCodes.CHANNEL_TXN_CAPACITY,
        `Take list for FileBackedTransaction, capacity ${this.ch.transactionCapacity} full, consider committing more frequently, increasing capacity, or increasing thread count. [channel=${this.ch.name}]`,
      );
    }
    const want = Math.min(max, room);
    const got = this.ch.takeFromQueue(this, want);
    this.ch.counter.EventTakeAttemptCount += got.length + (got.length < want ? 1 : 0);
    return got;
  }

  protected doCommit(): Promise<void> {
    return this.ch.commit(this);
  }

  protected async doRollback(): Promise<void> {
    this.ch.rollbackTakes(this);
    this.puts = [];
  }
}
