/**
 * The data-pack framing of Avro's Netty transport (what Flume's AvroSource and
 * AvroSink speak): `serial:int32 count:int32 (length:int32 bytes)*count`, all
 * big-endian. One pack is one Avro RPC message; its buffers form one continuous byte
 * stream whose boundaries mean nothing (they may even split a varint).
 */
import { AvroErrorCodes, avroError } from './errors.js';

export interface DataPack {
  serial: number;
  /** The pack's buffers, in order; zero-length ones included. */
  buffers: Buffer[];
  /** Sum of the buffers' lengths. */
  byteLength: number;
}

export interface FrameLimits {
  /** Most buffers one pack may announce. */
  maxBuffers: number;
  /** Most payload bytes (sum of buffer lengths) one pack may carry. */
  maxFrameBytes: number;
}

/**
 * Java clients cut parameters into 8 KiB buffers, so a 64 MiB pack needs 8,192 of
 * them; the buffer limit leaves room for peers that cut finer, and still bounds the
 * bookkeeping a peer can make us do with zero-length buffers.
 */
export const DEFAULT_FRAME_LIMITS: Readonly<FrameLimits> = Object.freeze({
  maxBuffers: 65_536,
  maxFrameBytes: 64 * 1024 * 1024,
});

/** Java's ByteBufferOutputStream buffer size; we cut outgoing payloads the same way. */
export const JAVA_BUFFER_SIZE = 8192;

const EMPTY: Buffer = Buffer.alloc(0);
const NO_PACKS: readonly DataPack[] = Object.freeze([]);

/** One pack as a single Buffer (one write, and with deflate one sync flush, per pack). */
export function encodeFrame(serial: number, buffers: readonly Buffer[]): Buffer {
  let size = 8;
  for (let i = 0; i < buffers.length; i++) size += 4 + buffers[i]!.length;
  const out = Buffer.allocUnsafe(size);
  out.writeInt32BE(serial | 0, 0);
  out.writeInt32BE(buffers.length, 4);
  let pos = 8;
  for (let i = 0; i < buffers.length; i++) {
    const b = buffers[i]!;
    out.writeInt32BE(b.length, pos);
    pos += 4;
    pos += b.copy(out, pos);
  }
  return out;
}

/** Cuts a payload into Java-sized pieces without copying (an empty payload stays one empty buffer, as Java sends it). */
export function splitPayload(payload: Buffer, size: number = JAVA_BUFFER_SIZE): Buffer[] {
  if (payload.length <= size) return [payload];
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length; off += size) out.push(payload.subarray(off, Math.min(off + size, payload.length)));
  return out;
}

/** The pack's continuous byte stream; no copy when it came as one buffer. */
export function packPayload(pack: DataPack): Buffer {
  const { buffers } = pack;
  if (buffers.length === 1) return buffers[0]!;
  if (buffers.length === 0) return EMPTY;
  return Buffer.concat(buffers, pack.byteLength);
}

const enum State {
  Header,
  Length,
  Body,
  Failed,
}

/**
 * Incremental decoder: feed it socket chunks as they come, get whole packs back.
 * Limits are checked when a count or length is *announced*, before any byte of it is
 * awaited or stored, so an oversized pack costs us nothing but the refusal. After a
 * refusal the decoder stays failed: the stream is out of sync and must be closed.
 */
export class FrameDecoder {
  private readonly limits: FrameLimits;
  private chunks: Buffer[] = [];
  /** Read offset into chunks[0]. */
  private head = 0;
  private available = 0;
  private state = State.Header;
  private serial = 0;
  private remaining = 0;
  private bodyLength = 0;
  private frameBytes = 0;
  private buffers: Buffer[] = [];

  constructor(limits: Partial<FrameLimits> = {}) {
    this.limits = { ...DEFAULT_FRAME_LIMITS, ...limits };
  }

  /** True while bytes of an unfinished pack are held (so an end of stream now truncates a pack). */
  get inFrame(): boolean {
    return this.available > 0 || this.state === State.Length || this.state === State.Body;
  }

  /** Bytes of the unfinished pack held (received and not yet returned in a pack). */
  get held(): number {
    return this.available + (this.state === State.Length || this.state === State.Body ? this.frameBytes : 0);
  }

  /** Appends bytes and returns the packs they complete (often none). Throws a coded error on a refused pack. */
  push(chunk: Buffer): readonly DataPack[] {
    if (this.state === State.Failed) throw avroError(AvroErrorCodes.DECODE, 'frame decoder used after a refused frame');
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.available += chunk.length;
    }
    let out: DataPack[] | undefined;
    for (;;) {
      if (this.state === State.Header) {
        if (this.available < 8) break;
        this.serial = this.readInt32();
        const count = this.readInt32();
        if (count < 0 || count > this.limits.maxBuffers) {
          this.state = State.Failed;
          throw avroError(AvroErrorCodes.FRAME_TOO_MANY_BUFFERS, `frame ${this.serial} announces ${count} buffers (allowed 0..${this.limits.maxBuffers})`);
        }
        this.remaining = count;
        this.frameBytes = 0;
        this.buffers = [];
        this.state = State.Length;
      } else if (this.state === State.Length) {
        if (this.remaining === 0) {
          (out ??= []).push({ serial: this.serial, buffers: this.buffers, byteLength: this.frameBytes });
          this.buffers = [];
          this.state = State.Header;
          continue;
        }
        if (this.available < 4) break;
        const length = this.readInt32();
        if (length < 0) {
          this.state = State.Failed;
          throw avroError(AvroErrorCodes.FRAME_NEGATIVE_LENGTH, `frame ${this.serial} has a buffer of length ${length}`);
        }
        if (length > this.limits.maxFrameBytes - this.frameBytes) {
          this.state = State.Failed;
          throw avroError(AvroErrorCodes.FRAME_TOO_LARGE, `frame ${this.serial} exceeds ${this.limits.maxFrameBytes} bytes (a buffer of ${length} after ${this.frameBytes})`);
        }
        this.bodyLength = length;
        this.state = State.Body;
      } else if (this.state === State.Body) {
        if (this.available < this.bodyLength) break;
        this.buffers.push(this.take(this.bodyLength));
        this.frameBytes += this.bodyLength;
        this.remaining--;
        this.state = State.Length;
      } else {
        break;
      }
    }
    return out ?? NO_PACKS;
  }

  private readInt32(): number {
    const first = this.chunks[0]!;
    if (first.length - this.head >= 4) {
      const v = first.readInt32BE(this.head);
      this.advance(4);
      return v;
    }
    return this.take(4).readInt32BE(0);
  }

  /** `n` bytes (n <= available): a view when they sit in one chunk, else a copy. */
  private take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) {
      const view = first.subarray(this.head, this.head + n);
      this.advance(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let pos = 0;
    while (pos < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length - this.head, n - pos);
      c.copy(out, pos, this.head, this.head + k);
      pos += k;
      this.advance(k);
    }
    return out;
  }

  private advance(n: number): void {
    this.head += n;
    this.available -= n;
    if (this.head === this.chunks[0]!.length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}
