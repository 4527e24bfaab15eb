/**
 * One data directory's log writer with group commit: records handed in while a write
 * and its fsync are under way wait and go out together in the next one, so concurrent
 * commits share an fsync. A batch is one positional writev; on failure the file is cut
 * back to where the batch started, so a full disk never leaves a partial record.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ChannelError, ErrorCodes, type Logger } from '../../plugin-api/index.js';
import { crc32, FILE_HEADER, fileHeader, RECORD_HEADER } from './format.js';
import { cryptAt, newNonce, type KeyRing } from './crypto.js';

export interface Append {
  buf: Buffer;
  /** Called synchronously once the record is written (and fsync'd when fsyncPerTransaction). */
  done(fileId: number, offset: number): void;
  fail(err: Error): void;
}

/** Writes (each with its fsync) under way at once. */
const MAX_FLIGHTS = 2;

interface Flight {
  batch: Append[];
  start: number;
  total: number;
  fileId: number;
  done: boolean;
  error: Error | undefined;
}

export interface WriterOptions {
  maxFileSize: number;
  fsyncPerTransaction: boolean;
  minimumRequiredSpace: number;
  allocFileId(): number;
  onRoll(fileId: number, file: string, previous: number): void;
  logger: Logger;
  /** Encrypt new log files with the ring's active key. */
  encryption?: KeyRing | undefined;
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // some file systems refuse directory fsync; the rename is still atomic
  }
}

export class LogWriter {
  fileId = -1;
  /** End of what is written: the next record goes here. */
  size = 0;
  private fd = -1;
  private pending: Append[] = [];
  private readonly flights: Flight[] = [];
  /** Where the next write goes (ahead of `size` while writes are in flight). */
  private end = 0;
  private failing = false;
  /** Where records start in the current file (after its header). */
  private dataStart = FILE_HEADER;
  private key: Buffer | undefined;
  private nonce: Buffer | undefined;
  /** An encrypted file never has bytes rewritten with the same key stream: after a cut-back, the next write goes to a new file. */
  private forceRoll = false;
  private dirty = false;
  private idle: (() => void)[] = [];
  /** Bytes the file system had free at the last statfs, less what was written since. */
  free = Number.MAX_SAFE_INTEGER;
  private statTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  broken: Error | undefined;

  constructor(
    readonly dir: string,
    private readonly o: WriterOptions,
  ) {}

  get currentPath(): string {
    return path.join(this.dir, `log-${this.fileId}`);
  }

  /** Opens a fresh log file; called at start. */
  open(fsyncIntervalMs: number): void {
    this.roll();
    this.end = this.size;
    this.refreshFree();
    this.statTimer = setInterval(() => this.refreshFree(), 1000);
    this.statTimer.unref();
    if (!this.o.fsyncPerTransaction) {
      this.syncTimer = setInterval(() => this.syncNow(), fsyncIntervalMs);
      this.syncTimer.unref();
    }
  }

  refreshFree(): void {
    fs.statfs(this.dir, (err, s) => {
      if (!err) this.free = s.bavail * s.bsize;
    });
  }

  /** True when a record of `bytes` leaves at least minimumRequiredSpace free. */
  hasRoomFor(bytes: number): boolean {
    return this.free - bytes >= this.o.minimumRequiredSpace;
  }

  private roll(): void {
    const previous = this.fileId;
    if (this.fd >= 0) {
      if (this.dirty) fs.fdatasyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = -1;
    }
    const id = this.o.allocFileId();
    const file = path.join(this.dir, `log-${id}`);
    const fd = fs.openSync(file, 'wx');
    const enc = this.o.encryption;
    const nonce = enc ? newNonce() : undefined;
    const header = fileHeader(id, enc && nonce ? { alias: enc.active, nonce } : undefined);
    try {
      fs.writeSync(fd, header, 0, header.length, 0);
      fs.fsyncSync(fd);
    } catch (e) {
      fs.closeSync(fd);
      try {
        fs.unlinkSync(file);
      } catch {
        // best effort
      }
      throw e;
    }
    fsyncDir(this.dir);
    this.fd = fd;
    this.fileId = id;
    this.size = this.dataStart = header.length;
    this.key = enc?.keys.get(enc.active);
    this.nonce = nonce;
    this.forceRoll = false;
    this.dirty = false;
    this.free -= header.length;
    this.o.onRoll(id, file, previous);
  }

  append(a: Append): void {
    if (this.broken) {
      a.fail(this.broken);
      return;
    }
    this.pending.push(a);
    this.flush();
  }

  /**
   * Starts writes for what is pending: up to MAX_FLIGHTS write+fsync pairs run at once
   * (a commit arriving while one fsync is under way does not wait for it to end), and
   * they complete in file order, so `size` is always the end of what was applied.
   */
  private flush(): void {
    while (this.pending.length > 0 && this.flights.length < MAX_FLIGHTS && !this.failing) {
      let total = 0;
      for (const a of this.pending) total += a.buf.length;
      if (this.forceRoll || (this.end > this.dataStart && this.end + total > this.o.maxFileSize)) {
        if (this.flights.length > 0) return; // roll once the writes to this file are done
        try {
          this.roll();
          this.end = this.size;
        } catch (e) {
          const batch = this.pending;
          this.pending = [];
          this.failAll(batch, this.ioError('could not start a new log file', e as Error));
          continue;
        }
      }
      const batch = this.pending;
      this.pending = [];
      this.startFlight(batch, total);
    }
    if (this.flights.length === 0 && this.pending.length === 0) for (const f of this.idle.splice(0)) f();
  }

  private startFlight(batch: Append[], total: number): void {
    const bufs = new Array<Buffer>(batch.length);
    for (let i = 0; i < batch.length; i++) bufs[i] = batch[i]!.buf;
    if (this.key && this.nonce) {
      // Payloads encrypted where they will sit in the file; the CRC covers the encrypted bytes.
      let at = this.end;
      for (const b of bufs) {
        cryptAt(this.key, this.nonce, at + RECORD_HEADER, b.subarray(RECORD_HEADER)).copy(b, RECORD_HEADER);
        b.writeUInt32LE(crc32(b.subarray(RECORD_HEADER), crc32(b.subarray(4, 12))), 12);
        at += b.length;
      }
    }
    const fd = this.fd;
    const f: Flight = { batch, start: this.end, total, fileId: this.fileId, done: false, error: undefined };
    this.end += total;
    this.flights.push(f);
    const finish = (err?: Error): void => {
      f.done = true;
      f.error = err;
      this.complete(fd);
    };
    fs.writev(fd, bufs, f.start, (err, written) => {
      if (!err && written < total) {
        // A short write: write the rest, which either goes through or says why (ENOSPC).
        try {
          this.writeRest(fd, bufs, f.start, written);
        } catch (e) {
          err = e as NodeJS.ErrnoException;
        }
      }
      if (err) return finish(this.ioError('write failed', err));
      this.free -= total;
      if (!this.o.fsyncPerTransaction) {
        this.dirty = true;
        return finish();
      }
      fs.fdatasync(fd, (e2) => finish(e2 ? this.ioError('fsync failed', e2) : undefined));
    });
  }

  /** Applies finished flights in file order; after a failure, cuts the file back once nothing is in flight. */
  private complete(fd: number): void {
    while (this.flights.length > 0 && this.flights[0]!.done && !this.failing) {
      const f = this.flights[0]!;
      if (f.error) {
        this.failing = true;
        break;
      }
      this.flights.shift();
      this.size = f.start + f.total;
      let at = f.start;
      for (const a of f.batch) {
        a.done(f.fileId, at);
        at += a.buf.length;
      }
    }
    if (this.failing) {
      if (this.flights.some((f) => !f.done)) return;
      // Everything from the first failed flight on is cut off and fails: later flights sit after it in the file.
      const first = this.flights[0]!;
      const err = first.error!;
      this.cutBack(fd, first.start);
      for (const f of this.flights.splice(0)) this.failAll(f.batch, f.error ?? err);
      this.end = first.start;
      this.failing = false;
    }
    this.flush();
  }

  private writeRest(fd: number, bufs: Buffer[], start: number, done: number): void {
    let skip = done;
    let at = start + done;
    for (const b of bufs) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      let off = skip;
      skip = 0;
      while (off < b.length) {
        const n = fs.writeSync(fd, b, off, b.length - off, at);
        off += n;
        at += n;
      }
    }
  }

  private cutBack(fd: number, to: number): void {
    if (this.key) this.forceRoll = true;
    try {
      fs.ftruncateSync(fd, to);
      // The cut must last: a failed commit's records must not come back at replay.
      fs.fsyncSync(fd);
    } catch (e) {
      this.broken = this.ioError(`could not cut the log back to ${to} bytes after a failed write; restart the agent to recover`, e as Error);
    }
  }

  private ioError(what: string, cause: Error): ChannelError {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      return new ChannelError(ErrorCodes.CHANNEL_DISK_FULL, `${this.currentPath}: ${what}: the disk is full (${code}); nothing partial was kept`, { cause });
    }
    return new ChannelError(ErrorCodes.CHANNEL_IO, `${this.currentPath}: ${what}: ${cause.message}`, { cause });
  }

  private failAll(batch: Append[], err: Error): void {
    for (const a of batch) a.fail(err);
  }

  /** fsync now if anything was written since the last one (fsyncPerTransaction = false). */
  syncNow(): void {
    if (!this.dirty || this.fd < 0) return;
    this.dirty = false;
    fs.fdatasync(this.fd, (err) => {
      if (err) this.o.logger.error(`${this.currentPath}: periodic fsync failed: ${err.message}`);
    });
  }

  /** Synchronous fsync of what is written (before a checkpoint that counts on it). */
  syncSync(): void {
    if (this.dirty && this.fd >= 0) {
      fs.fdatasyncSync(this.fd);
      this.dirty = false;
    }
  }

  /** Resolves when no write is pending or under way. */
  drained(): Promise<void> {
    if (this.flights.length === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async close(): Promise<void> {
    await this.drained();
    if (this.statTimer) clearInterval(this.statTimer);
    if (this.syncTimer) clearInterval(this.syncTimer);
    if (this.fd >= 0) {
      try {
        if (this.dirty) fs.fdatasyncSync(this.fd);
      } finally {
        fs.closeSync(this.fd);
        this.fd = -1;
      }
    }
  }
}
