import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { encodeProduceV3, type ProduceV3Options } from './record-batch.js';

const require = createRequire(import.meta.url);
// kafkajs' own Produce v3 request, loaded before any replacement, as the reference.
const kafkajsV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (o: ProduceV3Options) => { encode(): Promise<{ buffer: Buffer }> };
const Long = require('kafkajs/src/utils/long.js') as { fromInt(n: number): { toString(): string } };

async function same(opts: ProduceV3Options): Promise<void> {
  const theirs = (await kafkajsV3(opts).encode()).buffer;
  const ours = encodeProduceV3(opts);
  assert.equal(ours.toString('hex'), theirs.toString('hex'));
}

test('the fast Produce encoder writes exactly the bytes kafkajs writes', async () => {
  const big = Buffer.alloc(300, 0x61);
  await same({
    acks: 1,
    timeout: 30000,
    producerId: Long.fromInt(-1),
    producerEpoch: 0,
    topicData: [
      {
        topic: 'logs',
        partitions: [
          {
            partition: 0,
            firstSequence: 0,
            messages: [
              { key: null, value: Buffer.from('plain'), timestamp: '1700000000000' },
              { key: 'k1', value: big, timestamp: '1700000000005', headers: { h: 'v', ü: Buffer.from('ß') } },
              { key: Buffer.from('k2'), value: null, timestamp: '1700000000001', headers: { multi: ['a', 'b'] } },
            ],
          },
          { partition: 3, firstSequence: 0, messages: Array.from({ length: 200 }, (_, i) => ({ key: null, value: Buffer.from(`event ${i}`), timestamp: String(1700000000000 + i) })) },
        ],
      },
      { topic: 'other', partitions: [{ partition: 1, firstSequence: 0, messages: [{ value: Buffer.alloc(0), timestamp: '1700000000100' }] }] },
    ],
  });
  await same({ acks: -1, timeout: 5000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ value: 'x', timestamp: '1' }] }] }] });
});

test('records without a timestamp get the send time, as in kafkajs', async () => {
  const realNow = Date.now;
  Date.now = () => 1_800_000_000_123;
  try {
    await same({ acks: 1, timeout: 30000, topicData: [{ topic: 't', partitions: [{ partition: 2, firstSequence: 0, messages: [{ value: 'a' }, { value: 'b', key: 'k' }] }] }] });
  } finally {
    Date.now = realNow;
  }
});
