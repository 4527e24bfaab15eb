import type { FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import avro from 'avsc';
import type { FlumeEvent } from '../../plugin-api/index.js';
import { BadInputError, MAX_BATCH_BYTES, type Deserializer, type Position, type ReadResult } from './reader.js';

// snappyjs (pure JavaScript, MIT) has no type declarations; this is the one function used.
const snappy = createRequire(import.meta.url)('snappyjs') as { uncompress(data: Uint8Array): Uint8Array };

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const SYNC = 16;
/** Largest file header (schema and metadata) accepted. */
const MAX_HEADER = 16 * 1024 * 1024;
/** Largest block accepted, as stored and once decompressed. */
const MAX_BLOCK = 64 * 1024 * 1024;
/** Most records a block may claim (records of a zero-byte schema would otherwise be unbounded). */
const MAX_RECORDS = 16 * 1024 * 1024;
export const HASH_HEADER = 'flume.avro.schema.hash';
export const LITERAL_HEADER = 'flume.avro.schema.literal';

/** Thrown while parsing when the bytes at hand end early. */
class Short extends Error {}

/** Reads an Avro long (zig-zag varint) at `at`; returns it and the next offset. */
function readLong(b: Buffer, at: number): [number, number] {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (at + i >= b.length) throw new Short();
    const byte = b[at + i]!;
    n += (byte & 0x7f) * mul;
    mul *= 128;
    if ((byte & 0x80) === 0) return [n % 2 === 0 ? n / 2 : -(n + 1) / 2, at + i + 1];
  }
  throw new Error('a varint longer than 10 bytes');
}

function readBytes(b: Buffer, at: number): [Buffer, number] {
  const [len, p] = readLong(b, at);
  if (len < 0) throw new Error('a negative length');
  if (p + len > b.length) throw new Short();
  return [b.subarray(p, p + len), p + len];
}

/** The CRC-64-AVRO (Rabin) fingerprint of the Avro specification, as 8 little-endian bytes in hex (Flume's header value). */
const EMPTY = 0xc15d213aa4d7a795n;
let TABLE: BigUint64Array | undefined;
export function crc64Avro(data: Buffer): string {
  if (!TABLE) {
    TABLE = new BigUint64Array(256);
    for (let i = 0; i < 256; i++) {
      let fp = BigInt(i);
      for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n));
      TABLE[i] = fp & 0xffffffffffffffffn;
    }
  }
  let fp = EMPTY;
  for (const byte of data) fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(byte)) & 0xffn)]!;
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(fp);
  return out.toString('hex');
}

/**
 * An Avro snappy block: the snappy-compressed data, then the CRC-32 (big-endian) of the
 * uncompressed data. The uncompressed length (a varint at the start) is checked against
 * MAX_BLOCK before anything is allocated.
 */
function snappyBlock(data: Buffer, start: number): Buffer {
  const bad = (why: string): BadInputError => new BadInputError(`the snappy block at byte offset ${start} ${why}`, start);
  if (data.length < 5) throw bad('is too short');
  let size = 0;
  for (let i = 0, mul = 1; ; i++, mul *= 128) {
    if (i >= 5 || i >= data.length - 4) throw bad('has no valid length');
    size += (data[i]! & 0x7f) * mul;
    if ((data[i]! & 0x80) === 0) break;
  }
  if (size > MAX_BLOCK) throw bad(`would inflate to ${size} bytes (at most ${MAX_BLOCK})`);
  let out: Buffer;
  try {
    const u8 = snappy.uncompress(data.subarray(0, data.length - 4));
    out = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  } catch (err) {
    throw bad(`does not decompress: ${(err as Error).message}`);
  }
  if (zlib.crc32(out) !== data.readUInt32BE(data.length - 4)) throw bad('fails its CRC-32');
  return out;
}

interface Block {
  start: number;
  next: number;
  data: Buffer;
  count: number;
  /** Byte offset in data of the next record, and its index. */
  at: number;
  index: number;
}

/**
 * Flume's AVRO deserializer: one event per record of an Avro object container file,
 * its body the record in Avro binary (re-encoded, as Flume does), its header the
 * schema's fingerprint (HASH) or the schema (LITERAL). Written by hand over the
 * container format because avsc's decoder is a stream that cannot seek: a restart
 * resumes at a block's offset and skips the records of it already delivered (Flume
 * resends the whole block). Blocks are bounded (64 MiB stored and decoded); codecs
 * null, deflate and snappy.
 */
export class AvroDeserializer implements Deserializer {
  private type!: avro.Type;
  private codec = 'null';
  private sync!: Buffer;
  private header: Record<string, string> = {};
  private dataStart = 0;
  private block: Block | undefined;
  private pos: Position;
  private opened = false;

  constructor(
    private readonly fh: FileHandle,
    from: Position,
    private readonly size: number,
    private readonly schemaType: 'HASH' | 'LITERAL',
  ) {
    this.pos = { ...from };
  }

  private async bytes(at: number, len: number): Promise<Buffer> {
    const n = Math.max(0, Math.min(len, this.size - at));
    const buf = Buffer.allocUnsafe(n);
    for (let got = 0; got < n; ) {
      const { bytesRead } = await this.fh.read(buf, got, n - got, at + got);
      if (bytesRead === 0) throw new BadInputError(`the file shrank to ${at + got} bytes while it was read`, at + got);
      got += bytesRead;
    }
    return buf;
  }

  private async open(): Promise<void> {
    for (let want = 64 * 1024; ; want *= 4) {
      const head = await this.bytes(0, Math.min(want, MAX_HEADER));
      try {
        this.parseHeader(head);
        break;
      } catch (err) {
        if (!(err instanceof Short)) throw new BadInputError(`not an Avro container file: ${(err as Error).message}`, 0);
        if (head.length < Math.min(want, MAX_HEADER) || want >= MAX_HEADER) throw new BadInputError('not an Avro container file: its header ends early (or is over 16 MiB)', 0);
      }
    }
    if (this.pos.offset < this.dataStart) this.pos = { offset: this.dataStart, skip: 0 };
    else if (this.pos.skip === 0 && (await this.bytes(this.pos.offset, SYNC)).equals(this.sync)) {
      // Java Flume marks the sync marker before a block, not the block itself.
      this.pos = { offset: this.pos.offset + SYNC, skip: 0 };
    }
    this.opened = true;
  }

  private parseHeader(b: Buffer): void {
    if (b.length < 4) throw new Short();
    if (!b.subarray(0, 4).equals(MAGIC)) throw new Error('no "Obj\\x01" magic at its start');
    const meta = new Map<string, Buffer>();
    let p = 4;
    for (;;) {
      let count: number;
      [count, p] = readLong(b, p);
      if (count === 0) break;
      if (count < 0) {
        count = -count;
        [, p] = readLong(b, p);
      }
      for (let i = 0; i < count; i++) {
        let k: Buffer;
        let v: Buffer;
        [k, p] = readBytes(b, p);
        [v, p] = readBytes(b, p);
        meta.set(k.toString('utf8'), v);
      }
    }
    if (p + SYNC > b.length) throw new Short();
    this.sync = Buffer.from(b.subarray(p, p + SYNC));
    this.dataStart = p + SYNC;
    const schema = meta.get('avro.schema');
    if (!schema) throw new Error('no avro.schema in its header');
    this.codec = meta.get('avro.codec')?.toString('utf8') || 'null';
    if (this.codec !== 'null' && this.codec !== 'deflate' && this.codec !== 'snappy') throw new Error(`codec "${this.codec}" is not supported (null, deflate and snappy are)`);
    let json: unknown;
    try {
      json = JSON.parse(schema.toString('utf8'));
      this.type = avro.Type.forSchema(json as avro.Schema);
    } catch (err) {
      throw new Error(`its schema cannot be read: ${(err as Error).message}`);
    }
    this.header = this.schemaType === 'HASH' ? { [HASH_HEADER]: crc64Avro(Buffer.from(JSON.stringify(this.type.schema()), 'utf8')) } : { [LITERAL_HEADER]: JSON.stringify(json) };
  }

  private async loadBlock(start: number): Promise<Block> {
    const head = await this.bytes(start, 20);
    let count: number;
    let len: number;
    let p: number;
    try {
      [count, p] = readLong(head, 0);
      [len, p] = readLong(head, p);
    } catch {
      throw new BadInputError(`the block at byte offset ${start} has no valid header`, start);
    }
    if (count < 0 || count > MAX_RECORDS || len < 0 || len > MAX_BLOCK) {
      throw new BadInputError(`the block at byte offset ${start} is invalid (${count} records, ${len} bytes; at most ${MAX_RECORDS} records and ${MAX_BLOCK} bytes)`, start);
    }
    const body = start + p;
    if (body + len + SYNC > this.size) throw new BadInputError(`the block at byte offset ${start} runs past the end of the file`, start);
    const raw = await this.bytes(body, len + SYNC);
    if (!raw.subarray(len).equals(this.sync)) throw new BadInputError(`the block at byte offset ${start} does not end with the file's sync marker`, start);
    let data = raw.subarray(0, len);
    if (this.codec === 'deflate') {
      try {
        data = zlib.inflateRawSync(data, { maxOutputLength: MAX_BLOCK });
      } catch (err) {
        throw new BadInputError(`the block at byte offset ${start} does not inflate: ${(err as Error).message}`, start);
      }
    } else if (this.codec === 'snappy') {
      data = snappyBlock(data, start);
    }
    return { start, next: body + len + SYNC, data, count, at: 0, index: 0 };
  }

  async read(max: number): Promise<ReadResult> {
    const events: FlumeEvent[] = [];
    let bytes = 0;
    try {
      if (!this.opened) await this.open();
      while (events.length < max && bytes < MAX_BATCH_BYTES) {
        if (!this.block) {
          if (this.pos.offset >= this.size) break;
          const b = await this.loadBlock(this.pos.offset);
          // Resuming inside a block: the records before `skip` were delivered already.
          for (let i = 0; i < this.pos.skip && i < b.count; i++) this.decodeNext(b);
          this.block = b;
        }
        const b = this.block;
        if (b.index >= b.count) {
          this.block = undefined;
          this.pos = { offset: b.next, skip: 0 };
          continue;
        }
        const value = this.decodeNext(b);
        const body = this.type.toBuffer(value);
        events.push({ headers: { ...this.header }, body });
        bytes += body.length;
        this.pos = b.index < b.count ? { offset: b.start, skip: b.index } : { offset: b.next, skip: 0 };
        if (b.index >= b.count) this.block = undefined;
      }
    } catch (err) {
      if (!(err instanceof BadInputError)) throw err;
      return { events, end: { ...this.pos }, eof: false, error: err };
    }
    return { events, end: { ...this.pos }, eof: !this.block && this.pos.offset >= this.size };
  }

  private decodeNext(b: Block): unknown {
    let r: { value: unknown; offset: number };
    try {
      r = this.type.decode(b.data, b.at);
    } catch (err) {
      throw new BadInputError(`record ${b.index} of the block at byte offset ${b.start} cannot be decoded: ${(err as Error).message}`, b.start);
    }
    const { value, offset } = r;
    if (offset < 0) throw new BadInputError(`record ${b.index} of the block at byte offset ${b.start} is truncated`, b.start);
    b.at = offset;
    b.index++;
    return value;
  }
}
