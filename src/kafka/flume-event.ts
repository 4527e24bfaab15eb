import avro from 'avsc';
import type { FlumeEvent } from '../core/event.js';

/**
 * Flume's AvroFlumeEvent as Avro binary (no container, no schema fingerprint): what
 * Java Flume's Kafka channel (parseAsFlumeEvent) and Kafka sink/source
 * (useFlumeEventFormat) put in a record value.
 */
const type = avro.Type.forSchema({
  type: 'record',
  name: 'AvroFlumeEvent',
  namespace: 'org.apache.flume.source.avro',
  fields: [
    { name: 'headers', type: { type: 'map', values: 'string' } },
    { name: 'body', type: 'bytes' },
  ],
});

export function encodeFlumeEvent(e: FlumeEvent): Buffer {
  return type.toBuffer({ headers: e.headers, body: e.body });
}

/** Throws when the bytes are not one AvroFlumeEvent. */
export function decodeFlumeEvent(buf: Buffer): FlumeEvent {
  const v = type.fromBuffer(buf) as { headers: Record<string, string>; body: Buffer };
  return { headers: v.headers, body: v.body };
}
