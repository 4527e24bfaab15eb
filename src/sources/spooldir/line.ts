import { isUtf8 } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import { TextDecoder } from 'node:util';
import { SlicedEvent, type FlumeEvent } from '../../plugin-api/index.js';
import { BadInputError, ChunkReader, MAX_BATCH_BYTES, type Deserializer, type ReadResult } from './reader.js';

const NL = 0x0a;

export interface LineSettings {
  /** Longest event in UTF-16 code units, as Java counts the characters of a line. */
  maxLineLength: number;
  /** TextDecoder label of the input ('utf-8' takes the fast path). */
  input: string;
  output: BufferEncoding;
  policy: 'FAIL' | 'REPLACE' | 'IGNORE';
  /** Called for each line cut at maxLineLength (the caller rate-limits its warning). */
  onCut(): void;
}

/**
 * Flume's LINE deserializer: one event per `\n`-terminated line, without the `\n`
 * (a `\r` before it is kept); a last line without `\n` is an event too; a line of
 * more than maxLineLength characters is cut there and the rest continues as the next
 * event. Written by hand because it is the hot path: with UTF-8 in and out, a chunk is
 * checked once (Node's native isUtf8) and each line is a SlicedEvent of the chunk,
 * so nothing is decoded or copied per line. Other charsets and invalid bytes take
 * the slow path: the line is decoded, then encoded in the output charset.
 */
export class LineDeserializer implements Deserializer {
  private readonly r: ChunkReader;
  private readonly fast: boolean;
  /** With `fast`: the index in r.buf up to which the bytes are known to be valid UTF-8. */
  private validTo = 0;
  /** Bytes that certainly hold maxLineLength characters: a line is cut once this many are buffered without a newline. */
  private readonly cutBytes: number;
  /** For charsets other than UTF-8, ISO-8859-1 and US-ASCII (and for UTF-8 that must be decoded). */
  private readonly decoder: TextDecoder | undefined;

  constructor(
    fh: FileHandle,
    from: number,
    size: number,
    private readonly s: LineSettings,
  ) {
    this.r = new ChunkReader(fh, from, size);
    this.fast = s.input === 'utf-8' && s.output === 'utf8';
    this.cutBytes = 3 * s.maxLineLength + 3;
    this.decoder = s.input === 'latin1' || s.input === 'ascii' ? undefined : new TextDecoder(s.input, { fatal: s.policy === 'FAIL', ignoreBOM: true });
  }

  async read(max: number): Promise<ReadResult> {
    const events: FlumeEvent[] = [];
    const r = this.r;
    let bytes = 0;
    try {
      while (events.length < max && bytes < MAX_BATCH_BYTES) {
        const buf = r.buf;
        const s = r.start;
        const nl = s < buf.length ? buf.indexOf(NL, s) : -1;
        if (nl < 0 && !r.eof && buf.length - s < this.cutBytes) {
          await r.fill();
          this.checkChunk();
          continue;
        }
        if (nl < 0 && s >= buf.length) break;
        const end = nl < 0 ? buf.length : nl;
        let cut = end;
        if (end - s > this.s.maxLineLength) {
          cut = this.cutPoint(buf, s, end);
          if (cut < end) this.s.onCut();
        }
        const e = this.event(buf, s, cut);
        r.start = cut < end || nl < 0 ? cut : nl + 1;
        events.push(e);
        bytes += cut - s;
      }
    } catch (err) {
      if (!(err instanceof BadInputError)) throw err;
      return { events, end: { offset: r.offset, skip: 0 }, eof: false, error: err };
    }
    return { events, end: { offset: r.offset, skip: 0 }, eof: r.eof && r.start >= r.buf.length };
  }

  /** After a fill: how far the new buffer is valid UTF-8, checked once for the whole chunk up to its last newline. */
  private checkChunk(): void {
    if (!this.fast) return;
    const buf = this.r.buf;
    const last = buf.lastIndexOf(NL);
    this.validTo = last >= this.r.start && isUtf8(buf.subarray(this.r.start, last + 1)) ? last + 1 : 0;
  }

  /** Where a line starting at `s` reaches maxLineLength UTF-16 units, never inside a character. */
  private cutPoint(buf: Buffer, s: number, end: number): number {
    const max = this.s.maxLineLength;
    if (!this.fast && this.s.input !== 'utf-8') return Math.min(end, s + max);
    let units = 0;
    let i = s;
    while (i < end && units < max) {
      const b = buf[i]!;
      let len = b < 0x80 ? 1 : b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b <= 0xdf ? 2 : 1;
      if (i + len > end) len = 1;
      const u = len === 4 ? 2 : 1;
      if (units + u > max) {
        // A surrogate pair when one unit is left: kept whole (Java would split it), and never an empty cut.
        if (i === s) i += len;
        break;
      }
      units += u;
      i += len;
    }
    return i;
  }

  private event(buf: Buffer, a: number, b: number): FlumeEvent {
    if (this.fast && (b <= this.validTo || isUtf8(buf.subarray(a, b)))) return new SlicedEvent(buf, a, b);
    const bytes = buf.subarray(a, b);
    const at = this.r.base + a;
    if (this.fast && this.s.policy === 'IGNORE') return { headers: {}, body: stripInvalidUtf8(bytes) };
    let text: string;
    if (this.s.input === 'latin1') text = bytes.toString('latin1');
    else if (this.s.input === 'ascii') text = this.ascii(bytes, at);
    else {
      try {
        text = this.decoder!.decode(bytes);
      } catch {
        throw new BadInputError(`the line at byte offset ${at} is not valid ${this.decoder!.encoding.toUpperCase()} (decodeErrorPolicy = FAIL)`, at);
      }
    }
    if (this.s.policy === 'IGNORE' && this.decoder) text = text.replace(/\uFFFD/g, '');
    return { headers: {}, body: Buffer.from(text, this.s.output) };
  }

  /** US-ASCII as Java decodes it: bytes over 0x7F are errors, handled by the policy. */
  private ascii(bytes: Buffer, at: number): string {
    let text = '';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b < 0x80) text += String.fromCharCode(b);
      else if (this.s.policy === 'FAIL') throw new BadInputError(`the line at byte offset ${at} is not valid US-ASCII (decodeErrorPolicy = FAIL)`, at);
      else if (this.s.policy === 'REPLACE') text += '\uFFFD';
    }
    return text;
  }
}

/** Length of the valid UTF-8 sequence at `i`, or 0 when the byte there starts none. */
function utf8Length(b: Buffer, i: number, end: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > end) return 0;
  for (let k = 1; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  const c1 = b[i + 1]!;
  if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) return 0;
  return n;
}

/** The bytes with every invalid UTF-8 byte dropped (decodeErrorPolicy IGNORE). */
export function stripInvalidUtf8(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  let o = 0;
  for (let i = 0; i < bytes.length; ) {
    const n = utf8Length(bytes, i, bytes.length);
    if (n === 0) {
      i++;
      continue;
    }
    bytes.copy(out, o, i, i + n);
    o += n;
    i += n;
  }
  return out.subarray(0, o);
}
