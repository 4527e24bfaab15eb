import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { resolveOptions } from '../core/options.js';
import { withTransaction } from '../core/transaction.js';
import { ChannelError, ChannelFullError } from '../core/errors.js';
import { createEvent, type FlumeEvent } from '../core/event.js';
import { MemoryChannel, options } from './memory.js';

function channel(props: Record<string, string> = {}): MemoryChannel {
  const { options: o, problems } = resolveOptions(options, new Context(props));
  assert.deepEqual(problems, []);
  return new MemoryChannel('c1', o);
}
const ev = (s: string): FlumeEvent => createEvent(s);
const bodies = (es: FlumeEvent[]): string[] => es.map((e) => e.body.toString());

test('puts are invisible until commit, then taken in order', async () => {
  const ch = channel();
  const tx = ch.transaction();
  await tx.put([ev('a'), ev('b')]);
  assert.equal(ch.size, 0);
  assert.deepEqual(await withTransaction(ch, (t) => t.take(10)), []);
  await tx.commit();
  assert.equal(ch.size, 2);
  assert.deepEqual(bodies(await withTransaction(ch, (t) => t.take(10))), ['a', 'b']);
  assert.equal(ch.size, 0);
});

test('a rolled-back put leaves nothing behind', async () => {
  const ch = channel();
  await assert.rejects(
    withTransaction(ch, async (t) => {
      await t.put([ev('x')]);
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(ch.size, 0);
});

test('rollback returns taken events to the head, in their order', async () => {
  const ch = channel();
  await withTransaction(ch, (t) => t.put(['1', '2', '3', '4'].map(ev)));
  const tx = ch.transaction();
  assert.deepEqual(bodies(await tx.take(2)), ['1', '2']);
  // Another transaction commits more events while the first is open.
  await withTransaction(ch, (t) => t.put([ev('5')]));
  await tx.rollback();
  assert.deepEqual(bodies(await withTransaction(ch, (t) => t.take(10))), ['1', '2', '3', '4', '5']);
  assert.equal(ch.counter.EventTakeSuccessCount, 5);
  assert.equal(ch.counter.EventPutSuccessCount, 5);
});

test('a batch larger than transactionCapacity is refused', async () => {
  const ch = channel({ capacity: '10', transactionCapacity: '3' });
  await assert.rejects(
    withTransaction(ch, (t) => t.put(['1', '2', '3', '4'].map(ev))),
    (e: Error) => e instanceof ChannelError && /Put queue for MemoryTransaction of capacity 3 full/.test(e.message),
  );
  assert.equal(ch.size, 0);
  await withTransaction(ch, (t) => t.put(['1', '2', '3'].map(ev)));
  await withTransaction(ch, (t) => t.put(['4', '5', '6'].map(ev)));
  // Takes are bounded by transactionCapacity too.
  const tx = ch.transaction();
  assert.equal((await tx.take(10)).length, 3);
  await assert.rejects(tx.take(1), /Take list for MemoryTransaction, capacity 3 full/);
  await tx.rollback();
  assert.equal(ch.size, 6);
});

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a put beyond capacity waits keep-alive, then fails with a channel-full error', async () => {
  // On a mocked clock: the wait is exactly keep-alive, whatever the machine's load.
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const ch = channel({ capacity: '3', transactionCapacity: '3', 'keep-alive': '1' });
    await withTransaction(ch, (t) => t.put(['1', '2', '3'].map(ev)));
    let failed: unknown;
    const put = withTransaction(ch, (t) => t.put([ev('4')])).catch((e: unknown) => (failed = e));
    await turn();
    mock.timers.tick(999);
    for (let i = 0; i < 10; i++) await turn();
    const outcome = (): unknown => failed;
    assert.equal(outcome(), undefined, 'still waiting before keep-alive passed');
    mock.timers.tick(1);
    await put;
    const err = outcome();
    assert.ok(err instanceof ChannelFullError && err.code === 'FTS_ERR_CHANNEL_FULL', String(err));
    assert.equal(ch.size, 3);
  } finally {
    mock.timers.reset();
  }
});

test('a waiting put goes through as soon as a take commits', async () => {
  // The clock is mocked and never moved: the put can only complete through the take's commit.
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const ch = channel({ capacity: '2', transactionCapacity: '2', 'keep-alive': '3' });
    await withTransaction(ch, (t) => t.put(['1', '2'].map(ev)));
    let done = false;
    const put = withTransaction(ch, (t) => t.put([ev('3')])).then(() => (done = true));
    await turn();
    const isDone = (): boolean => done;
    assert.equal(isDone(), false, 'waits while the channel is full');
    await withTransaction(ch, (t) => t.take(1));
    for (let i = 0; i < 100 && !isDone(); i++) await turn();
    assert.equal(isDone(), true, 'the put went through without any timer firing');
    await put;
    assert.deepEqual(bodies(await withTransaction(ch, (t) => t.take(5))), ['2', '3']);
  } finally {
    mock.timers.reset();
  }
});

test('taken events keep their room until the take commits', async () => {
  const ch = channel({ capacity: '2', transactionCapacity: '2', 'keep-alive': '0' });
  await withTransaction(ch, (t) => t.put(['1', '2'].map(ev)));
  const tx = ch.transaction();
  await tx.take(2);
  assert.equal(ch.size, 0);
  await assert.rejects(
    withTransaction(ch, (t) => t.put([ev('3')])),
    ChannelFullError,
  );
  await tx.commit();
  await withTransaction(ch, (t) => t.put([ev('3')]));
  assert.equal(ch.size, 1);
});

test('byteCapacity bounds the bodies held, in 100-byte slots', async () => {
  // 1000 bytes with 20% headroom = 800 bytes = 8 slots.
  const ch = channel({ capacity: '100', transactionCapacity: '100', byteCapacity: '1000', 'keep-alive': '0' });
  const big = createEvent(Buffer.alloc(250)); // 3 slots
  await withTransaction(ch, (t) => t.put([big, big])); // 6 slots
  await assert.rejects(
    withTransaction(ch, (t) => t.put([big])),
    /Byte capacity allocated to store event body 800 reached/,
  );
  await withTransaction(ch, (t) => t.put([createEvent(''), createEvent('x')])); // 1 slot each, even empty
  assert.equal(ch.size, 4);
  await assert.rejects(
    withTransaction(ch, (t) => t.put([createEvent('y')])),
    /Byte capacity/,
  );
  await withTransaction(ch, (t) => t.take(1));
  await withTransaction(ch, (t) => t.put([big]));
  assert.equal(ch.size, 4);
});

test('byteCapacity = 0 means no byte limit', async () => {
  const ch = channel({ capacity: '10', transactionCapacity: '10', byteCapacity: '0' });
  await withTransaction(ch, (t) => t.put([createEvent(Buffer.alloc(10_000_000))]));
  assert.equal(ch.size, 1);
});

test('counters count attempts and successes as Flume does', async () => {
  const ch = channel();
  await withTransaction(ch, (t) => t.put(['1', '2', '3'].map(ev)));
  await withTransaction(ch, (t) => t.take(2));
  await withTransaction(ch, (t) => t.take(5)); // takes 1 and finds nothing more: one extra attempt
  assert.equal(ch.counter.EventPutAttemptCount, 3);
  assert.equal(ch.counter.EventPutSuccessCount, 3);
  assert.equal(ch.counter.EventTakeSuccessCount, 3);
  assert.equal(ch.counter.EventTakeAttemptCount, 4);
  assert.equal(ch.counter.ChannelSize, 0);
  assert.equal(ch.counter.ChannelCapacity, 100);
});

test('a transaction refuses use after it ended, naming its state', async () => {
  const ch = channel();
  const tx = ch.transaction();
  await tx.commit();
  await assert.rejects(tx.put([ev('a')]), /cannot put: transaction is COMMITTED/);
  await assert.rejects(tx.commit(), /cannot commit: transaction is COMMITTED/);
});

test('waitAvailable resolves when a put commits', async () => {
  const ch = channel();
  let woke = false;
  const w = ch.waitAvailable(5000).then(() => (woke = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(woke, false);
  await withTransaction(ch, (t) => t.put([ev('a')]));
  await w;
  assert.equal(woke, true);
});
