/**
 * A bounds-checked Avro binary reader for what a peer sends us. Encoding goes through
 * avsc; decoding of untrusted bytes does not, because avsc trusts block counts (an
 * array announcing 2^40 items makes it loop and allocate long after the buffer ended).
 * Here every count is checked against the bytes left before anything is built, and
 * any inconsistency throws FTS_ERR_AVRO_DECODE.
 */
import type { FlumeEvent } from '../../core/event.js';
import type { CallBudget } from '../call-limits.js';
import { AvroErrorCodes, avroError } from './errors.js';

const EMPTY: Buffer = Buffer.alloc(0);

export class BinaryReader {
  pos: number;
  /** When set, every announced block of events or headers is charged to it before it is built (throws CallTooLargeError). */
  budget: CallBudget | undefined;
  constructor(
    readonly buf: Buffer,
    pos = 0,
  ) {
    this.pos = pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** A zig-zag varint; refuses magnitudes beyond 2^52 (no count or length gets near that). */
  readLong(): number {
    const buf = this.buf;
    let pos = this.pos;
    let b = 0;
    let n = 0;
    let shift = 0;
    // Fast path: up to 4 bytes (28 bits) fit in a 32-bit int.
    do {
      if (pos >= buf.length) throw truncated('varint');
      b = buf[pos++]!;
      n |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80 && shift < 28);
    let v: number;
    if (b & 0x80) {
      // Slow path: continue with float arithmetic.
      let f = n >>> 0;
      let mul = 2 ** 28;
      do {
        if (pos >= buf.length) throw truncated('varint');
        if (shift > 63) throw bad('varint longer than 10 bytes');
        b = buf[pos++]!;
        f += (b & 0x7f) * mul;
        mul *= 128;
        shift += 7;
      } while (b & 0x80);
      if (f > Number.MAX_SAFE_INTEGER) throw bad('varint beyond 2^53');
      v = f % 2 === 0 ? f / 2 : -(f + 1) / 2;
    } else {
      v = (n >>> 1) ^ -(n & 1);
    }
    this.pos = pos;
    return v;
  }

  readInt(): number {
    const v = this.readLong();
    if (v > 0x7fffffff || v < -0x80000000) throw bad(`int out of range: ${v}`);
    return v;
  }

  readBoolean(): boolean {
    if (this.pos >= this.buf.length) throw truncated('boolean');
    const b = this.buf[this.pos++]!;
    if (b > 1) throw bad(`boolean byte ${b}`);
    return b === 1;
  }

  /** Bytes as a view into the input (no copy): the caller decides how long it lives. Empty ones share one buffer (a view costs ~100 bytes of heap). */
  readBytes(): Buffer {
    const len = this.readLong();
    if (len === 0) return EMPTY;
    if (len < 0) throw bad(`negative length ${len}`);
    if (len > this.buf.length - this.pos) throw truncated(`bytes of length ${len}`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  readString(): string {
    const len = this.readLong();
    if (len < 0) throw bad(`negative length ${len}`);
    if (len > this.buf.length - this.pos) throw truncated(`string of length ${len}`);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  readFixed(size: number): Buffer {
    if (size > this.buf.length - this.pos) throw truncated(`fixed of size ${size}`);
    const out = this.buf.subarray(this.pos, this.pos + size);
    this.pos += size;
    return out;
  }

  /** An enum index, checked against the number of symbols. */
  readEnum(symbols: number): number {
    const i = this.readInt();
    if (i < 0 || i >= symbols) throw bad(`enum index ${i} of ${symbols} symbols`);
    return i;
  }

  /** A union branch index, checked against the number of branches. */
  readUnionIndex(branches: number): number {
    const i = this.readLong();
    if (i < 0 || i >= branches) throw bad(`union index ${i} of ${branches} branches`);
    return i;
  }

  /**
   * The item count of the next array/map block (0 ends the structure). Negative
   * counts carry a byte size, which is skipped. `minItemBytes` is the least an item
   * can take on the wire, so a count the remaining bytes cannot hold is refused now.
   */
  readBlockCount(minItemBytes: number): number {
    let n = this.readLong();
    if (n < 0) {
      n = -n;
      const size = this.readLong();
      if (size < 0) throw bad(`negative block size ${size}`);
    }
    if (n * minItemBytes > this.buf.length - this.pos) throw truncated(`block of ${n} items`);
    return n;
  }

  /** map<string>; `__proto__` is stored as an own property, never as the prototype. */
  readStringMap(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let n = this.readBlockCount(2); n !== 0; n = this.readBlockCount(2)) {
      this.budget?.addHeaders(n);
      for (; n > 0; n--) {
        const k = this.readString();
        const v = this.readString();
        if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
        else out[k] = v;
      }
    }
    return out;
  }

  /** map<bytes> (RPC metadata); values are views into the input. */
  readBytesMap(): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (let n = this.readBlockCount(2); n !== 0; n = this.readBlockCount(2)) {
      for (; n > 0; n--) out.set(this.readString(), this.readBytes());
    }
    return out;
  }

  /** Skips map<bytes> without building it (request metadata is not used). */
  skipBytesMap(): void {
    for (let n = this.readBlockCount(2); n !== 0; n = this.readBlockCount(2)) {
      for (; n > 0; n--) {
        this.readBytes();
        this.readBytes();
      }
    }
  }

  /** AvroFlumeEvent: `map<string> headers; bytes body`. */
  readEvent(): FlumeEvent {
    const headers = this.readStringMap();
    const body = this.readBytes();
    return { headers, body };
  }

  /** array<AvroFlumeEvent>. */
  readEventArray(): FlumeEvent[] {
    const out: FlumeEvent[] = [];
    // An event is at least 2 bytes: an empty map (00) and an empty body (00).
    for (let n = this.readBlockCount(2); n !== 0; n = this.readBlockCount(2)) {
      this.budget?.addEvents(n);
      for (; n > 0; n--) out.push(this.readEvent());
    }
    return out;
  }
}

function truncated(what: string): Error {
  return avroError(AvroErrorCodes.DECODE, `Avro data ends inside a ${what}`);
}

function bad(what: string): Error {
  return avroError(AvroErrorCodes.DECODE, `bad Avro data: ${what}`);
}
