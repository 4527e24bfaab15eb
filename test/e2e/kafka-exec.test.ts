import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { kcatConsume } from '../support/kafka/cluster.js';
import { seedJob, withKafka } from './kafka-support.js';

test('seed: exec tail -F → memory → Kafka sink; every appended line reaches the topic, in order', { timeout: 60_000 }, async () => {
  await withKafka({ topics: [{ name: 'first', partitions: 1 }] }, async (ctx) => {
    const log = path.join(ctx.dir, 'datas', 'flume.log');
    // tail -F -c +0 reads the file from its first byte whenever it starts, so the lines
    // can be appended at once; only the directory the job's mkdir makes must exist.
    fs.mkdirSync(path.dirname(log), { recursive: true });
    await ctx.start(seedJob('exec-kafka-sink.conf', ctx.bootstrap, { '/tmp/flume-ts/datas': path.join(ctx.dir, 'datas') }));
    const lines = Array.from({ length: 50 }, (_, i) => `log line ${i}`);
    fs.appendFileSync(log, lines.join('\n') + '\n');
    const got = await kcatConsume(ctx.bootstrap, 'first', { count: 50, timeoutMs: 20000 });
    assert.deepEqual(got, lines);
  });
});
