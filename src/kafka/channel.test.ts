// The Kafka channel's transaction semantics, in-process against librdkafka's mock
// cluster; what it committed to Kafka is read back with kcat as a group member.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import kafkaChannel from '../channels/kafka.js';
import type { Channel } from '../core/channel.js';
import type { ChannelDefinition } from '../core/component.js';
import { Context } from '../core/context.js';
import type { FlumeEvent } from '../core/event.js';
import { silentLogger } from '../core/logger.js';
import { resolveOptions } from '../core/options.js';
import { withTransaction } from '../core/transaction.js';
import { KCAT, kafkaToolsMissing, kcatConsume, startKafkaMock, type KafkaMock } from '../../test/support/kafka/cluster.js';

function requireTools(): void {
  const missing = kafkaToolsMissing();
  if (missing) assert.fail(missing);
}

function makeChannel(bootstrap: string, topic: string, group: string): Channel {
  const def = kafkaChannel as ChannelDefinition;
  const ctx = new Context(
    {
      'kafka.bootstrap.servers': bootstrap,
      'kafka.topic': topic,
      'kafka.consumer.group.id': group,
      'kafka.consumer.session.timeout.ms': '6000',
      'kafka.consumer.heartbeat.interval.ms': '500',
      'kafka.consumer.fetch.max.wait.ms': '500',
    },
    new Map(),
    'a1.channels.c1.',
  );
  const { options, problems } = resolveOptions(def.options, ctx);
  assert.deepEqual(problems, []);
  assert.deepEqual(def.validate?.(options, ctx, { lookup: () => undefined }) ?? [], []);
  return def.create({ name: 'c1', options, context: ctx, logger: silentLogger, registry: { lookup: () => undefined } });
}

const ev = (body: string): FlumeEvent => ({ headers: { n: body }, body: Buffer.from(body) });
const bodies = (events: FlumeEvent[]): string[] => events.map((e) => e.body.toString());

/** Takes in one transaction, waiting (bounded) for the consumer to have fetched `n` events. */
async function takeWhenReady(ch: Channel, n: number): Promise<{ events: FlumeEvent[]; commit: () => Promise<void>; rollback: () => Promise<void> }> {
  const deadline = Date.now() + 30000;
  while (ch.size < n) {
    if (Date.now() > deadline) assert.fail(`the channel fetched ${ch.size} of ${n} events within 30 s`);
    await ch.waitAvailable(500);
  }
  const tx = ch.transaction();
  const events = await tx.take(n);
  return { events, commit: () => tx.commit(), rollback: () => tx.rollback() };
}

/** The offset a new member of `group` starts `topic` partition 0 at (kcat as a balanced consumer). */
async function committedPosition(bootstrap: string, topic: string, group: string): Promise<number> {
  const args = ['-b', bootstrap, '-G', group, '-q', '-c', '1', '-f', '%o\n', '-X', 'auto.offset.reset=earliest', '-X', 'enable.auto.commit=false', topic];
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn(KCAT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let s = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (s += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => p.kill('SIGTERM'), 40000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      if (s.trim() === '') reject(new Error(`kcat -G ${group} read nothing (exit ${code}): ${err}`));
      else resolve(s);
    });
  });
  return Number(out.trim().split('\n')[0]);
}

test('Kafka channel: a put commit returns once Kafka has the events; a rollback hands them out again; a take commit moves the group offset', async () => {
  requireTools();
  let k: KafkaMock | undefined;
  const ch0: Channel[] = [];
  try {
    k = await startKafkaMock({ topics: [{ name: 'ch', partitions: 1 }] });
    const ch = makeChannel(k.bootstrap, 'ch', 'g-ch');
    ch0.push(ch);
    await ch.start();

    await withTransaction(ch, (tx) => tx.put([ev('e0'), ev('e1'), ev('e2')]));
    // No waiting: the commit resolved after the acks.
    assert.equal((await kcatConsume(k.bootstrap, 'ch', { count: 3, timeoutMs: 5000 })).length, 3);

    const t1 = await takeWhenReady(ch, 3);
    assert.deepEqual(bodies(t1.events), ['e0', 'e1', 'e2']);
    await t1.rollback();
    assert.equal(ch.size, 3, 'rolled-back events are back in the channel');

    const t2 = await takeWhenReady(ch, 2);
    assert.deepEqual(bodies(t2.events), ['e0', 'e1'], 'handed out again, first and in order');
    assert.deepEqual(t2.events[0]!.headers, { n: 'e0' });
    // Take the rest in another transaction, which rolls back.
    const t3 = ch.transaction();
    const last = await t3.take(5);
    assert.deepEqual(bodies(last), ['e2']);
    await t2.commit();
    await t3.rollback();
    await ch.stop();
    ch0.length = 0;

    // e0 and e1 were committed, e2 was not: the group resumes at offset 2.
    assert.equal(await committedPosition(k.bootstrap, 'ch', 'g-ch'), 2);
  } finally {
    for (const c of ch0) await c.stop();
    await k?.stop();
  }
});

test('Kafka channel: the group offset never passes an event still taken by an open transaction', async () => {
  requireTools();
  let k: KafkaMock | undefined;
  const open: Channel[] = [];
  try {
    k = await startKafkaMock({ topics: [{ name: 'order', partitions: 1 }] });
    const ch = makeChannel(k.bootstrap, 'order', 'g-order');
    open.push(ch);
    await ch.start();
    await withTransaction(ch, (tx) => tx.put([ev('o0'), ev('o1')]));

    const a = await takeWhenReady(ch, 1);
    assert.deepEqual(bodies(a.events), ['o0']);
    const b = ch.transaction();
    assert.deepEqual(bodies(await b.take(1)), ['o1']);
    // o1 commits first; o0 is still out, so nothing may be committed yet.
    await b.commit();
    await a.rollback();
    await ch.stop();
    open.length = 0;

    // At-least-once: o0 was never committed, so the group starts at 0 (o1 comes again too).
    assert.equal(await committedPosition(k.bootstrap, 'order', 'g-order'), 0);
  } finally {
    for (const c of open) await c.stop();
    await k?.stop();
  }
});
