import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { kcatConsume } from '../support/kafka/cluster.js';
import { seedJob, withKafka } from './kafka-support.js';

test('seed: exec tail -F → memory → Kafka sink; every appended line reaches the topic, in order', { timeout: 60_000 }, async () => {
  await withKafka({ topics: [{ name: 'first', partitions: 1 }] }, async (ctx) => {
    const log = path.join(ctx.dir, 'datas', 'flume.log');
    await ctx.start(seedJob('exec-kafka-sink.conf', ctx.bootstrap, { '/tmp/flume-ts/datas': path.join(ctx.dir, 'datas') }));
    await new Promise((r) => setTimeout(r, 500));
    const lines = Array.from({ length: 50 }, (_, i) => `log line ${i}`);
    fs.appendFileSync(log, lines.join('\n') + '\n');
    const got = await kcatConsume(ctx.bootstrap, 'first', { count: 50, timeoutMs: 20000 });
    assert.deepEqual(got, lines);
  });
});
