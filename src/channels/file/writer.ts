/**
 * One data directory's log writer with group commit: records handed in while a write
 * and its fsync are under way wait and go out together in the next one, so concurrent
 * commits share an fsync. A batch is one positional writev; on failure the file is cut
 * back to where the batch started, so a full disk never leaves a partial record.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ChannelError, ErrorCodes, type Logger } from '../../plugin-api/index.js';
import { FILE_HEADER, fileHeader } from './format.js';

export interface Append {
  buf: Buffer;
  /** Called synchronously once the record is written (and fsync'd when fsyncPerTransaction). */
  done(fileId: number, offset: number): void;
  fail(err: Error): void;
}

export interface WriterOptions {
  maxFileSize: number;
  fsyncPerTransaction: boolean;
  minimumRequiredSpace: number;
  allocFileId(): number;
  onRoll(fileId: number, file: string, previous: number): void;
  logger: Logger;
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
  private flushing = false;
  private dirty = false;
  private idle: (() => void)[] = [];
  /** Bytes the file system had free at the last statfs, less what was written since. */
  free = Number.MAX_SAFE_INTEGER;
  private statTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  broken: Error | undefined;

  constructor(readonly dir: string, private readonly o: WriterOptions) {}

  get currentPath(): string {
    return path.join(this.dir, `log-${this.fileId}`);
  }

  /** Opens a fresh log file; called at start. */
  open(fsyncIntervalMs: number): void {
    this.roll();
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
    try {
      fs.writeSync(fd, fileHeader(id), 0, FILE_HEADER, 0);
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
    this.size = FILE_HEADER;
    this.dirty = false;
    this.free -= FILE_HEADER;
    this.o.onRoll(id, file, previous);
  }

  append(a: Append): void {
    if (this.broken) {
      a.fail(this.broken);
      return;
    }
    this.pending.push(a);
    if (!this.flushing) this.flush();
  }

  private flush(): void {
    const batch = this.pending;
    if (batch.length === 0) {
      this.flushing = false;
      for (const f of this.idle.splice(0)) f();
      return;
    }
    this.pending = [];
    this.flushing = true;
    let total = 0;
    const bufs = new Array<Buffer>(batch.length);
    for (let i = 0; i < batch.length; i++) {
      bufs[i] = batch[i]!.buf;
      total += bufs[i]!.length;
    }
    try {
      if (this.size > FILE_HEADER && this.size + total > this.o.maxFileSize) this.roll();
    } catch (e) {
      this.failAll(batch, this.ioError('could not start a new log file', e as Error));
      return this.flush();
    }
    const start = this.size;
    const fd = this.fd;
    fs.writev(fd, bufs, start, (err, written) => {
      if (!err && written < total) {
        // A short write: write the rest, which either goes through or says why (ENOSPC).
        try {
          this.writeRest(fd, bufs, start, written);
          written = total;
        } catch (e) {
          err = e as NodeJS.ErrnoException;
        }
      }
      if (err) {
        this.cutBack(fd, start);
        this.failAll(batch, this.ioError('write failed', err));
        return this.flush();
      }
      this.free -= total;
      const finish = (): void => {
        this.size = start + total;
        let at = start;
        for (const a of batch) {
          a.done(this.fileId, at);
          at += a.buf.length;
        }
        this.flush();
      };
      if (!this.o.fsyncPerTransaction) {
        this.dirty = true;
        return finish();
      }
      fs.fdatasync(fd, (e2) => {
        if (e2) {
          this.cutBack(fd, start);
          this.failAll(batch, this.ioError('fsync failed', e2));
          return this.flush();
        }
        finish();
      });
    });
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
    try {
      fs.ftruncateSync(fd, to);
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
    if (!this.flushing && this.pending.length === 0) return Promise.resolve();
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
