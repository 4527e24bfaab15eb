// examples/resumable-file-source: the seed notes' MyFileSource2, whose offset is saved
// only after the channel committed. The channel is Kafka's (durable: what it committed is
// in the topic whatever happens to the agent), read back with kcat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, eventually, spawnFlume, writeJob, type RunningAgent } from '../support/agent.js';
import { KCAT } from '../support/kafka/cluster.js';
import { consumerTimings, withKafka } from './kafka-support.js';

const PLUGIN = path.join(ROOT, 'examples', 'resumable-file-source');
const BATCH = 20;

function topicValues(bootstrap: string, topic: string): string[] {
  const r = spawnSync(KCAT, ['-C', '-q', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-f', '%s\n'], { encoding: 'utf8', timeout: 20000 });
  return r.stdout.split('\n').filter(Boolean);
}

test('resumable file source: kill -9 mid-file loses no line and re-sends at most the last uncommitted batch', async () => {
  await withKafka({ topics: [{ name: 'lines', partitions: 1 }] }, async (k) => {
    const data = path.join(k.dir, 'data.log');
    const offsetPath = path.join(k.dir, 'offset');
    const job = writeJob(
      k.dir,
      [
        'a1.sources = r1',
        'a1.channels = c1',
        'a1.sinks = k1',
        'a1.sinks.k1.type = null',
        'a1.sinks.k1.channel = c1',
        'a1.sources.r1.type = com.atguigu.MyFileSource2',
        `a1.sources.r1.filePath = ${data}`,
        `a1.sources.r1.offsetPath = ${offsetPath}`,
        'a1.sources.r1.interval = 20',
        `a1.sources.r1.batchSize = ${BATCH}`,
        'a1.sources.r1.channels = c1',
        'a1.channels.c1.type = org.apache.flume.channel.kafka.KafkaChannel',
        `a1.channels.c1.kafka.bootstrap.servers = ${k.bootstrap}`,
        'a1.channels.c1.kafka.topic = lines',
        'a1.channels.c1.parseAsFlumeEvent = false',
      ].join('\n') +
        '\n' +
        consumerTimings('a1.channels.c1'),
    );
    const start = async (): Promise<RunningAgent> => {
      const a = spawnFlume(['agent', '-n', 'a1', '-f', job, '--plugins-path', PLUGIN, '-Dflume.root.logger=INFO,console']);
      await a.waitFor(/Agent a1 started/, 30000);
      return a;
    };
    // Lines keep being appended while the agent runs, is killed, and runs again.
    const TOTAL = 3000;
    let written = 0;
    const append = (n: number): void => {
      const lines: string[] = [];
      for (let i = 0; i < n && written < TOTAL; i++) lines.push(`line ${String(written++).padStart(5, '0')} ${'x'.repeat(written % 50)}`);
      fs.appendFileSync(data, lines.join('\n') + '\n');
    };
    append(500);
    const first = await start();
    try {
      const writer = setInterval(() => append(50), 5);
      await eventually(() => Number(fs.readFileSync(offsetPath, 'utf8') || 0) > 20000, 20000, 'part of the file read');
      first.proc.kill('SIGKILL');
      await first.exited;
      clearInterval(writer);
    } finally {
      await first.stop();
    }
    const before = topicValues(k.bootstrap, 'lines').length;
    assert.ok(before > 0 && before < TOTAL, `killed mid-file (${before} lines in the channel)`);
    append(TOTAL);
    const size = fs.statSync(data).size;
    const second = await start();
    try {
      await eventually(() => Number(fs.readFileSync(offsetPath, 'utf8')) === size, 30000, 'whole file committed');
    } finally {
      const code = await second.stop();
      assert.equal(code, 0, second.stderr().slice(-3000));
    }
    const got = topicValues(k.bootstrap, 'lines');
    const expected = fs.readFileSync(data, 'utf8').split('\n').filter(Boolean);
    assert.equal(expected.length, TOTAL);
    // Every line, in order; the only repeats are one run of at most a batch where the kill fell.
    const firstSeen = [...new Set(got)];
    assert.deepEqual(firstSeen, expected);
    const dups = got.length - expected.length;
    assert.ok(dups >= 0 && dups <= BATCH, `${dups} lines sent twice (at most one batch of ${BATCH})`);
    if (dups > 0) {
      const resumeAt = got.length - (expected.length - before) - dups;
      // The repeated lines are the tail of what the first agent committed, sent again first by the second.
      assert.deepEqual(got.slice(before, before + dups), got.slice(before - dups, before), `repeats at ${resumeAt}`);
    }
  });
});
