import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir, startAgent } from '../support/agent.js';
import { startKafkaMock, kcatConsume } from '../support/kafka/cluster.js';
import { requireKafkaTools, seedJob } from './kafka-support.js';

test('seed: exec tail -F → memory → Kafka sink; every appended line reaches the topic, in order', { timeout: 60_000 }, async () => {
  requireKafkaTools();
  const t = tempDir();
  const kafka = await startKafkaMock({ topics: [{ name: 'first', partitions: 1 }] });
  const log = path.join(t.dir, 'datas', 'flume.log');
  let agent;
  try {
    agent = await startAgent(seedJob('exec-kafka-sink.conf', kafka.bootstrap, { '/tmp/flume-ts/datas': path.join(t.dir, 'datas') }), { dir: t.dir });
    await new Promise((r) => setTimeout(r, 500));
    const lines = Array.from({ length: 50 }, (_, i) => `log line ${i}`);
    fs.appendFileSync(log, lines.join('\n') + '\n');
    const got = await kcatConsume(kafka.bootstrap, 'first', { count: 50, timeoutMs: 20000 });
    assert.deepEqual(got, lines);
  } finally {
    await agent?.stop();
    await kafka.stop();
    t.cleanup();
  }
});
