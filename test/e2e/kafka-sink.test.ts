import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir, spawnFlume, tcpExchange, writeJob } from '../support/agent.js';
import { kcatBatchCodecs, kcatConsume } from '../support/kafka/cluster.js';
import { avroDecode, byPartition, kcatRaw, seedJob, withKafka } from './kafka-support.js';

interface Line {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

async function readLines(bootstrap: string, topic: string, count: number, timeoutMs = 20000): Promise<Line[]> {
  const lines = await kcatConsume(bootstrap, topic, { count, timeoutMs, format: '%p\t%o\t%k\t%s' });
  return lines.map((l) => {
    const [p, o, key, value] = l.split('\t') as [string, string, string, string];
    return { partition: Number(p), offset: Number(o), key, value };
  });
}

test('seed job netcat -> memory -> Kafka sink: every line reaches Kafka, in order per partition, with its key and topic override', async () => {
  await withKafka(
    {
      topics: [
        { name: 'test3', partitions: 4 },
        { name: 'other', partitions: 2 },
      ],
    },
    async (ctx) => {
      const { port } = ctx;
      // The seed job as written, plus two interceptors: the key header from "uN" and a
      // topic header from a leading "@topic" (the sink's allowTopicOverride/topicHeader defaults).
      const job =
        seedJob('netcat-kafka-sink.conf', ctx.bootstrap, { 'port = 8888': `port = ${port}` }) +
        `
a1.sources.r1.interceptors = topic key
a1.sources.r1.interceptors.topic.type = regex_extractor
a1.sources.r1.interceptors.topic.regex = ^@(\\\\w+)
a1.sources.r1.interceptors.topic.serializers = t
a1.sources.r1.interceptors.topic.serializers.t.name = topic
a1.sources.r1.interceptors.key.type = regex_extractor
a1.sources.r1.interceptors.key.regex = (u\\\\d)
a1.sources.r1.interceptors.key.serializers = k
a1.sources.r1.interceptors.key.serializers.k.name = key
`;
      await ctx.start(job);
      const sent: string[] = [];
      for (let i = 0; i < 120; i++) sent.push(i % 10 === 9 ? `@other u${i % 3} m${i}` : `u${i % 5} m${i}`);
      // Several connections, so the sink sees many transactions (flumeBatchSize 20).
      for (let i = 0; i < sent.length; i += 40) {
        const chunk = sent.slice(i, i + 40);
        assert.equal(await tcpExchange(port, chunk.join('\n') + '\n', { expectBytes: 3 * chunk.length }), 'OK\n'.repeat(chunk.length));
      }

      const main = sent.filter((l) => !l.startsWith('@'));
      const over = sent.filter((l) => l.startsWith('@'));
      const got = await readLines(ctx.bootstrap, 'test3', main.length);
      const gotOther = await readLines(ctx.bootstrap, 'other', over.length);

      // Every line exactly once, on the topic it asked for.
      assert.deepEqual(got.map((l) => l.value).sort(), [...main].sort());
      assert.deepEqual(gotOther.map((l) => l.value).sort(), [...over].sort());
      for (const l of [...got, ...gotOther]) assert.equal(l.key, /(u\d)/.exec(l.value)![1], `key of ${l.value}`);
      // Per partition, the order they were sent in; one key, one partition.
      for (const records of [...byPartition(got).values(), ...byPartition(gotOther).values()]) {
        const order = records.map((r) => sent.indexOf(r.value));
        assert.deepEqual(
          order,
          [...order].sort((a, b) => a - b),
          'order within a partition',
        );
      }
      const partitionOfKey = new Map<string, number>();
      for (const l of got) {
        assert.equal(partitionOfKey.get(l.key) ?? l.partition, l.partition, `key ${l.key} stays on one partition`);
        partitionOfKey.set(l.key, l.partition);
      }
      assert.ok(new Set(got.map((l) => l.partition)).size > 1, 'five keys spread over more than one partition');
    },
  );
});

test('older Flume keys (topic, brokerList, requiredAcks, batchSize) still work, each with a deprecation warning', async () => {
  await withKafka({ topics: [{ name: 'topic1', partitions: 1 }] }, async (ctx) => {
    const { port } = ctx;
    const job = seedJob('netcat-kafka-sink-legacy.conf', ctx.bootstrap, { 'port = 44444': `port = ${port}` });

    // validate reports all four, with the key that replaces each.
    const file = writeJob(ctx.dir, job, 'legacy.conf');
    const v = spawnFlume(['validate', '-f', file]);
    assert.equal(await v.exited, 0);
    const out = v.stdout() + v.stderr();
    for (const [old, current] of [
      ['topic', 'kafka.topic'],
      ['brokerList', 'kafka.bootstrap.servers'],
      ['requiredAcks', 'kafka.producer.acks'],
      ['batchSize', 'flumeBatchSize'],
    ]) {
      assert.match(out, new RegExp(`warning: a1\\.sinks\\.k1\\.${old} is deprecated; use a1\\.sinks\\.k1\\.${current.replaceAll('.', '\\.')}`));
    }

    const agent = await ctx.start(job);
    assert.match(agent.stderr(), /WARN .*a1\.sinks\.k1\.brokerList is deprecated; use a1\.sinks\.k1\.kafka\.bootstrap\.servers/);
    const lines = Array.from({ length: 45 }, (_, i) => `legacy-${i}`);
    assert.equal(await tcpExchange(port, lines.join('\n') + '\n', { expectBytes: 3 * lines.length }), 'OK\n'.repeat(lines.length));
    const got = await readLines(ctx.bootstrap, 'topic1', lines.length);
    assert.deepEqual(
      got.map((l) => l.value),
      lines,
    );
  });
});

test('broker gone mid-stream: the sink keeps the events in its channel and delivers them when Kafka is back', async () => {
  await withKafka({ topics: [{ name: 'events', partitions: 1 }], restartable: true }, async (ctx) => {
    const { port } = ctx;
    const agent = await ctx.start(`
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${port}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink
a1.sinks.k1.kafka.bootstrap.servers = ${ctx.bootstrap}
a1.sinks.k1.kafka.topic = events
a1.sinks.k1.flumeBatchSize = 10
a1.sinks.k1.channel = c1
`);
    const before = Array.from({ length: 5 }, (_, i) => `before-${i}`);
    await tcpExchange(port, before.join('\n') + '\n', { expectBytes: 15 });
    assert.deepEqual(
      (await readLines(ctx.bootstrap, 'events', 5)).map((l) => l.value),
      before,
    );

    await ctx.kafka.stop();
    const during = Array.from({ length: 25 }, (_, i) => `during-${i}`);
    assert.equal(await tcpExchange(port, during.join('\n') + '\n', { expectBytes: 75 }), 'OK\n'.repeat(25));
    // The sink fails, rolls back, and backs off: the events stay in the channel.
    await agent.waitFor(/Unable to deliver event from k1: Failed to publish events to Kafka/, 30000);

    // A new (empty) cluster at the same address: everything sent meanwhile arrives, once, in order.
    await ctx.restartKafka();
    const got = await readLines(ctx.bootstrap, 'events', during.length, 40000);
    assert.deepEqual(
      got.map((l) => l.value),
      during,
    );
    assert.doesNotMatch(agent.stderr(), /stopped with \d+ event\(s\) not delivered/);
  });
});

test('useFlumeEventFormat writes Flume Avro events; header.*, timestampHeader, partitionIdHeader and defaultPartitionId shape the records', async () => {
  await withKafka(
    {
      topics: [
        { name: 'avro', partitions: 3 },
        { name: 'plain', partitions: 3 },
      ],
    },
    async (ctx) => {
      const { port } = ctx;
      await ctx.start(`
a1.sources = r1
a1.channels = c1 c2
a1.sinks = k1 k2
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${port}
a1.sources.r1.channels = c1 c2
a1.sources.r1.interceptors = s p ts
a1.sources.r1.interceptors.s.type = static
a1.sources.r1.interceptors.s.key = origin
a1.sources.r1.interceptors.s.value = edge-7
a1.sources.r1.interceptors.p.type = regex_extractor
a1.sources.r1.interceptors.p.regex = ^p(\\\\d)
a1.sources.r1.interceptors.p.serializers = n
a1.sources.r1.interceptors.p.serializers.n.name = part
a1.sources.r1.interceptors.ts.type = static
a1.sources.r1.interceptors.ts.key = when
a1.sources.r1.interceptors.ts.value = 1500000000123
a1.channels.c1.type = memory
a1.channels.c2.type = memory
a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink
a1.sinks.k1.kafka.bootstrap.servers = ${ctx.bootstrap}
a1.sinks.k1.kafka.topic = avro
a1.sinks.k1.useFlumeEventFormat = true
a1.sinks.k1.defaultPartitionId = 2
a1.sinks.k1.channel = c1
a1.sinks.k2.type = org.apache.flume.sink.kafka.KafkaSink
a1.sinks.k2.kafka.bootstrap.servers = ${ctx.bootstrap}
a1.sinks.k2.kafka.topic = plain
a1.sinks.k2.defaultPartitionId = 0
a1.sinks.k2.partitionIdHeader = part
a1.sinks.k2.timestampHeader = when
a1.sinks.k2.header.origin = x-origin
a1.sinks.k2.kafka.producer.compression.type = gzip
a1.sinks.k2.kafka.producer.acks = all
a1.sinks.k2.kafka.producer.client.id = flume-test-client
a1.sinks.k2.channel = c2
`);
      await tcpExchange(port, 'p1 first\nsecond\n', { expectBytes: 6 });

      // Flume's Avro event format, decoded by Apache Avro's Python implementation.
      const raw = await kcatRaw(ctx.bootstrap, 'avro', 2);
      assert.deepEqual(
        raw.map((r) => r.partition),
        [2, 2],
      );
      const events = await avroDecode(raw.map((r) => r.value));
      assert.deepEqual(events, [
        { headers: { origin: 'edge-7', part: '1', when: '1500000000123' }, body: 'p1 first' },
        { headers: { origin: 'edge-7', when: '1500000000123' }, body: 'second' },
      ]);

      // The plain body; the header mapped to a Kafka record header; the record timestamp from `when`;
      // the partition from `part`, else defaultPartitionId (gzip, acks=all and client.id on the way).
      const plain = await kcatConsume(ctx.bootstrap, 'plain', { count: 2, timeoutMs: 20000, format: '%p|%T|%h|%s' });
      assert.deepEqual([...plain].sort(), ['0|1500000000123|x-origin=edge-7|second', '1|1500000000123|x-origin=edge-7|p1 first']);
      // k2 sends gzip, k1 leaves compression off: librdkafka names the codec of every batch it fetched.
      assert.deepEqual([...new Set((await kcatBatchCodecs(ctx.bootstrap, 'plain')).map((b) => b.codec))], ['gzip']);
      assert.deepEqual([...new Set((await kcatBatchCodecs(ctx.bootstrap, 'avro')).map((b) => b.codec))], ['uncompressed']);
    },
  );
});

test('kafka.producer.* pass-through: mapped keys are accepted, keys kafkajs cannot honour are named in warnings, bad values are errors', async () => {
  const t = tempDir();
  try {
    const base = `
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = 1
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink
a1.sinks.k1.channel = c1
a1.sinks.k1.kafka.bootstrap.servers = 127.0.0.1:9092
`;
    const good = writeJob(
      t.dir,
      base +
        `
a1.sinks.k1.kafka.producer.acks = all
a1.sinks.k1.kafka.producer.client.id = me
a1.sinks.k1.kafka.producer.compression.type = lz4
a1.sinks.k1.kafka.producer.linger.ms = 1
a1.sinks.k1.kafka.producer.batch.size = 16384
a1.sinks.k1.kafka.producer.max.in.flight.requests.per.connection = 1
a1.sinks.k1.kafka.producer.request.timeout.ms = 5000
a1.sinks.k1.kafka.producer.group.id = wrong-side
a1.sinks.k1.kafka.producer.ssl.truststore.password = x
a1.sinks.k1.kafka.producer.frobnicate = 1
`,
      'good.conf',
    );
    const v = spawnFlume(['validate', '-f', good]);
    assert.equal(await v.exited, 0, v.stdout() + v.stderr());
    const out = v.stdout() + v.stderr();
    assert.match(out, /warning: a1\.sinks\.k1\.kafka\.producer\.linger\.ms: kafkajs does not linger/);
    assert.match(out, /warning: a1\.sinks\.k1\.kafka\.producer\.batch\.size: kafkajs does not size batches/);
    assert.match(out, /warning: a1\.sinks\.k1\.kafka\.producer\.group\.id: Kafka producer property "group\.id" has no kafkajs equivalent \(it is a consumer property\); ignored/);
    assert.match(out, /warning: a1\.sinks\.k1\.kafka\.producer\.frobnicate: Kafka producer property "frobnicate" has no kafkajs equivalent; ignored/);
    assert.match(out, /warning: a1\.sinks\.k1\.kafka\.producer\.ssl\.truststore\.password: ssl settings apply only with kafka\.producer\.security\.protocol = SSL or SASL_SSL/);
    for (const ok of ['acks', 'client.id', 'compression.type', 'max.in.flight', 'request.timeout.ms']) assert.doesNotMatch(out, new RegExp(`kafka\\.producer\\.${ok.replaceAll('.', '\\.')}`));
    assert.match(out, /0 error\(s\), 5 warning\(s\)/);

    const bad = writeJob(
      t.dir,
      base +
        `
a1.sinks.k1.kafka.producer.acks = most
a1.sinks.k1.kafka.producer.security.protocol = SASL_SSL
a1.sinks.k1.kafka.producer.compression.type = brotli
`,
      'bad.conf',
    );
    const b = spawnFlume(['validate', '-f', bad]);
    assert.equal(await b.exited, 1);
    const err = b.stdout() + b.stderr();
    assert.match(err, /bad\.conf:14: error: a1\.sinks\.k1\.kafka\.producer\.acks: expected all, -1, 0 or 1, got "most"/);
    assert.match(err, /error: a1\.sinks\.k1\.kafka\.producer\.security\.protocol = SASL_SSL needs a1\.sinks\.k1\.kafka\.producer\.sasl\.mechanism/);
    assert.match(err, /error: a1\.sinks\.k1\.kafka\.producer\.compression\.type: expected none, gzip, snappy, lz4 or zstd, got "brotli"/);
  } finally {
    t.cleanup();
  }
});
