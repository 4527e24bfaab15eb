import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import avro from 'avsc';
import { defineSerializer, opt, type EventSerializer, type FlumeEvent } from '../plugin-api/index.js';

export const options = {
  syncIntervalBytes: opt.integer(2048000, 'Approximate bytes per Avro block.', { min: 32 }),
  compressionCodec: opt.enum(['null', 'deflate'], 'null', "Avro codec: null or deflate (Flume's snappy, bzip2 and xz are not supported)."),
};

/** Flume's event schema, exactly as FlumeEventAvroEventSerializer writes it. */
export const FLUME_EVENT_SCHEMA = '{"type":"record","name":"Event","fields":[{"name":"headers","type":{"type":"map","values":"string"}},{"name":"body","type":"bytes"}]}';

const eventType = avro.Type.forSchema(JSON.parse(FLUME_EVENT_SCHEMA) as avro.Schema);
const metaType = avro.Type.forSchema({ type: 'map', values: 'bytes' });
const longType = avro.Type.forSchema('long');
const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);

/**
 * An Avro object container file of Flume events, readable by any Avro tool: the
 * header when a file is created, then one block (or more, past syncIntervalBytes)
 * per batch, each followed by the file's sync marker.
 */
class AvroEventSerializer implements EventSerializer {
  private readonly sync = randomBytes(16);
  constructor(
    private readonly codec: 'null' | 'deflate',
    private readonly syncInterval: number,
  ) {}

  afterCreate(): Buffer {
    const meta = metaType.toBuffer({
      'avro.schema': Buffer.from(FLUME_EVENT_SCHEMA),
      'avro.codec': Buffer.from(this.codec),
    });
    return Buffer.concat([MAGIC, meta, this.sync]);
  }

  encode(events: readonly FlumeEvent[]): Buffer {
    const out: Buffer[] = [];
    let block: Buffer[] = [];
    let size = 0;
    const flush = (): void => {
      if (block.length === 0) return;
      let data = Buffer.concat(block);
      if (this.codec === 'deflate') data = deflateRawSync(data);
      out.push(longType.toBuffer(block.length), longType.toBuffer(data.length), data, this.sync);
      block = [];
      size = 0;
    };
    for (const e of events) {
      const rec = eventType.toBuffer({ headers: e.headers, body: e.body });
      block.push(rec);
      size += rec.length;
      if (size >= this.syncInterval) flush();
    }
    flush();
    return Buffer.concat(out);
  }

  beforeClose(): undefined {
    return undefined;
  }
}

export default defineSerializer({
  type: 'avro_event',
  aliases: ['org.apache.flume.serialization.FlumeEventAvroEventSerializer$Builder'],
  description: "Writes an Avro container file of {headers, body} records (Flume's Event schema).",
  options,
  create: ({ options, logger }) => {
    const c = (options.compressionCodec ?? 'null').toLowerCase();
    if (c !== 'null' && c !== 'deflate') logger.warn(`Avro codec "${options.compressionCodec}" is not supported; writing uncompressed`);
    return new AvroEventSerializer(c === 'deflate' ? 'deflate' : 'null', options.syncIntervalBytes);
  },
});
