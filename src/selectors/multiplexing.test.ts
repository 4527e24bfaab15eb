import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { SlicedEvent, createEvent } from '../core/event.js';
import { silentLogger } from '../core/logger.js';
import { resolveOptions } from '../core/options.js';
import { ChannelProcessor } from '../core/channel-processor.js';
import { withTransaction } from '../core/transaction.js';
import { builtinRegistry } from '../builtins.js';
import { channels, drain, names, selector } from '../../test/support/selectors.js';
import multiplexing from './multiplexing.js';

const ev = (h?: Record<string, string>) => createEvent('x', h);

test('multiplexing: mapping by exact header value, default for missing/blank/unmapped', () => {
  const cs = channels('c1', 'c2', 'c3');
  const s = selector(multiplexing, cs, { header: 'state', 'mapping.CZ': 'c1', 'mapping.US': 'c2 c3', default: 'c3' });
  assert.deepEqual(names(s.getRequiredChannels(ev({ state: 'CZ' }))), ['c1']);
  assert.deepEqual(names(s.getRequiredChannels(ev({ state: 'US' }))), ['c2', 'c3']);
  assert.deepEqual(names(s.getRequiredChannels(ev({ state: 'cz' }))), ['c3']);
  assert.deepEqual(names(s.getRequiredChannels(ev({ state: ' \t' }))), ['c3']);
  assert.deepEqual(names(s.getRequiredChannels(ev())), ['c3']);
  assert.equal(s.fixed, undefined);
});

test('multiplexing: the default header name is flume.selector.header; optional channels minus required ones', () => {
  const cs = channels('c1', 'c2', 'c3');
  const s = selector(multiplexing, cs, { 'mapping.A': 'c1', default: 'c2', 'optional.A': 'c1 c3', 'optional.B': 'c2 c3' });
  const a = ev({ 'flume.selector.header': 'A' });
  assert.deepEqual(names(s.getRequiredChannels(a)), ['c1']);
  assert.deepEqual(names(s.getOptionalChannels(a)), ['c3']);
  const b = ev({ 'flume.selector.header': 'B' });
  assert.deepEqual(names(s.getRequiredChannels(b)), ['c2']);
  assert.deepEqual(names(s.getOptionalChannels(b)), ['c3'], 'B has no mapping: the default channels are its required ones');
  assert.deepEqual(names(s.getOptionalChannels(ev())), []);
});

test('multiplexing without a default: unmapped events go nowhere and are counted', async () => {
  const cs = channels('c1', 'c2');
  const s = selector(multiplexing, cs, { header: 'h', 'mapping.a': 'c1', 'mapping.b': 'c2' });
  const cp = new ChannelProcessor(s, [], silentLogger);
  await cp.processEventBatch([createEvent('1', { h: 'a' }), createEvent('2', { h: 'zzz' }), createEvent('3', { h: 'b' }), createEvent('4'), createEvent('5', { h: 'a' })]);
  assert.deepEqual(await drain(cs[0]!), ['1', '5']);
  assert.deepEqual(await drain(cs[1]!), ['3']);
  assert.equal(cp.counters.UnroutedEventCount, 2);
});

test("multiplexing: a channel that is not the source's is a config error naming the key", () => {
  const cs = channels('c1');
  const ctx = new Context({ 'mapping.a': 'c1 c9' }, new Map(), 'a1.sources.r1.selector.');
  const { options } = resolveOptions(multiplexing.options, ctx);
  assert.throws(
    () => multiplexing.create({ name: 'r1', options, context: ctx, logger: silentLogger, registry: builtinRegistry(), channels: cs }),
    /a1\.sources\.r1\.selector\.mapping\.a: channel "c9" is not one of the channels of source r1/,
  );
});

test("multiplexing: given the source's channels, validate names every key with an unknown channel", () => {
  const ctx = new Context({ default: 'c1', 'mapping.a': 'c1 c9', 'optional.b': 'cX' }, new Map(), 'a1.sources.r1.selector.');
  const { options } = resolveOptions(multiplexing.options, ctx);
  const validate = multiplexing.validate as (o: unknown, c: Context, r: unknown, scope?: { channels?: readonly string[] }) => { message: string }[];
  assert.deepEqual(validate(options, ctx, builtinRegistry()), []);
  assert.deepEqual(
    validate(options, ctx, builtinRegistry(), { channels: ['c1', 'c2'] }).map((p) => p.message),
    ['a1.sources.r1.selector.mapping.a: channel "c9" is not one of the source\'s channels (c1 c2)', 'a1.sources.r1.selector.optional.b: channel "cX" is not one of the source\'s channels (c1 c2)'],
  );
});

test('a channel that gets part of a batch of sliced lines holds copies, not the read they were cut from', async () => {
  const [c1, c2] = channels('c1', 'c2');
  const s = selector(multiplexing, [c1!, c2!], { header: 'to', 'mapping.a': 'c1', 'mapping.b': 'c2' });
  const p = new ChannelProcessor(s, [], silentLogger);
  const read = Buffer.from('first\nsecond\nthird\n');
  const lines = [new SlicedEvent(read, 0, 5), new SlicedEvent(read, 6, 12), new SlicedEvent(read, 13, 18)];
  lines.forEach((e, i) => (e.headers.to = i === 1 ? 'b' : 'a'));
  await p.processEventBatch(lines);
  const [t1, t2] = [await withTransaction(c1!, (tx) => tx.take(10)), await withTransaction(c2!, (tx) => tx.take(10))];
  assert.deepEqual(
    t1.map((e) => e.body.toString()),
    ['first', 'third'],
  );
  assert.deepEqual(
    t2.map((e) => e.body.toString()),
    ['second'],
  );
  // Each channel's events hold their own bytes only: 'first' + 'third', and 'second'.
  assert.deepEqual(
    [...t1, ...t2].map((e) => (e instanceof SlicedEvent ? e.source.length : -1)),
    [10, 10, 6],
  );
  assert.deepEqual(
    t1.map((e) => e.headers.to),
    ['a', 'a'],
  );
});
