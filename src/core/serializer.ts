import type { FlumeEvent } from './event.js';

/**
 * Turns events into the bytes of an output file (file_roll, hdfs). Batch-first:
 * `encode` returns one buffer per batch, written with one write call.
 */
export interface EventSerializer {
  /** Bytes that start a new file (an Avro container header), if any. */
  afterCreate(): Buffer | undefined;
  /** The bytes of a batch. */
  encode(events: readonly FlumeEvent[]): Buffer;
  /** Bytes that end a file, if any. */
  beforeClose(): Buffer | undefined;
}
