import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, type RunningAgent } from '../support/agent.js';
import { kcatProduce } from '../support/kafka/cluster.js';
import { avroEncode, consumerTimings, kcatProduceRaw, loggedAtLeast, loggedEvents, seedJob, withKafka } from './kafka-support.js';

const CONSUMING = /Kafka source r1: consuming as group/;

/** A Kafka source (earliest, test timings) -> memory -> logger job. */
function sourceJob(bootstrap: string, topic: string, group: string, extra = ''): string {
  return `
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = org.apache.flume.source.kafka.KafkaSource
a1.sources.r1.kafka.bootstrap.servers = ${bootstrap}
a1.sources.r1.kafka.topics = ${topic}
a1.sources.r1.kafka.consumer.group.id = ${group}
a1.sources.r1.kafka.consumer.auto.offset.reset = earliest
a1.sources.r1.channels = c1
${consumerTimings('a1.sources.r1')}${extra}
a1.channels.c1.type = memory
a1.channels.c1.capacity = 10000
a1.channels.c1.transactionCapacity = 1000
a1.sinks.k1.type = logger
a1.sinks.k1.channel = c1
`;
}

const bodies = (agent: RunningAgent): string[] => loggedEvents(agent.stderr()).map((e) => e.body);

test('seed job Kafka source -> memory -> logger: messages produced by kcat arrive with the topic, partition, key, offset and timestamp headers', async () => {
  await withKafka({ topics: [{ name: 'test3', partitions: 4 }] }, async (ctx) => {
    // The seed job as written (it starts at the end of the topic, as Flume does) plus the test timings.
    const agent = await ctx.start(seedJob('kafka-source-logger.conf', ctx.bootstrap) + consumerTimings('a1.sources.r1'));
    await agent.waitFor(/Kafka source r1: joined group g4, assigned test3\[0,1,2,3\]/, 30000);
    await agent.waitFor(CONSUMING, 30000);
    const t0 = Date.now();
    for (let p = 0; p < 4; p++) await kcatProduce(ctx.bootstrap, 'test3', [`p${p}-first`, `p${p}-second`], { key: `key-${p}`, partition: p });
    const events = await loggedAtLeast(agent, 8, 20000, 'eight logged events');
    assert.equal(events.length, 8);
    for (let p = 0; p < 4; p++) {
      const mine = events.filter((e) => e.headers.partition === String(p));
      assert.deepEqual(
        mine.map((e) => e.body),
        [`p${p}-first`, `p${p}-second`],
      );
      assert.deepEqual(
        mine.map((e) => e.headers.offset),
        ['0', '1'],
      );
      for (const e of mine) {
        assert.equal(e.headers.topic, 'test3');
        assert.equal(e.headers.key, `key-${p}`);
        const ts = Number(e.headers.timestamp);
        assert.ok(ts >= t0 - 5000 && ts <= Date.now(), `timestamp ${e.headers.timestamp} is the record's`);
      }
    }
  });
});

test('a restarted agent resumes from the offsets its group committed: nothing read twice, nothing skipped', async () => {
  await withKafka({ topics: [{ name: 'resume', partitions: 2 }] }, async (ctx) => {
    const job = sourceJob(ctx.bootstrap, 'resume', 'g-resume');
    // Three records on each partition, then an agent of the group, which must log exactly those six.
    const round = async (lines: string[], what: string): Promise<RunningAgent> => {
      await kcatProduce(ctx.bootstrap, 'resume', lines.slice(0, 3), { partition: 0 });
      await kcatProduce(ctx.bootstrap, 'resume', lines.slice(3), { partition: 1 });
      const agent = await ctx.start(job);
      await eventually(() => bodies(agent).length >= 6, 30000, what);
      assert.deepEqual([...bodies(agent)].sort(), lines);
      return agent;
    };
    const first = await round(['b0', 'b1', 'b2', 'b3', 'b4', 'b5'], 'the first agent logs the backlog');
    assert.equal(await first.stop(), 0);

    // Each partition is read in order, so had an old record come again it would precede the new ones.
    await round(['a0', 'a1', 'a2', 'a3', 'a4', 'a5'], 'the second agent logs what came meanwhile');
  });
});

test('two agents in one group share the partitions; when one is killed the other takes over and nothing is lost', async () => {
  await withKafka({ topics: [{ name: 'shared', partitions: 4 }] }, async (ctx) => {
    const job = sourceJob(ctx.bootstrap, 'shared', 'g-shared');
    const a = await ctx.start(job);
    await a.waitFor(/assigned shared\[0,1,2,3\]/, 30000);
    // Its own directory: an agent writes its job file where it starts.
    const b = await ctx.start(job, { dir: ctx.tempDir() });
    // After the rebalance each holds two partitions.
    const two = /joined group g-shared, assigned shared\[\d,\d\]\n/;
    await b.waitFor(two, 30000);
    await a.waitFor(two, 30000);

    const produce = async (tag: string): Promise<string[]> => {
      const all: string[] = [];
      for (let p = 0; p < 4; p++) {
        const lines = Array.from({ length: 10 }, (_, i) => `${tag}-p${p}-${i}`);
        await kcatProduce(ctx.bootstrap, 'shared', lines, { partition: p });
        all.push(...lines);
      }
      return all;
    };
    const first = await produce('one');
    await eventually(() => first.every((l) => bodies(a).includes(l) || bodies(b).includes(l)), 30000, 'both agents together log the first round');
    assert.ok(
      first.some((l) => bodies(a).includes(l)),
      'agent A consumed some partitions',
    );
    assert.ok(
      first.some((l) => bodies(b).includes(l)),
      'agent B consumed some partitions',
    );
    const aLogged = bodies(a);

    assert.equal(await a.stop('SIGKILL'), 'SIGKILL');
    const second = await produce('two');
    // B notices A is gone when its session times out, re-joins with all four partitions, and
    // reads A's partitions from A's committed offsets.
    await b.waitFor(/assigned shared\[0,1,2,3\]/, 30000);
    await eventually(() => second.every((l) => bodies(b).includes(l)), 30000, 'agent B logs the whole second round');
    const seen = new Set([...aLogged, ...bodies(b)]);
    for (const l of [...first, ...second]) assert.ok(seen.has(l), `${l} was delivered`);
  });
});

test('offsets are committed only after the channel took the batch: what the channel refused is read again by the next agent', async () => {
  await withKafka({ topics: [{ name: 'atl', partitions: 1 }] }, async (ctx) => {
    const all = Array.from({ length: 30 }, (_, i) => `a-${String(i).padStart(2, '0')}`);
    await kcatProduce(ctx.bootstrap, 'atl', all);
    const deadPort = ctx.port;
    // A channel of 10 whose sink can never deliver (no broker at deadPort): it fills and refuses.
    const first = await ctx.start(
      `
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = org.apache.flume.source.kafka.KafkaSource
a1.sources.r1.kafka.bootstrap.servers = ${ctx.bootstrap}
a1.sources.r1.kafka.topics = atl
a1.sources.r1.kafka.consumer.group.id = g-atl
a1.sources.r1.kafka.consumer.auto.offset.reset = earliest
a1.sources.r1.batchSize = 5
a1.sources.r1.channels = c1
${consumerTimings('a1.sources.r1')}
a1.channels.c1.type = memory
a1.channels.c1.capacity = 10
a1.channels.c1.transactionCapacity = 5
a1.channels.c1.keep-alive = 1
a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink
a1.sinks.k1.kafka.bootstrap.servers = 127.0.0.1:${deadPort}
a1.sinks.k1.channel = c1
`,
      { extraArgs: ['-Dflume.shutdown.grace.ms=500'] },
    );
    await first.waitFor(/Kafka source r1: channel refused \d+ events/, 30000);
    await first.stop();
    const stored = Number((await first.waitFor(/channel c1 stopped with (\d+) event\(s\) not delivered/, 1000))[1]);
    assert.ok(stored > 0 && stored <= 10, `the first agent stored ${stored} events`);

    const second = await ctx.start(sourceJob(ctx.bootstrap, 'atl', 'g-atl'));
    await eventually(() => bodies(second).length >= all.length - stored, 30000, 'the second agent reads what was refused');
    // Exactly the records after the last committed batch, in order.
    assert.deepEqual(bodies(second), all.slice(stored));
  });
});

test('the source outlives a Kafka restart: a new cluster at the same address is read once it is up', async () => {
  await withKafka({ topics: [{ name: 'phoenix', partitions: 1 }], restartable: true }, async (ctx) => {
    const agent = await ctx.start(sourceJob(ctx.bootstrap, 'phoenix', 'g-phoenix'));
    await kcatProduce(ctx.bootstrap, 'phoenix', ['old-0', 'old-1']);
    await eventually(() => bodies(agent).length >= 2, 30000, 'the first records');

    await ctx.restartKafka();
    // The new cluster does not know the group: kafkajs' consumer dies for good (GROUP_ID_NOT_FOUND),
    // and the source makes a new one, which joins and reads the new cluster from its start.
    await agent.waitFor(/Kafka source r1: consumer stopped \(.*\); making a new one in \d+ ms/, 30000);
    await agent.waitFor(/consuming as group g-phoenix[\s\S]*consuming as group g-phoenix/, 30000);
    await kcatProduce(ctx.bootstrap, 'phoenix', ['new-0', 'new-1', 'new-2']);
    await eventually(() => bodies(agent).includes('new-2'), 60000, 'records of the new cluster');
    assert.deepEqual(bodies(agent), ['old-0', 'old-1', 'new-0', 'new-1', 'new-2']);
  });
});

test('useFlumeEventFormat restores the headers Java Flume wrote; topics.regex, topicHeader and header.* are honoured', async () => {
  await withKafka({ topics: [{ name: 'fmt-a', partitions: 1 }] }, async (ctx) => {
    // Encoded by Apache Avro's Python implementation, as Java Flume's Kafka sink (useFlumeEventFormat) writes them.
    const values = await avroEncode([
      { headers: { host: 'web-1', topic: 'from-event' }, body: 'hello' },
      { headers: { host: 'web-2' }, body: 'world' },
    ]);
    await kcatProduceRaw(ctx.bootstrap, 'fmt-a', values, { key: 'k9', headers: { 'trace-id': 't-42' }, dir: ctx.dir });
    const agent = await ctx.start(
      sourceJob(
        ctx.bootstrap,
        'unused',
        'g-fmt',
        `
a1.sources.r1.kafka.topics.regex = ^fmt-
a1.sources.r1.useFlumeEventFormat = true
a1.sources.r1.topicHeader = kafkaTopic
a1.sources.r1.header.traceId = trace-id
`,
      ),
    );
    const events = await loggedAtLeast(agent, 2, 30000, 'two events');
    assert.deepEqual(
      events.map((e) => e.body),
      ['hello', 'world'],
    );
    assert.equal(events[0]!.headers.host, 'web-1');
    assert.equal(events[0]!.headers.topic, 'from-event');
    assert.equal(events[1]!.headers.host, 'web-2');
    for (const e of events) {
      assert.equal(e.headers.kafkaTopic, 'fmt-a');
      assert.equal(e.headers.key, 'k9');
      assert.equal(e.headers.traceId, 't-42');
      assert.equal(e.headers.partition, '0');
    }
  });
});
