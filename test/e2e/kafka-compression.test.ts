import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tcpExchange, eventually, jobText, netcatJob } from '../support/agent.js';
import { kcatBatchCodecs, kcatConsume, kcatProduce } from '../support/kafka/cluster.js';
import { consumerTimings, withKafka } from './kafka-support.js';

// The codecs Java producers use besides gzip, each checked both ways against librdkafka (kcat).
for (const codec of ['snappy', 'lz4', 'zstd'] as const)
  test(`${codec}: the source reads a topic kcat wrote with ${codec}, the sink writes ${codec} that kcat reads`, { timeout: 90_000 }, async () => {
    await withKafka(
      {
        topics: [
          { name: 'in', partitions: 1 },
          { name: 'out', partitions: 1 },
        ],
      },
      async (ctx) => {
        const outDir = path.join(ctx.dir, 'out');
        fs.mkdirSync(outDir);
        const lines = Array.from({ length: 30 }, (_, i) => `${codec} line ${i} ${'x'.repeat(50)}`);
        await kcatProduce(ctx.bootstrap, 'in', lines, { compression: codec });
        await ctx.start(
          jobText({
            sources: {
              r1: { type: 'org.apache.flume.source.kafka.KafkaSource', 'kafka.bootstrap.servers': ctx.bootstrap, 'kafka.topics': 'in', 'kafka.consumer.auto.offset.reset': 'earliest', channels: 'c1' },
            },
            channels: { c1: { type: 'memory' } },
            sinks: { k1: { type: 'file_roll', 'sink.directory': outDir, 'sink.rollInterval': 0, channel: 'c1' } },
          }) + consumerTimings('a1.sources.r1'),
        );
        const read = (): string[] => fs.readdirSync(outDir).flatMap((f) => fs.readFileSync(path.join(outDir, f), 'utf8').split('\n').filter(Boolean));
        await eventually(() => read().length === 30, 30000, `${codec} records read`);
        assert.deepEqual(read(), lines);

        const { port } = ctx;
        const sub = path.join(ctx.dir, 'sink');
        fs.mkdirSync(sub);
        await ctx.start(
          netcatJob(port, {
            type: 'org.apache.flume.sink.kafka.KafkaSink',
            'kafka.bootstrap.servers': ctx.bootstrap,
            'kafka.topic': 'out',
            'kafka.producer.compression.type': codec,
          }),
          { dir: sub },
        );
        assert.equal(await tcpExchange(port, lines.join('\n') + '\n', { expectBytes: 90 }), 'OK\n'.repeat(30));
        assert.deepEqual(await kcatConsume(ctx.bootstrap, 'out', { count: 30, timeoutMs: 20000 }), lines);
        // What a consumer reads back says nothing of the codec: librdkafka names it for every batch it fetched.
        const batches = await kcatBatchCodecs(ctx.bootstrap, 'out');
        assert.deepEqual([...new Set(batches.map((b) => b.codec))], [codec], JSON.stringify(batches));
        assert.equal(
          batches.reduce((n, b) => n + b.messages, 0),
          30,
        );
      },
    );
  });
