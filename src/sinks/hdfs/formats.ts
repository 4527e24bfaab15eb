/**
 * hdfs.fileType: how a file's bytes are made. Each file gets its own FileFormat; it
 * turns a batch into bytes that end complete (Flume flushes every file it wrote to
 * before committing), so a file cut short after any batch is still readable.
 */
import { promisify } from 'node:util';
import { deflate, gzip } from 'node:zlib';
import { type EventSerializer, type FlumeEvent } from '../../plugin-api/index.js';
import { SequenceFileWriter, type SeqCodec, type ValueFormat } from './sequence-file.js';

const gzipAsync = promisify(gzip);
const deflateAsync = promisify(deflate);

export interface FileFormat {
  /** Bytes that begin the file, written with its first batch. */
  header(): Buffer;
  /** The bytes of one batch. */
  encode(events: readonly FlumeEvent[]): Promise<Buffer> | Buffer;
  /** Bytes that end the file (may be empty). */
  trailer(): Promise<Buffer> | Buffer;
}

export type FileType = 'SequenceFile' | 'DataStream' | 'CompressedStream';
export type Codec = 'gzip' | 'default';

/** Hadoop codec names Flume accepts (simple name with or without "Codec", or the class name). */
export function parseCodec(raw: string): Codec | { unsupported: string } {
  const simple = raw
    .trim()
    .replace(/^.*\./, '')
    .replace(/codec$/i, '')
    .toLowerCase();
  if (simple === 'gzip') return 'gzip';
  if (simple === 'default' || simple === 'deflate') return 'default';
  return { unsupported: simple };
}

/** The file name extension Hadoop's codec gives (used when hdfs.fileSuffix is empty). */
export function codecExtension(c: Codec | undefined): string {
  return c === 'gzip' ? '.gz' : c === 'default' ? '.deflate' : '';
}

const EMPTY = Buffer.alloc(0);

/** DataStream: the serializer's bytes as they are. */
class DataStream implements FileFormat {
  constructor(private readonly s: EventSerializer) {}
  header(): Buffer {
    return this.s.afterCreate() ?? EMPTY;
  }
  encode(events: readonly FlumeEvent[]): Buffer {
    return this.s.encode(events);
  }
  trailer(): Buffer {
    return this.s.beforeClose() ?? EMPTY;
  }
}

/**
 * CompressedStream: the serializer's bytes through the codec, one finished
 * compressed member per batch (Flume finishes the codec stream at every flush), so
 * gzip output is a multi-member gzip file that gunzip reads whole.
 */
class CompressedStream implements FileFormat {
  private pendingHeader: Buffer = EMPTY;
  constructor(
    private readonly s: EventSerializer,
    private readonly codec: Codec,
  ) {}
  header(): Buffer {
    this.pendingHeader = this.s.afterCreate() ?? EMPTY;
    return EMPTY;
  }
  async encode(events: readonly FlumeEvent[]): Promise<Buffer> {
    const body = this.s.encode(events);
    const plain = this.pendingHeader.length > 0 ? Buffer.concat([this.pendingHeader, body]) : body;
    this.pendingHeader = EMPTY;
    return this.compress(plain);
  }
  async trailer(): Promise<Buffer> {
    const tail = this.s.beforeClose();
    return tail && tail.length > 0 ? this.compress(tail) : EMPTY;
  }
  private compress(b: Buffer): Promise<Buffer> {
    return this.codec === 'gzip' ? gzipAsync(b) : deflateAsync(b);
  }
}

class SequenceFileFormat implements FileFormat {
  private readonly w: SequenceFileWriter;
  constructor(valueFormat: ValueFormat, codec: SeqCodec) {
    this.w = new SequenceFileWriter(valueFormat, codec);
  }
  header(): Buffer {
    return this.w.header();
  }
  encode(events: readonly FlumeEvent[]): Buffer {
    return this.w.encode(events);
  }
  trailer(): Buffer {
    return this.w.trailer();
  }
}

export interface FormatSettings {
  fileType: FileType;
  codec: Codec | undefined;
  writeFormat: ValueFormat;
  makeSerializer: () => EventSerializer;
}

export function makeFormat(s: FormatSettings): FileFormat {
  switch (s.fileType) {
    case 'DataStream':
      return new DataStream(s.makeSerializer());
    case 'CompressedStream':
      return new CompressedStream(s.makeSerializer(), s.codec ?? 'default');
    case 'SequenceFile':
      return new SequenceFileFormat(s.writeFormat, s.codec ?? 'none');
  }
}
