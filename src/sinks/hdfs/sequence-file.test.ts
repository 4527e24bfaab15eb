import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEvent } from '../../core/event.js';
import { readSequenceFile } from '../../../test/support/webhdfs/seqfile-reader.js';
import { SequenceFileWriter, vint } from './sequence-file.js';

const SYNC = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

test('VInts as Hadoop writes them', () => {
  assert.deepEqual(vint(0), hex('00'));
  assert.deepEqual(vint(127), hex('7f'));
  assert.deepEqual(vint(-112), hex('90'));
  assert.deepEqual(vint(128), hex('8f 80'));
  assert.deepEqual(vint(1000), hex('8e 03 e8'));
  assert.deepEqual(vint(-113), hex('87 70'));
  assert.deepEqual(vint(1 << 24), hex('8c 01 00 00 00'));
});

test('two records, BytesWritable, uncompressed: the bytes derived by hand from the layout', () => {
  const w = new SequenceFileWriter('Writable', 'none', SYNC);
  const file = Buffer.concat([w.header(), w.encode([createEvent('hi', { timestamp: '1000' }), createEvent('', { timestamp: '1709639674567' })])]);
  const expected = Buffer.concat([
    hex('53 45 51 06'), // "SEQ", version 6
    hex('21'),
    ascii('org.apache.hadoop.io.LongWritable'), // Text: VInt 33, then the name
    hex('22'),
    ascii('org.apache.hadoop.io.BytesWritable'), // VInt 34
    hex('00 00'), // not compressed, not block-compressed
    hex('00 00 00 00'), // no metadata
    SYNC,
    // record 1: length 14 = key 8 + value 6, key length 8, LongWritable 1000, BytesWritable "hi"
    hex('00 00 00 0e  00 00 00 08  00 00 00 00 00 00 03 e8  00 00 00 02 68 69'),
    // record 2: length 12, key 8, 1709639674567, empty BytesWritable
    hex('00 00 00 0c  00 00 00 08  00 00 01 8e 0e 77 2a c7  00 00 00 00'),
    // the sync point after the batch (Flume syncs the writer at every flush)
    hex('ff ff ff ff'),
    SYNC,
  ]);
  assert.deepEqual(file, expected);
  const r = readSequenceFile(file);
  assert.deepEqual(
    r.records.map((x) => [x.key, x.value.toString()]),
    [
      [1000n, 'hi'],
      [1709639674567n, ''],
    ],
  );
});

test('Text values and DefaultCodec block compression read back by the reader written from the layout', () => {
  const events = Array.from({ length: 300 }, (_, i) => createEvent(`event ${i} ünï`, { timestamp: String(1700000000000 + i) }));
  for (const format of ['Writable', 'Text'] as const) {
    for (const codec of ['none', 'default', 'gzip'] as const) {
      const w = new SequenceFileWriter(format, codec);
      const file = Buffer.concat([w.header(), w.encode(events.slice(0, 100)), w.encode(events.slice(100)), w.trailer()]);
      const r = readSequenceFile(file);
      assert.equal(r.valueClass, format === 'Text' ? 'org.apache.hadoop.io.Text' : 'org.apache.hadoop.io.BytesWritable');
      assert.equal(r.blockCompressed, codec !== 'none');
      if (codec === 'default') assert.equal(r.codec, 'org.apache.hadoop.io.compress.DefaultCodec');
      assert.deepEqual(
        r.records.map((x) => x.value.toString()),
        events.map((e) => e.body.toString()),
      );
      assert.deepEqual(
        r.records.map((x) => x.key),
        events.map((e) => BigInt(e.headers.timestamp!)),
      );
      assert.equal(r.syncs, 2, 'one sync point per batch');
    }
  }
});

test('a sync point every 100 KB inside a large uncompressed batch; a block every 1,000,000 bytes', () => {
  const body = 'x'.repeat(1000);
  const events = Array.from({ length: 1500 }, () => createEvent(body, { timestamp: '1' }));
  const plain = new SequenceFileWriter('Writable', 'none');
  const r = readSequenceFile(Buffer.concat([plain.header(), plain.encode(events)]));
  assert.equal(r.records.length, 1500);
  // Records are 1,020 bytes (4 + 4 + 8 + 4 + 1000): 1,530,000 bytes after a 95-byte
  // header. A sync point goes before the first record at or past 102,400 bytes from the
  // last one (every 101 records), so 14 inside the batch, one at its end.
  assert.equal(r.syncs, 15);
  const block = new SequenceFileWriter('Writable', 'default');
  const b = readSequenceFile(Buffer.concat([block.header(), block.encode(events)]));
  assert.equal(b.records.length, 1500);
  assert.equal(b.syncs, 2);
});

test('an event without a timestamp header gets the time of writing as its key', () => {
  const w = new SequenceFileWriter('Writable', 'none', SYNC, () => 42);
  const r = readSequenceFile(Buffer.concat([w.header(), w.encode([createEvent('a')])]));
  assert.equal(r.records[0]!.key, 42n);
});
