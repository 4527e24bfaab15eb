// examples/kafka-client-plugins: kafka.producer.partitioner.class and
// kafka.producer.interceptor.classes naming plugins, read back with kcat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ROOT, netcatJob, spawnFlume, tcpExchange, writeJob } from '../support/agent.js';
import { kcatConsume } from '../support/kafka/cluster.js';
import { withKafka } from './kafka-support.js';

const PLUGIN = path.join(ROOT, 'examples', 'kafka-client-plugins');

test('Kafka sink: a plugin partitioner puts every record on partition 1, producer interceptors run in order and the counter logs its totals on close', async () => {
  await withKafka({ topics: [{ name: 'parts', partitions: 3 }] }, async (ctx) => {
    const job = netcatJob(
      ctx.port,
      {
        type: 'org.apache.flume.sink.kafka.KafkaSink',
        'kafka.bootstrap.servers': ctx.bootstrap,
        'kafka.topic': 'parts',
        flumeBatchSize: 10,
        'kafka.producer.partitioner.class': 'com.atguigu.kafka.CustomerPartition',
        'kafka.producer.interceptor.classes': 'com.atguigu.kafka.KafkaInterceptor,com.atguigu.kafka.CountInterceptor',
      },
      { source: { interceptors: 'k', 'interceptors.k.type': 'regex_extractor', 'interceptors.k.regex': '^(k\\\\d)', 'interceptors.k.serializers': 's', 'interceptors.k.serializers.s.name': 'key' } },
    );
    const agent = await ctx.start(job, { extraArgs: ['--plugins-path', PLUGIN] });
    const before = Date.now();
    const sent: string[] = [];
    for (let i = 0; i < 50; i++) {
      const line = `k${i % 7} line ${i}`; // keyed: the default partitioner would spread them
      sent.push(line);
      assert.equal(await tcpExchange(ctx.port, line + '\n', { expectBytes: 3 }), 'OK\n');
    }
    const records = (await kcatConsume(ctx.bootstrap, 'parts', { count: 50, timeoutMs: 20000, format: '%p\t%s' })).map((l) => {
      const [p, v] = l.split('\t') as [string, string];
      return { partition: Number(p), value: v };
    });
    const after = Date.now();
    assert.deepEqual([...new Set(records.map((r) => r.partition))], [1]);
    const bodies = records.map((r) => {
      const m = /^(\d+):(.*)$/.exec(r.value);
      assert.ok(m, r.value);
      assert.ok(Number(m[1]) >= before && Number(m[1]) <= after, r.value);
      return m[2];
    });
    assert.deepEqual(bodies, sent);
    assert.equal(await agent.stop(), 0);
    assert.match(agent.stderr(), /\[INFO - com\.atguigu\.kafka\.CountInterceptor\] success=50\n/);
    assert.match(agent.stderr(), /\[INFO - com\.atguigu\.kafka\.CountInterceptor\] error=0\n/);
  });
});

test('Kafka sink: a partitioner or interceptor no plugin provides is an error naming the key', async () => {
  await withKafka({ topics: [{ name: 'parts', partitions: 3 }] }, async (ctx) => {
    const file = writeJob(
      ctx.dir,
      netcatJob(ctx.port, {
        type: 'kafka',
        'kafka.bootstrap.servers': ctx.bootstrap,
        'kafka.producer.partitioner.class': 'com.example.Nope',
        'kafka.producer.interceptor.classes': 'com.atguigu.kafka.CountInterceptor, com.example.Missing',
      }),
    );
    const p = spawnFlume(['validate', '-f', file, '--plugins-path', PLUGIN]);
    assert.equal(await p.exited, 1);
    assert.match(p.stdout(), /a1\.sinks\.k1\.kafka\.producer\.partitioner\.class: no Kafka partitioner "com\.example\.Nope"/);
    assert.match(p.stdout(), /a1\.sinks\.k1\.kafka\.producer\.interceptor\.classes: no Kafka producer interceptor "com\.example\.Missing"/);
    assert.doesNotMatch(p.stdout(), /CountInterceptor"/);
  });
});
