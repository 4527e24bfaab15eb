import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { silentLogger } from '../core/logger.js';
import { opt, resolveOptions } from '../core/options.js';
import type { Channel } from '../core/channel.js';
import type { Status } from '../core/lifecycle.js';
import type { Sink, SinkProcessor } from '../core/sink.js';
import { builtinRegistry } from '../builtins.js';
import type { Registry } from '../registry/registry.js';
import loadBalance, { LoadBalancingSinkProcessor } from './load-balance.js';
import { RandomSelector, RoundRobinSelector, defineSinkSelector } from './sink-selector.js';

class FakeSink implements Sink {
  readonly channel = {} as Channel;
  failing = false;
  calls = 0;
  ok = 0;
  constructor(readonly name: string) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async process(): Promise<Status> {
    this.calls++;
    if (this.failing) throw new Error(`${this.name} is down`);
    this.ok++;
    return 'READY';
  }
}

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

async function served(p: SinkProcessor, sinks: FakeSink[], calls: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < calls; i++) {
    const before = sinks.map((s) => s.ok);
    await p.process();
    out.push(sinks.find((s, j) => s.ok > before[j]!)!.name);
  }
  return out;
}

function create(props: Record<string, string>, sinks: Sink[], registry: Registry = builtinRegistry()): SinkProcessor {
  const ctx = new Context(props, new Map(), 'a1.sinkgroups.g1.processor.');
  const { options, problems } = resolveOptions(loadBalance.options, ctx);
  problems.push(...loadBalance.validate!(options, ctx, registry).filter((p) => p.severity === 'error'));
  assert.deepEqual(problems, []);
  return loadBalance.create({ name: 'g1', options, context: ctx, logger: silentLogger, registry, sinks });
}

test('round_robin starts each call one sink further', async () => {
  const ks = ['k1', 'k2', 'k3'].map((n) => new FakeSink(n));
  const p = create({}, ks);
  assert.deepEqual(await served(p, ks, 7), ['k1', 'k2', 'k3', 'k1', 'k2', 'k3', 'k1']);
});

test('a failing sink is skipped within the call; without backoff it is tried again every turn', async () => {
  const ks = ['k1', 'k2', 'k3'].map((n) => new FakeSink(n));
  ks[1]!.failing = true;
  const p = create({ selector: 'ROUND_ROBIN' }, ks);
  assert.deepEqual(await served(p, ks, 6), ['k1', 'k3', 'k3', 'k1', 'k3', 'k3']);
  assert.equal(ks[1]!.calls, 2);
});

test('with backoff a failed sink is left out 2 s, 4 s, 8 s ... up to maxTimeOut', async () => {
  const c = clock();
  const k1 = new FakeSink('k1');
  const k2 = new FakeSink('k2');
  const sel = new RoundRobinSelector([k1, k2], true, 5000, c.now);
  const p = new LoadBalancingSinkProcessor([k1, k2], sel, silentLogger);
  k1.failing = true;
  const tries: number[] = [];
  let last = 0;
  for (let t = 0; t <= 40000; t += 100) {
    const before = k1.calls;
    await p.process();
    if (k1.calls > before) {
      tries.push(t - last);
      last = t;
    }
    c.advance(100);
  }
  // First try at 0; then after 2 s, 4 s, then capped at 5 s (strictly after each restore time).
  assert.deepEqual(tries.slice(0, 6), [0, 2100, 4100, 5100, 5100, 5100]);
  assert.equal(k2.ok + 0 > 0, true);
  k1.failing = false;
  c.advance(5100);
  assert.deepEqual(await served(p, [k1, k2], 4), ['k1', 'k2', 'k1', 'k2']);
});

test('when every sink fails the call throws', async () => {
  const ks = ['k1', 'k2'].map((n) => new FakeSink(n));
  for (const k of ks) k.failing = true;
  await assert.rejects(create({ selector: 'random', backoff: 'true' }, ks).process(), /All configured sinks have failed/);
  await assert.rejects(create({}, ks).process(), /All configured sinks have failed/);
});

test('random spreads calls over the sinks', async () => {
  const ks = ['k1', 'k2'].map((n) => new FakeSink(n));
  const p = create({ selector: 'random' }, ks);
  await served(p, ks, 2000);
  assert.ok(ks[0]!.ok > 850 && ks[1]!.ok > 850, `${ks[0]!.ok} / ${ks[1]!.ok}`);
  const order = new RandomSelector(ks, false, 30000, undefined, () => 0).order();
  assert.deepEqual(
    order.map((s) => s.name),
    ['k2', 'k1'],
  );
});

test('selector.maxTimeOut (and maxTimeout) are read; unknown selector keys warn; an unknown selector is an error', () => {
  const ctx = (props: Record<string, string>) => new Context(props, new Map(), 'a1.sinkgroups.g1.processor.');
  assert.equal(resolveOptions(loadBalance.options, ctx({ 'selector.maxTimeOut': '10000' })).options['selector.maxTimeOut'], 10000);
  assert.equal(resolveOptions(loadBalance.options, ctx({ 'selector.maxTimeout': '7000' })).options['selector.maxTimeOut'], 7000);
  const c = ctx({ selector: 'fastest', 'selector.bogus': '1' });
  const { options } = resolveOptions(loadBalance.options, c);
  const problems = loadBalance.validate!(options, c, builtinRegistry());
  assert.match(problems[0]!.message, /^a1\.sinkgroups\.g1\.processor\.selector: unknown sink selector "fastest"/);
  const c2 = ctx({ 'selector.maxTimeOuts': '1' });
  const w = loadBalance.validate!(resolveOptions(loadBalance.options, c2).options, c2, builtinRegistry());
  assert.equal(w[0]!.severity, 'warning');
  assert.match(w[0]!.message, /selector\.maxTimeOuts: unknown key/);
});

test('a sink selector registered by a plugin orders the sinks', async () => {
  const reverse = defineSinkSelector({
    type: 'com.example.ReverseSelector',
    description: 'last sink first',
    options: { skip: opt.integer(0, 'sinks to leave out') },
    create: ({ sinks, options }) => ({
      order: () => [...sinks].reverse().slice(options.skip),
      informSinkFailed: () => undefined,
    }),
  });
  const registry = builtinRegistry().with(reverse);
  const ks = ['k1', 'k2', 'k3'].map((n) => new FakeSink(n));
  const p = create({ selector: 'com.example.ReverseSelector', 'selector.skip': '1' }, ks, registry);
  assert.deepEqual(await served(p, ks, 2), ['k2', 'k2']);
});
