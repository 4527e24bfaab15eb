import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { silentLogger } from '../core/logger.js';
import { resolveOptions } from '../core/options.js';
import type { Channel } from '../core/channel.js';
import type { Status } from '../core/lifecycle.js';
import type { Sink } from '../core/sink.js';
import { builtinRegistry } from '../builtins.js';
import failover, { FailoverSinkProcessor, javaHashMapOrder } from './failover.js';

class FakeSink implements Sink {
  readonly channel = {} as Channel;
  failing = false;
  status: Status = 'READY';
  calls = 0;
  started = false;
  constructor(readonly name: string) {}
  async start(): Promise<void> {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.started = false;
  }
  async process(): Promise<Status> {
    this.calls++;
    if (this.failing) throw new Error(`${this.name} is down`);
    return this.status;
  }
}

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** Which sink handled each of `n` calls (the one whose call count went up last and did not throw). */
async function who(p: FailoverSinkProcessor, sinks: FakeSink[]): Promise<string> {
  const before = sinks.map((s) => s.calls);
  await p.process();
  const called = sinks.filter((s, i) => s.calls > before[i]! && !s.failing);
  return called.map((s) => s.name).join(',');
}

test('the highest priority sink works; on failure the same call moves to the next one', async () => {
  const c = clock();
  const k1 = new FakeSink('k1');
  const k2 = new FakeSink('k2');
  const k3 = new FakeSink('k3');
  const p = new FailoverSinkProcessor(
    [k1, k2, k3],
    new Map([
      ['k1', 5],
      ['k2', 10],
      ['k3', 1],
    ]),
    30000,
    silentLogger,
    c.now,
  );
  await p.start();
  assert.ok(k1.started && k2.started && k3.started);
  assert.equal(await who(p, [k1, k2, k3]), 'k2');
  k2.failing = true;
  assert.equal(await who(p, [k1, k2, k3]), 'k1');
  assert.equal(p.activeSink, k1);
  assert.equal(await who(p, [k1, k2, k3]), 'k1');
});

test('a failed sink is retried after min(maxpenalty, 2^n s) and work moves back when it recovers', async () => {
  const c = clock();
  const k1 = new FakeSink('k1');
  const k2 = new FakeSink('k2');
  const p = new FailoverSinkProcessor(
    [k1, k2],
    new Map([
      ['k1', 10],
      ['k2', 5],
    ]),
    10000,
    silentLogger,
    c.now,
  );
  k1.failing = true;
  await p.process(); // k1 fails: 2 s penalty, k2 takes the call
  const retries: number[] = [];
  let last = 0;
  for (let ms = 0; ms <= 60000; ms += 100) {
    c.advance(100);
    const before = k1.calls;
    await p.process();
    if (k1.calls > before) {
      retries.push(ms + 100 - last);
      last = ms + 100;
    }
  }
  // Retried strictly after each penalty: 2 s, then 4 s, 8 s, then capped at maxpenalty (10 s).
  assert.deepEqual(retries.slice(0, 6), [2100, 4100, 8100, 10100, 10100, 10100]);
  k1.failing = false;
  c.advance(10100);
  assert.equal(await who(p, [k1, k2]), 'k1');
  assert.equal(p.activeSink, k1);
  assert.equal(await who(p, [k1, k2]), 'k1');
  // A new failure starts over at 2 s.
  k1.failing = true;
  await p.process();
  k1.failing = false;
  c.advance(1900);
  assert.equal(await who(p, [k1, k2]), 'k2');
  c.advance(200);
  assert.equal(await who(p, [k1, k2]), 'k1');
});

test('a retried sink that returns BACKOFF stays on the fail list and is tried first on every call', async () => {
  const c = clock();
  const k1 = new FakeSink('k1');
  const k2 = new FakeSink('k2');
  const p = new FailoverSinkProcessor(
    [k1, k2],
    new Map([
      ['k1', 10],
      ['k2', 5],
    ]),
    30000,
    silentLogger,
    c.now,
  );
  k1.failing = true;
  await p.process();
  k1.failing = false;
  k1.status = 'BACKOFF';
  c.advance(2001);
  assert.equal(await p.process(), 'BACKOFF');
  assert.equal(p.activeSink, k2);
  const k2calls = k2.calls;
  assert.equal(await p.process(), 'BACKOFF');
  assert.equal(k2.calls, k2calls, 'the active sink is not called while the retried one answers');
  k1.status = 'READY';
  assert.equal(await p.process(), 'READY');
  assert.equal(p.activeSink, k1);
});

test('when every sink failed the call throws (the events stay in the channel)', async () => {
  const c = clock();
  const k1 = new FakeSink('k1');
  const k2 = new FakeSink('k2');
  k1.failing = k2.failing = true;
  const p = new FailoverSinkProcessor([k1, k2], new Map(), 30000, silentLogger, c.now);
  await assert.rejects(p.process(), /All sinks failed to process, nothing left to failover to/);
  await assert.rejects(p.process(), /All sinks failed/);
  assert.equal(k1.calls + k2.calls, 2, 'penalised sinks are not called before their time');
});

test('implicit priorities follow Java HashMap order of the names; a duplicate priority leaves the sink out', async () => {
  assert.deepEqual(javaHashMapOrder(['b', 'a']), ['a', 'b']);
  assert.deepEqual(javaHashMapOrder(['k2', 'k1']), ['k1', 'k2']);
  const a = new FakeSink('a');
  const b = new FakeSink('b');
  const p = new FailoverSinkProcessor([b, a], new Map(), 30000, silentLogger);
  assert.equal(p.activeSink, a, 'Flume hands -1 to the first name in hash order');
  const x = new FakeSink('x');
  const y = new FakeSink('y');
  const q = new FailoverSinkProcessor(
    [x, y],
    new Map([
      ['x', 3],
      ['y', 3],
    ]),
    30000,
    silentLogger,
  );
  x.failing = true;
  await assert.rejects(q.process(), /All sinks failed/);
  assert.equal(y.calls, 0);
});

test('options: maxpenalty and priority.<sink> are checked, naming the key', () => {
  const ctx = new Context({ maxpenalty: '5000', 'priority.k1': 'high', 'priority.k2': '7' }, new Map(), 'a1.sinkgroups.g1.processor.');
  const { options, problems } = resolveOptions(failover.options, ctx);
  assert.deepEqual(problems, []);
  assert.equal(options.maxpenalty, 5000);
  const vp = failover.validate!(options, ctx, builtinRegistry());
  assert.equal(vp.length, 1);
  assert.match(vp[0]!.message, /^a1\.sinkgroups\.g1\.processor\.priority\.k1: expected an integer, got "high"/);
  const bad = resolveOptions(failover.options, new Context({ maxpenalty: 'x' }, new Map(), 'p.'));
  assert.match(bad.problems[0]!.message, /p\.maxpenalty: expected an integer/);
});

test("given the group's sinks, a priority for another sink is warned about", () => {
  const ctx = new Context({ 'priority.k1': '1', 'priority.k9': '2' }, new Map(), 'a1.sinkgroups.g1.processor.');
  const { options } = resolveOptions(failover.options, ctx);
  const validate = failover.validate as (o: unknown, c: Context, r: unknown, scope?: { sinks?: readonly string[] }) => { severity: string; message: string }[];
  assert.deepEqual(
    validate(options, ctx, builtinRegistry(), { sinks: ['k1', 'k2'] }).map((p) => `${p.severity} ${p.message}`),
    ['warning a1.sinkgroups.g1.processor.priority.k9: sink "k9" is not in this sink group (k1 k2); ignored'],
  );
});
