import type { FileHandle } from 'node:fs/promises';
import type { FlumeEvent } from '../../plugin-api/index.js';

/**
 * Where reading a file resumes: a byte offset, and how many events made from the
 * bytes there were already delivered (non-zero only inside an Avro block).
 */
export interface Position {
  offset: number;
  skip: number;
}

/** A file that cannot be read to its end: the reason, and the byte offset where it was found. */
export class BadInputError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'BadInputError';
  }
}

/** What one read gives: the events, the position after the last of them, and whether the file is done. */
export interface ReadResult {
  events: FlumeEvent[];
  end: Position;
  eof: boolean;
  /** Set when the input went bad after `events` (which are good and go on). */
  error?: BadInputError;
}

/** Turns a file into events, a batch at a time. */
export interface Deserializer {
  read(maxEvents: number): Promise<ReadResult>;
}

/** Bytes read from a file at a time. */
export const CHUNK = 1024 * 1024;
/** A batch stops growing once its bodies hold this many bytes (whatever batchSize says), so huge events do not pile up. */
export const MAX_BATCH_BYTES = 32 * 1024 * 1024;

/**
 * Reads a file forward in chunks, up to the size it had when it was picked up, so
 * bytes appended later are never delivered. Each fill makes a new buffer (events
 * are slices of the old one) holding the unconsumed tail plus the next chunk; the
 * caller bounds the tail, so a buffer never exceeds tail + CHUNK bytes.
 */
export class ChunkReader {
  buf: Buffer = Buffer.alloc(0);
  /** File offset of buf[0]. */
  base: number;
  /** Index in buf of the first byte not consumed. */
  start = 0;
  /** True once every byte up to `limit` is in buf. */
  eof: boolean;

  constructor(
    private readonly fh: FileHandle,
    from: number,
    private readonly limit: number,
  ) {
    this.base = from;
    this.eof = from >= limit;
  }

  /** File offset of the first byte not consumed. */
  get offset(): number {
    return this.base + this.start;
  }

  /** Reads the next chunk after the unconsumed bytes; false when there is nothing more. Throws BadInputError when the file shrank. */
  async fill(): Promise<boolean> {
    if (this.eof) return false;
    const tail = this.buf.length - this.start;
    const at = this.base + this.buf.length;
    const want = Math.min(CHUNK, this.limit - at);
    const next = Buffer.allocUnsafe(tail + want);
    if (tail > 0) this.buf.copy(next, 0, this.start);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(next, tail + got, want - got, at + got);
      if (bytesRead === 0) throw new BadInputError(`the file shrank to ${at + got} bytes while it was read (it had ${this.limit} when it was picked up)`, at + got);
      got += bytesRead;
    }
    this.base += this.start;
    this.start = 0;
    this.buf = next;
    if (this.base + next.length >= this.limit) this.eof = true;
    return true;
  }
}
