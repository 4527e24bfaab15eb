import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir, startAgent, freePort, tcpExchange, eventually, jobText, netcatJob } from '../support/agent.js';
import { startKafkaMock, kcatConsume, kcatProduce } from '../support/kafka/cluster.js';
import { consumerTimings, requireKafkaTools } from './kafka-support.js';

test('snappy: the source reads a topic kcat wrote with snappy, the sink writes snappy that kcat reads', { timeout: 90_000 }, async () => {
  requireKafkaTools();
  const t = tempDir();
  const kafka = await startKafkaMock({ topics: [{ name: 'in', partitions: 1 }, { name: 'out', partitions: 1 }] });
  const outDir = path.join(t.dir, 'out');
  fs.mkdirSync(outDir);
  const agents: Awaited<ReturnType<typeof startAgent>>[] = [];
  try {
    const lines = Array.from({ length: 30 }, (_, i) => `snappy line ${i} ${'x'.repeat(50)}`);
    await kcatProduce(kafka.bootstrap, 'in', lines, { compression: 'snappy' });
    agents.push(await startAgent(jobText({
      sources: { r1: { type: 'org.apache.flume.source.kafka.KafkaSource', 'kafka.bootstrap.servers': kafka.bootstrap, 'kafka.topics': 'in', 'kafka.consumer.auto.offset.reset': 'earliest', channels: 'c1' } },
      channels: { c1: { type: 'memory' } },
      sinks: { k1: { type: 'file_roll', 'sink.directory': outDir, 'sink.rollInterval': 0, channel: 'c1' } },
    }) + consumerTimings('a1.sources.r1'), { dir: path.join(t.dir) }));
    const read = (): string[] => fs.readdirSync(outDir).flatMap((f) => fs.readFileSync(path.join(outDir, f), 'utf8').split('\n').filter(Boolean));
    await eventually(() => read().length === 30, 30000, 'snappy records read');
    assert.deepEqual(read(), lines);

    const port = await freePort();
    const sub = path.join(t.dir, 'sink');
    fs.mkdirSync(sub);
    agents.push(await startAgent(netcatJob(port, {
      type: 'org.apache.flume.sink.kafka.KafkaSink', 'kafka.bootstrap.servers': kafka.bootstrap, 'kafka.topic': 'out', 'kafka.producer.compression.type': 'snappy',
    }), { dir: sub }));
    assert.equal(await tcpExchange(port, lines.join('\n') + '\n', { expectBytes: 90 }), 'OK\n'.repeat(30));
    assert.deepEqual(await kcatConsume(kafka.bootstrap, 'out', { count: 30, timeoutMs: 20000 }), lines);
  } finally {
    for (const a of agents) await a.stop();
    await kafka.stop();
    t.cleanup();
  }
});
