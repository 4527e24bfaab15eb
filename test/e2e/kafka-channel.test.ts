import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tcpExchange } from '../support/agent.js';
import { kcatConsume, kcatProduce } from '../support/kafka/cluster.js';
import { AvroRpcClient } from '../../src/rpc/avro/client.js';
import { avroDecode, avroEncode, consumerTimings, kcatProduceRaw, kcatRaw, loggedAtLeast, seedJob, withKafka } from './kafka-support.js';

/** netcat -> Kafka channel (test timings) -> logger. */
function netcatChannelJob(bootstrap: string, port: number, topic: string, extra = ''): string {
  return `
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${port}
a1.sources.r1.channels = c1
a1.channels.c1.type = org.apache.flume.channel.kafka.KafkaChannel
a1.channels.c1.kafka.bootstrap.servers = ${bootstrap}
a1.channels.c1.kafka.topic = ${topic}
a1.channels.c1.kafka.consumer.group.id = g-${topic}
${consumerTimings('a1.channels.c1')}${extra}
a1.sinks.k1.type = logger
a1.sinks.k1.channel = c1
`;
}

test('seed job avro -> Kafka channel -> logger: headers survive the trip, and the topic holds Flume Avro events both ways', async () => {
  await withKafka({ topics: [{ name: 'test3', partitions: 1 }] }, async (ctx) => {
    const { port } = ctx;
    const agent = await ctx.start(seedJob('avro-kafka-channel-logger.conf', ctx.bootstrap, { 'port = 8888': `port = ${port}` }) + consumerTimings('a1.channels.c1'));
    const avro = new AvroRpcClient({ host: '127.0.0.1', port });
    try {
      await avro.connect();
      // appendBatch is acknowledged only after the put transaction committed: Kafka has them.
      await avro.appendBatch([
        { headers: { host: 'web-1', key: 'user-7' }, body: Buffer.from('first') },
        { headers: { host: 'web-2', 'x.y': 'z=1' }, body: Buffer.from('second') },
      ]);
      await avro.append({ headers: {}, body: Buffer.from('third') });
    } finally {
      await avro.close();
    }

    // What is in Kafka, read by kcat and decoded by Apache Avro's Python implementation:
    // what Java Flume's Kafka channel and sink read (parseAsFlumeEvent = true).
    const raw = await kcatRaw(ctx.bootstrap, 'test3', 3);
    assert.deepEqual(
      raw.map((r) => r.key),
      ['user-7', null, null],
    );
    assert.deepEqual(await avroDecode(raw.map((r) => r.value)), [
      { headers: { host: 'web-1', key: 'user-7' }, body: 'first' },
      { headers: { host: 'web-2', 'x.y': 'z=1' }, body: 'second' },
      { headers: {}, body: 'third' },
    ]);

    // Taken from Kafka by the channel, headers and all.
    assert.deepEqual(await loggedAtLeast(agent, 3, 30000, 'three logged events'), [
      { headers: { host: 'web-1', key: 'user-7' }, body: 'first' },
      { headers: { host: 'web-2', 'x.y': 'z=1' }, body: 'second' },
      { headers: {}, body: 'third' },
    ]);

    // Records Java Flume's Kafka channel would write (Avro events, keyed) are taken the same way;
    // a record that is not an Avro event is skipped with a warning, not a stuck channel.
    await kcatProduceRaw(ctx.bootstrap, 'test3', await avroEncode([{ headers: { origin: 'java' }, body: 'from-java' }]), { key: 'jk', dir: ctx.dir });
    await kcatProduceRaw(ctx.bootstrap, 'test3', [Buffer.from('not an avro event at all, just text')], { dir: ctx.dir });
    await kcatProduceRaw(ctx.bootstrap, 'test3', await avroEncode([{ headers: { origin: 'java' }, body: 'after-junk' }]), { dir: ctx.dir });
    assert.deepEqual((await loggedAtLeast(agent, 5, 30000, 'the Java-written events')).slice(3), [
      { headers: { origin: 'java', key: 'jk' }, body: 'from-java' },
      { headers: { origin: 'java' }, body: 'after-junk' },
    ]);
    assert.match(agent.stderr(), /Kafka channel c1: test3\/0@4 is not an AvroFlumeEvent .*; skipped/);
  });
});

test('parseAsFlumeEvent = false stores the body alone: kcat reads the lines, the sink gets them without headers', async () => {
  await withKafka({ topics: [{ name: 'bodies', partitions: 2 }] }, async (ctx) => {
    const agent = await ctx.start(
      netcatChannelJob(
        ctx.bootstrap,
        ctx.port,
        'bodies',
        `
a1.channels.c1.parseAsFlumeEvent = false
a1.channels.c1.pollTimeout = 200
a1.channels.c1.defaultPartitionId = 1
a1.sources.r1.interceptors = s
a1.sources.r1.interceptors.s.type = static
a1.sources.r1.interceptors.s.key = dropped
a1.sources.r1.interceptors.s.value = yes
`,
      ),
    );
    const lines = ['alpha', 'beta', 'gamma'];
    assert.equal(await tcpExchange(ctx.port, lines.join('\n') + '\n', { expectBytes: 9 }), 'OK\nOK\nOK\n');
    assert.deepEqual(await kcatConsume(ctx.bootstrap, 'bodies', { count: 3, timeoutMs: 20000, format: '%p %s' }), ['1 alpha', '1 beta', '1 gamma']);
    assert.deepEqual(
      await loggedAtLeast(agent, 3, 30000, 'three logged events'),
      lines.map((body) => ({ headers: {}, body })),
    );
  });
});

test('the channel outlives a Kafka restart: puts fail while Kafka is away, and flow again once a cluster is back', async () => {
  await withKafka({ topics: [{ name: 'chan', partitions: 1 }], restartable: true }, async (ctx) => {
    const { port } = ctx;
    const agent = await ctx.start(netcatChannelJob(ctx.bootstrap, port, 'chan'));
    assert.equal(await tcpExchange(port, 'one\ntwo\n', { expectBytes: 6 }), 'OK\nOK\n');
    await loggedAtLeast(agent, 2, 30000, 'the first lines');

    await ctx.kafka.stop();
    // No broker: the put commit fails, so the source refuses the line instead of losing it.
    assert.match(await tcpExchange(port, 'lost?\n', { expectBytes: 7, timeoutMs: 30000 }), /^FAILED: /);

    await ctx.restartKafka();
    // The new cluster does not know the group: the channel makes a new consumer, which joins.
    await agent.waitFor(/Kafka channel c1: consumer stopped \(.*\); making a new one/, 30000);
    await agent.waitFor(/joined group g-chan[\s\S]*joined group g-chan/, 30000);
    assert.equal(await tcpExchange(port, 'three\nfour\n', { expectBytes: 6, timeoutMs: 30000 }), 'OK\nOK\n');
    assert.deepEqual(
      (await loggedAtLeast(agent, 4, 30000, 'the lines sent after the restart')).map((e) => e.body),
      ['one', 'two', 'three', 'four'],
    );
  });
});

test('Kafka source -> Kafka channel -> Kafka sink in one agent, source and channel both in Flume\'s default group "flume"', async () => {
  await withKafka(
    {
      topics: [
        { name: 'in', partitions: 3 },
        { name: 'flume-channel', partitions: 2 },
        { name: 'out', partitions: 1 },
      ],
    },
    async (ctx) => {
      const lines = Array.from({ length: 300 }, (_, i) => `msg-${i}`);
      await kcatProduce(ctx.bootstrap, 'in', lines);
      // Different topics, one group: each member must get the partitions of the topic it reads.
      const agent = await ctx.start(`
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = org.apache.flume.source.kafka.KafkaSource
a1.sources.r1.kafka.bootstrap.servers = ${ctx.bootstrap}
a1.sources.r1.kafka.topics = in
a1.sources.r1.kafka.consumer.auto.offset.reset = earliest
a1.sources.r1.batchSize = 50
a1.sources.r1.setTopicHeader = false
a1.sources.r1.channels = c1
${consumerTimings('a1.sources.r1')}
a1.channels.c1.type = org.apache.flume.channel.kafka.KafkaChannel
a1.channels.c1.kafka.bootstrap.servers = ${ctx.bootstrap}
${consumerTimings('a1.channels.c1')}
a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink
a1.sinks.k1.kafka.bootstrap.servers = ${ctx.bootstrap}
a1.sinks.k1.kafka.topic = out
a1.sinks.k1.channel = c1
`);
      const out = await kcatConsume(ctx.bootstrap, 'out', { count: lines.length, timeoutMs: 60000 });
      assert.deepEqual([...new Set(out)].sort(), [...lines].sort());
      assert.match(agent.stderr(), /Kafka source r1: joined group flume, assigned in\[0,1,2\]/);
      assert.match(agent.stderr(), /Kafka channel c1: joined group flume, assigned flume-channel\[0,1\]/);
      assert.doesNotMatch(agent.stderr(), /unsubscribed topics/);
    },
  );
});
