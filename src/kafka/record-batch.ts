import { createRequire } from 'node:module';

/**
 * A one-pass encoder for kafkajs' Produce request (v3 and the versions built on it),
 * used for uncompressed, non-transactional sends: the sink's hot path. kafkajs builds
 * every record as its own Encoder object, spreads each message, and grows buffers
 * record by record; that cost 7 µs per event and capped the Kafka sink. This writes
 * the same bytes (Kafka's record batch v2) into one buffer. Compressed or
 * transactional requests keep kafkajs' own encoder.
 */
const require = createRequire(import.meta.url);
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;
const Encoder = require('kafkajs/src/protocol/encoder.js') as new (size?: number) => { buf: Buffer; offset: number };

type Bytes = Buffer | string | null | undefined;
interface Message {
  key?: Bytes;
  value: Bytes;
  headers?: Record<string, Bytes | Bytes[]>;
  timestamp?: string | number;
}
interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: Message[];
}
interface TopicData {
  topic: string;
  partitions: PartitionData[];
}
export interface ProduceV3Options {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: { toString(): string };
  producerEpoch?: number;
  compression?: number;
  topicData: TopicData[];
}

const toBuf = (b: Bytes): Buffer | null => (b === null || b === undefined ? null : Buffer.isBuffer(b) ? b : Buffer.from(String(b)));
const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);
function uvarintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}
const varintSize = (n: number): number => uvarintSize(zigzag(n));

class Writer {
  off = 0;
  constructor(readonly buf: Buffer) {}
  u8(v: number): void {
    this.buf[this.off++] = v;
  }
  i16(v: number): void {
    this.off = this.buf.writeInt16BE(v, this.off);
  }
  i32(v: number): void {
    this.off = this.buf.writeInt32BE(v, this.off);
  }
  i64(v: bigint): void {
    this.off = this.buf.writeBigInt64BE(v, this.off);
  }
  varint(n: number): void {
    let z = zigzag(n);
    while (z >= 128) {
      this.buf[this.off++] = (z % 128) | 128;
      z = Math.floor(z / 128);
    }
    this.buf[this.off++] = z;
  }
  bytes(b: Buffer): void {
    this.off += b.copy(this.buf, this.off);
  }
}

interface PreparedRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: [Buffer, Buffer | null][];
  tsDelta: number;
  body: number; // size of the record after its length varint
}

function prepare(p: PartitionData, now: number): { records: PreparedRecord[]; first: number; max: number; size: number } {
  let first = Infinity;
  let max = -Infinity;
  for (const m of p.messages) {
    if (m.timestamp !== undefined && m.timestamp !== null) {
      const t = Number(m.timestamp);
      if (t < first) first = t;
      if (t > max) max = t;
    }
  }
  if (first === Infinity) first = max = now;
  const records = new Array<PreparedRecord>(p.messages.length);
  let size = 0;
  for (let i = 0; i < p.messages.length; i++) {
    const m = p.messages[i]!;
    const key = toBuf(m.key);
    const value = toBuf(m.value);
    const headers: [Buffer, Buffer | null][] = [];
    if (m.headers) {
      for (const k of Object.keys(m.headers)) {
        const v = m.headers[k];
        for (const one of Array.isArray(v) ? v : [v]) headers.push([Buffer.from(k), toBuf(one)]);
      }
    }
    const tsDelta = (m.timestamp !== undefined && m.timestamp !== null ? Number(m.timestamp) : now) - first;
    let body = 1 + varintSize(tsDelta) + varintSize(i);
    body += key ? varintSize(key.length) + key.length : varintSize(-1);
    body += value ? varintSize(value.length) + value.length : varintSize(-1);
    body += varintSize(headers.length);
    for (const [hk, hv] of headers) body += varintSize(hk.length) + hk.length + (hv ? varintSize(hv.length) + hv.length : varintSize(-1));
    records[i] = { key, value, headers, tsDelta, body };
    size += varintSize(body) + body;
  }
  return { records, first, max, size };
}

/** RecordBatch header bytes from attributes to the record count (Kafka's v2 batch). */
const BATCH_BODY_FIXED = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
/** firstOffset, length, partitionLeaderEpoch, magic, crc. */
const BATCH_PREFIX = 8 + 4 + 4 + 1 + 4;

/** The Produce v3 request body for `opts`, as kafkajs' own encoder would write it. */
export function encodeProduceV3(opts: ProduceV3Options): Buffer {
  const now = Date.now();
  const producerId = BigInt(opts.producerId?.toString() ?? '-1');
  const producerEpoch = opts.producerEpoch ?? 0;
  const txn = opts.transactionalId === null || opts.transactionalId === undefined ? null : Buffer.from(opts.transactionalId);
  const topics = opts.topicData.map((t) => ({ name: Buffer.from(t.topic), parts: t.partitions.map((p) => ({ p, prep: prepare(p, now) })) }));

  let total = 2 + (txn ? txn.length : 0) + 2 + 4 + 4;
  for (const t of topics) {
    total += 2 + t.name.length + 4;
    for (const { prep } of t.parts) total += 4 + 4 + BATCH_PREFIX + BATCH_BODY_FIXED + prep.size;
  }
  const w = new Writer(Buffer.allocUnsafe(total));
  w.i16(txn ? txn.length : -1);
  if (txn) w.bytes(txn);
  w.i16(opts.acks);
  w.i32(opts.timeout);
  w.i32(topics.length);
  for (const t of topics) {
    w.i16(t.name.length);
    w.bytes(t.name);
    w.i32(t.parts.length);
    for (const { p, prep } of t.parts) {
      const batchSize = BATCH_PREFIX + BATCH_BODY_FIXED + prep.size;
      w.i32(p.partition);
      w.i32(batchSize);
      w.i64(0n); // first offset
      w.i32(batchSize - 12); // length of what follows
      w.i32(0); // partition leader epoch
      w.u8(2); // magic
      const crcAt = w.off;
      w.off += 4;
      const bodyStart = w.off;
      w.i16(0); // attributes: no compression, create time, not transactional
      w.i32(p.messages.length - 1);
      w.i64(BigInt(prep.first));
      w.i64(BigInt(prep.max));
      w.i64(producerId);
      w.i16(producerEpoch);
      w.i32(p.firstSequence ?? 0);
      w.i32(p.messages.length);
      for (let i = 0; i < prep.records.length; i++) {
        const r = prep.records[i]!;
        w.varint(r.body);
        w.u8(0);
        w.varint(r.tsDelta);
        w.varint(i);
        if (r.key) {
          w.varint(r.key.length);
          w.bytes(r.key);
        } else w.varint(-1);
        if (r.value) {
          w.varint(r.value.length);
          w.bytes(r.value);
        } else w.varint(-1);
        w.varint(r.headers.length);
        for (const [hk, hv] of r.headers) {
          w.varint(hk.length);
          w.bytes(hk);
          if (hv) {
            w.varint(hv.length);
            w.bytes(hv);
          } else w.varint(-1);
        }
      }
      w.buf.writeUInt32BE(crc32C(w.buf.subarray(bodyStart, w.off)), crcAt);
    }
  }
  if (w.off !== total) throw new Error(`produce request size mismatch: wrote ${w.off} of ${total}`);
  return w.buf;
}

type ProduceRequestFactory = (opts: ProduceV3Options) => { encode(): Promise<unknown> } & Record<string, unknown>;

/**
 * Routes kafkajs' Produce v3+ requests through encodeProduceV3 when they are
 * uncompressed and not transactional. kafkajs loads its request modules lazily, so
 * replacing the cached v3 module before the first send reaches every later version.
 */
export function installFastProduceEncoder(): void {
  const path = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
  const original = require(path) as ProduceRequestFactory & { fast?: boolean };
  if (original.fast) return;
  const fast: ProduceRequestFactory & { fast?: boolean } = (opts) => {
    const req = original(opts);
    if ((opts.compression ?? 0) !== 0 || opts.transactionalId) return req;
    return {
      ...req,
      encode: async () => {
        const buf = encodeProduceV3(opts);
        const e = new Encoder(0);
        e.buf = buf;
        e.offset = buf.length;
        return e;
      },
    };
  };
  fast.fast = true;
  require.cache[path]!.exports = fast;
}
