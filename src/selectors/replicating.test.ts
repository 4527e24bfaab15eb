import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { createEvent } from '../core/event.js';
import { silentLogger } from '../core/logger.js';
import { resolveOptions } from '../core/options.js';
import { ChannelProcessor } from '../core/channel-processor.js';
import { builtinRegistry } from '../builtins.js';
import { MemoryChannel, options as memoryOptions } from '../channels/memory.js';
import { channels, drain, names, selector } from '../../test/support/selectors.js';
import replicating from './replicating.js';

test('replicating: every channel, with optional ones apart; a failing optional channel does not fail the put', async () => {
  const [c1, c2] = channels('c1', 'c2');
  const small = new MemoryChannel('c3', resolveOptions(memoryOptions, new Context({ capacity: '1', 'keep-alive': '0' })).options);
  const s = selector(replicating, [c1!, c2!, small], { optional: 'c3' });
  assert.deepEqual(names(s.fixed!.required), ['c1', 'c2']);
  assert.deepEqual(names(s.fixed!.optional), ['c3']);
  const cp = new ChannelProcessor(s, [], silentLogger);
  await cp.processEventBatch([createEvent('a'), createEvent('b')]);
  assert.deepEqual(await drain(c1!), ['a', 'b']);
  assert.deepEqual(await drain(c2!), ['a', 'b']);
  assert.equal(small.size, 0);
  assert.equal(cp.counters.OptionalChannelPutFailCount, 2);
});

test('a failed put on a required channel fails the batch; channels committed before keep it', async () => {
  const [c1] = channels('c1');
  const small = new MemoryChannel('c2', resolveOptions(memoryOptions, new Context({ capacity: '1', 'keep-alive': '0' })).options);
  const cp = new ChannelProcessor(selector(replicating, [c1!, small], {}), [], silentLogger);
  await assert.rejects(cp.processEventBatch([createEvent('a'), createEvent('b')]), { name: 'ChannelFullError' });
  assert.deepEqual(await drain(c1!), ['a', 'b']);
  assert.equal(small.size, 0);
});

test("replicating: given the source's channels, an unknown optional channel is an error", () => {
  const ctx = new Context({ optional: 'c2 c7' }, new Map(), 'a1.sources.r1.selector.');
  const { options } = resolveOptions(replicating.options, ctx);
  const validate = replicating.validate as (o: unknown, c: Context, r: unknown, scope?: { channels?: readonly string[] }) => { message: string }[];
  assert.deepEqual(
    validate(options, ctx, builtinRegistry(), { channels: ['c1', 'c2'] }).map((p) => p.message),
    ['a1.sources.r1.selector.optional: channel "c7" is not one of the source\'s channels (c1 c2)'],
  );
});
