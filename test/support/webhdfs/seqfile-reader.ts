/**
 * A SequenceFile reader written from Hadoop's documented layout (SequenceFile's
 * class documentation: header, records or blocks, sync points), independent of the
 * writer under test: it checks every sync marker and reads to the end of the file.
 */
import { gunzipSync, inflateSync } from 'node:zlib';

export interface SeqFile {
  keyClass: string;
  valueClass: string;
  compressed: boolean;
  blockCompressed: boolean;
  codec?: string;
  metadata: Record<string, string>;
  sync: Buffer;
  records: { key: bigint; value: Buffer }[];
  /** Sync points met after the header. */
  syncs: number;
}

class Cursor {
  pos = 0;
  constructor(readonly b: Buffer) {}
  byte(): number {
    if (this.pos >= this.b.length) throw new Error(`truncated at ${this.pos}`);
    return this.b[this.pos++]!;
  }
  bytes(n: number): Buffer {
    if (n < 0 || this.pos + n > this.b.length) throw new Error(`truncated: ${n} bytes at ${this.pos} of ${this.b.length}`);
    const s = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  int(): number {
    return this.bytes(4).readInt32BE();
  }
  vint(): number {
    const first = (this.byte() << 24) >> 24;
    if (first >= -112) return first;
    const negative = first < -120;
    const len = negative ? -(first + 120) : -(first + 112);
    let v = 0n;
    for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(this.byte());
    return Number(negative ? ~v : v);
  }
  text(): string {
    return this.bytes(this.vint()).toString('utf8');
  }
  get done(): boolean {
    return this.pos >= this.b.length;
  }
}

export function readSequenceFile(buf: Buffer): SeqFile {
  const c = new Cursor(buf);
  if (c.bytes(3).toString('latin1') !== 'SEQ') throw new Error('not a SequenceFile');
  const version = c.byte();
  if (version !== 6) throw new Error(`version ${version}`);
  const keyClass = c.text();
  const valueClass = c.text();
  const compressed = c.byte() !== 0;
  const blockCompressed = c.byte() !== 0;
  const codec = compressed ? c.text() : undefined;
  const metadata: Record<string, string> = {};
  for (let n = c.int(); n > 0; n--) metadata[c.text()] = c.text();
  const sync = Buffer.from(c.bytes(16));
  const inflate = (b: Buffer): Buffer => (codec?.endsWith('GzipCodec') ? gunzipSync(b) : inflateSync(b));
  const raw: { key: Buffer; value: Buffer }[] = [];
  let syncs = 0;
  const expectSync = (): void => {
    if (!c.bytes(16).equals(sync)) throw new Error(`bad sync marker at ${c.pos - 16}`);
    syncs++;
  };
  while (!c.done) {
    if (!blockCompressed) {
      const recLen = c.int();
      if (recLen === -1) {
        expectSync();
        continue;
      }
      const keyLen = c.int();
      raw.push({ key: c.bytes(keyLen), value: c.bytes(recLen - keyLen) });
    } else {
      if (c.int() !== -1) throw new Error(`block without a sync point at ${c.pos - 4}`);
      expectSync();
      const n = c.vint();
      const chunk = (): Cursor => new Cursor(inflate(c.bytes(c.vint())));
      const keyLens = chunk();
      const keys = chunk();
      const valLens = chunk();
      const vals = chunk();
      for (let i = 0; i < n; i++) raw.push({ key: keys.bytes(keyLens.vint()), value: vals.bytes(valLens.vint()) });
      if (!keys.done || !vals.done) throw new Error('block has bytes beyond its records');
    }
  }
  const records = raw.map(({ key, value }) => {
    if (keyClass !== 'org.apache.hadoop.io.LongWritable' || key.length !== 8) throw new Error(`key ${keyClass} of ${key.length} bytes`);
    const v = new Cursor(value);
    let body: Buffer;
    if (valueClass === 'org.apache.hadoop.io.BytesWritable') body = v.bytes(v.int());
    else if (valueClass === 'org.apache.hadoop.io.Text') body = v.bytes(v.vint());
    else throw new Error(`value class ${valueClass}`);
    if (!v.done) throw new Error('value longer than its length');
    return { key: key.readBigInt64BE(), value: Buffer.from(body) };
  });
  return { keyClass, valueClass, compressed, blockCompressed, codec, metadata, sync, records, syncs };
}
