import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtinRegistry } from '../builtins.js';
import { loadJob } from '../config/load.js';
import { Agent } from './agent.js';
import { silentLogger } from './logger.js';
import { withTransaction } from './transaction.js';
import { createEvent } from './event.js';

function plan(text: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-ts-agent-'));
  const file = path.join(dir, 'job.conf');
  fs.writeFileSync(file, text);
  const registry = builtinRegistry();
  const { plan, diagnostics } = loadJob([file], 'a1', registry);
  fs.rmSync(dir, { recursive: true });
  assert.ok(plan, JSON.stringify(diagnostics));
  return { plan, registry };
}

test('counters count every event through source, channel and sink', async () => {
  const { plan: p, registry } = plan(`
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = 2500
a1.sources.r1.batchSize = 100
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000
a1.sinks.k1.type = null
a1.sinks.k1.batchSize = 100
a1.sinks.k1.channel = c1
`);
  const agent = new Agent(p, registry, silentLogger);
  await agent.start();
  const byName = (type: string, name: string) => agent.counters.find((c) => c.Type === type && c.name === name)!.snapshot();
  const deadline = Date.now() + 10000;
  while (byName('SINK', 'k1').EventDrainSuccessCount !== 2500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await agent.stop();
  const src = byName('SOURCE', 'r1');
  const ch = byName('CHANNEL', 'c1');
  const sink = byName('SINK', 'k1');
  assert.equal(src.EventReceivedCount, 2500);
  assert.equal(src.EventAcceptedCount, 2500);
  assert.equal(src.AppendBatchAcceptedCount, 25);
  assert.equal(ch.EventPutAttemptCount, 2500);
  assert.equal(ch.EventPutSuccessCount, 2500);
  assert.equal(ch.EventTakeSuccessCount, 2500);
  assert.equal(ch.ChannelSize, 0);
  assert.equal(ch.ChannelCapacity, 1000);
  assert.equal(ch.ChannelFillPercentage, 0);
  assert.equal(sink.EventDrainAttemptCount, 2500);
  assert.equal(sink.EventDrainSuccessCount, 2500);
  assert.ok(Number(src.StartTime) > 0 && Number(src.StopTime) >= Number(src.StartTime));
  assert.equal(src.Type, 'SOURCE');
});

test('an idle sink wakes as soon as an event is committed, not after a back-off sleep', async () => {
  const { plan: p, registry } = plan(`
a1.channels = c1
a1.sinks = k1
a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
`);
  // The clock is mocked: the sink's back-off timers fire only when the test moves the
  // clock, so a take can happen only through the channel's "available" signal.
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const agent = new Agent(p, registry, silentLogger);
    await agent.start();
    const ch = agent.channels.get('c1')!;
    const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
    // Let the sink back off a few times (Flume would now sleep 1, 2, 3 s between polls).
    for (let ms = 0; ms < 3500; ms += 100) {
      mock.timers.tick(100);
      await turn();
    }
    await withTransaction(ch, (tx) => tx.put([createEvent('x')]));
    for (let i = 0; i < 1000 && ch.counter.EventTakeSuccessCount < 1; i++) await turn();
    assert.equal(ch.counter.EventTakeSuccessCount, 1, 'taken without any timer firing');
    await agent.stop();
  } finally {
    mock.timers.reset();
  }
});

test('a stop reports events left in a non-durable channel as lost, and those in a durable one as kept', async () => {
  const text = `
a1.sources = r1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = 0
a1.sources.r1.channels = c1 c2
a1.channels = c1 c2
a1.channels.c1.type = memory
a1.channels.c2.type = memory
`;
  const { plan: p, registry } = plan(text);
  const agent = new Agent(p, registry, silentLogger);
  await agent.start();
  const c1 = agent.channels.get('c1')!;
  const c2 = agent.channels.get('c2')!;
  Object.defineProperty(c2, 'durable', { value: true });
  await withTransaction(c1, (tx) => tx.put([createEvent('a'), createEvent('b')]));
  await withTransaction(c2, (tx) => tx.put([createEvent('c'), createEvent('d'), createEvent('e')]));
  // One event of c1 is taken by a transaction that never ends: it is not delivered either.
  const tx = c1.transaction();
  assert.equal((await tx.take(1)).length, 1);
  const report = await agent.stop(50);
  assert.equal(report.lost, 2);
  assert.deepEqual(report.held, [
    { channel: 'c1', events: 2, durable: false },
    { channel: 'c2', events: 3, durable: true },
  ]);
});
