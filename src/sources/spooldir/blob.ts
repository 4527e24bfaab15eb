import type { FileHandle } from 'node:fs/promises';
import type { FlumeEvent } from '../../plugin-api/index.js';
import { BadInputError, MAX_BATCH_BYTES, type Deserializer, type ReadResult } from './reader.js';

/**
 * Flume's BlobDeserializer: the whole file as one event, up to maxBlobLength bytes;
 * a longer file goes on in the next event (Flume logs that it truncates, and so do
 * we, but no byte is lost either way). No headers, no decoding.
 */
export class BlobDeserializer implements Deserializer {
  constructor(
    private readonly fh: FileHandle,
    private pos: number,
    private readonly size: number,
    private readonly maxBlobLength: number,
    private readonly onCut: () => void,
  ) {}

  async read(max: number): Promise<ReadResult> {
    const events: FlumeEvent[] = [];
    let bytes = 0;
    while (events.length < max && bytes < MAX_BATCH_BYTES && this.pos < this.size) {
      const len = Math.min(this.maxBlobLength, this.size - this.pos);
      const body = Buffer.allocUnsafe(len);
      for (let got = 0; got < len; ) {
        const { bytesRead } = await this.fh.read(body, got, len - got, this.pos + got);
        if (bytesRead === 0) {
          const at = this.pos + got;
          return {
            events,
            end: { offset: this.pos, skip: 0 },
            eof: false,
            error: new BadInputError(`the file shrank to ${at} bytes while it was read (it had ${this.size} when it was picked up)`, at),
          };
        }
        got += bytesRead;
      }
      if (len === this.maxBlobLength) this.onCut();
      events.push({ headers: {}, body });
      this.pos += len;
      bytes += len;
    }
    return { events, end: { offset: this.pos, skip: 0 }, eof: this.pos >= this.size };
  }
}
