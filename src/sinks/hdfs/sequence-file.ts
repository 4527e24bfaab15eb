/**
 * Hadoop's SequenceFile (version 6), as Flume's HDFSSequenceFile writes it through
 * SequenceFile.Writer: written by hand because no npm library writes this format.
 *
 * Header: "SEQ" 6, key and value class names (Hadoop Text: a VInt length, then
 * UTF-8), isCompressed, isBlockCompressed, the codec class when compressed, the
 * metadata (an int count, 0 here), and a 16-byte sync marker.
 *
 * Uncompressed records: int recordLength, int keyLength, key bytes, value bytes. A
 * sync point (int -1, then the marker) is written before a record once 100 KB have
 * passed since the last one, and at each flush (Flume syncs the writer after every
 * batch) when anything was written since the last one.
 *
 * Block-compressed (BLOCK, what Flume uses whenever hdfs.codeC is set): at each flush
 * the buffered records become one block: a sync point, VInt record count, then four
 * compressed buffers (key lengths as VInts, keys, value lengths as VInts, values),
 * each written as a VInt length and the codec's bytes. A block is also cut when the
 * buffered keys and values pass 1,000,000 bytes (io.seqfile.compress.blocksize).
 *
 * Keys are LongWritable (8 bytes, big-endian): the event's `timestamp` header, or the
 * time of writing without one. Values are BytesWritable (int length, bytes) or Text
 * (VInt length, bytes), per hdfs.writeFormat.
 */
import { randomBytes } from 'node:crypto';
import { deflateSync, gzipSync } from 'node:zlib';
import { FlumeError, bodyLength, type FlumeEvent } from '../../plugin-api/index.js';

export const SYNC_INTERVAL = 5 * 1024 * 20;
export const BLOCK_SIZE = 1_000_000;
const SYNC_ESCAPE = -1;

export type ValueFormat = 'Writable' | 'Text';
export type SeqCodec = 'none' | 'default' | 'gzip';

const CODEC_CLASS: Record<Exclude<SeqCodec, 'none'>, string> = {
  default: 'org.apache.hadoop.io.compress.DefaultCodec',
  gzip: 'org.apache.hadoop.io.compress.GzipCodec',
};

/** Hadoop's WritableUtils.writeVLong encoding. */
export function vint(n: number): Buffer {
  if (n >= -112 && n <= 127) return Buffer.from([n & 0xff]);
  let v = BigInt(n);
  let len = -112;
  if (v < 0n) {
    v = ~v;
    len = -120;
  }
  let tmp = v;
  while (tmp !== 0n) {
    tmp >>= 8n;
    len--;
  }
  const bytes = len < -120 ? -(len + 120) : -(len + 112);
  const out = Buffer.alloc(1 + bytes);
  out[0] = len & 0xff;
  for (let i = 0; i < bytes; i++) out[1 + i] = Number((v >> BigInt((bytes - 1 - i) * 8)) & 0xffn);
  return out;
}

function text(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([vint(b.length), b]);
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n);
  return b;
}

export class SequenceFileWriter {
  private readonly sync: Buffer;
  /** Bytes written to the file so far (header included). */
  private pos = 0;
  private lastSyncPos = 0;
  // Block mode buffers.
  private keyLens: Buffer[] = [];
  private keys: Buffer[] = [];
  private valLens: Buffer[] = [];
  private vals: Buffer[] = [];
  private buffered = 0;
  private bufferedBytes = 0;

  constructor(
    private readonly valueFormat: ValueFormat,
    private readonly codec: SeqCodec,
    sync?: Buffer,
    private readonly now: () => number = Date.now,
  ) {
    this.sync = sync ?? randomBytes(16);
  }

  /** The file header. */
  header(): Buffer {
    const parts = [
      Buffer.from([0x53, 0x45, 0x51, 6]),
      text('org.apache.hadoop.io.LongWritable'),
      text(this.valueFormat === 'Text' ? 'org.apache.hadoop.io.Text' : 'org.apache.hadoop.io.BytesWritable'),
      Buffer.from([this.codec === 'none' ? 0 : 1, this.codec === 'none' ? 0 : 1]),
    ];
    if (this.codec !== 'none') parts.push(text(CODEC_CLASS[this.codec]));
    parts.push(int32(0), this.sync);
    const h = Buffer.concat(parts);
    this.pos += h.length;
    return h;
  }

  /** The bytes of a batch, ending at a sync point (Flume syncs after every batch). */
  encode(events: readonly FlumeEvent[]): Buffer {
    const out: Buffer[] = [];
    for (const e of events) {
      const key = Buffer.allocUnsafe(8);
      key.writeBigInt64BE(BigInt(keyOf(e, this.now)));
      const body = e.body;
      const len = bodyLength(e);
      const valHead = this.valueFormat === 'Text' ? vint(len) : int32(len);
      if (this.codec === 'none') {
        if (this.pos >= this.lastSyncPos + SYNC_INTERVAL) this.syncPoint(out);
        this.push(out, int32(8 + valHead.length + len), int32(8), key, valHead, body);
      } else {
        this.keyLens.push(vint(8));
        this.keys.push(key);
        this.valLens.push(vint(valHead.length + len));
        this.vals.push(valHead, body);
        this.buffered++;
        this.bufferedBytes += 8 + valHead.length + len;
        if (this.bufferedBytes >= BLOCK_SIZE) this.block(out);
      }
    }
    if (this.codec === 'none') this.syncPoint(out);
    else this.block(out);
    return Buffer.concat(out);
  }

  /** Nothing to add at close: every batch ends complete. */
  trailer(): Buffer {
    return Buffer.alloc(0);
  }

  private push(out: Buffer[], ...bufs: Buffer[]): void {
    for (const b of bufs) {
      out.push(b);
      this.pos += b.length;
    }
  }

  private syncPoint(out: Buffer[]): void {
    if (this.pos === this.lastSyncPos) return;
    this.push(out, int32(SYNC_ESCAPE), this.sync);
    this.lastSyncPos = this.pos;
  }

  private block(out: Buffer[]): void {
    if (this.buffered === 0) return;
    this.syncPoint(out);
    this.push(out, vint(this.buffered));
    for (const list of [this.keyLens, this.keys, this.valLens, this.vals]) {
      const c = this.compress(Buffer.concat(list));
      this.push(out, vint(c.length), c);
    }
    this.keyLens = [];
    this.keys = [];
    this.valLens = [];
    this.vals = [];
    this.buffered = 0;
    this.bufferedBytes = 0;
  }

  private compress(b: Buffer): Buffer {
    return this.codec === 'gzip' ? gzipSync(b) : deflateSync(b);
  }
}

function keyOf(e: FlumeEvent, now: () => number): number {
  const ts = e.headers.timestamp;
  if (ts === undefined) return now();
  if (!/^-?\d+$/.test(ts.trim())) throw new FlumeError('FTS_ERR_ESCAPE_TIMESTAMP', `timestamp header "${ts}" is not a number (the SequenceFile key is the event's timestamp)`);
  return Number(ts.trim());
}
