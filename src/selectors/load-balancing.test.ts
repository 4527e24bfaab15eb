import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { createEvent } from '../core/event.js';
import { silentLogger } from '../core/logger.js';
import { resolveOptions } from '../core/options.js';
import { ChannelProcessor } from '../core/channel-processor.js';
import { withTransaction } from '../core/transaction.js';
import type { Channel } from '../core/channel.js';
import type { ChannelSelector } from '../core/routing.js';
import type { SelectorDefinition } from '../core/component.js';
import { builtinRegistry } from '../builtins.js';
import { MemoryChannel, options as memoryOptions } from '../channels/memory.js';
import loadBalancing from './load-balancing.js';

function channels(...names: string[]): MemoryChannel[] {
  return names.map((n) => new MemoryChannel(n, resolveOptions(memoryOptions, new Context({ capacity: '100', 'keep-alive': '0' })).options));
}

function selector(def: SelectorDefinition, chans: Channel[], props: Record<string, string>): ChannelSelector {
  const ctx = new Context(props, new Map(), 'a1.sources.r1.selector.');
  const { options, problems } = resolveOptions(def.options, ctx);
  problems.push(...(def.validate?.(options, ctx, builtinRegistry()) ?? []));
  assert.deepEqual(problems, []);
  return def.create({ name: 'r1', options, context: ctx, logger: silentLogger, registry: builtinRegistry(), channels: chans });
}

const names = (cs: readonly Channel[]): string[] => cs.map((c) => c.name);
const ev = (h?: Record<string, string>) => createEvent('x', h);

async function drain(ch: Channel): Promise<string[]> {
  return (await withTransaction(ch, (tx) => tx.take(100))).map((e) => e.body.toString());
}

test('load_balancing: round_robin gives each event one channel in turn', async () => {
  const cs = channels('c1', 'c2', 'c3');
  const s = selector(loadBalancing, cs, {});
  const cp = new ChannelProcessor(s, [], silentLogger);
  await cp.processEventBatch(['0', '1', '2', '3', '4', '5', '6'].map((b) => createEvent(b)));
  assert.deepEqual(await drain(cs[0]!), ['0', '3', '6']);
  assert.deepEqual(await drain(cs[1]!), ['1', '4']);
  assert.deepEqual(await drain(cs[2]!), ['2', '5']);
  assert.deepEqual(names(s.getOptionalChannels(ev())), []);
});

test('load_balancing: random gives each event exactly one of the channels', () => {
  const cs = channels('c1', 'c2');
  const s = selector(loadBalancing, cs, { policy: 'RANDOM' });
  const seen = new Map<string, number>();
  for (let i = 0; i < 1000; i++) {
    const r = s.getRequiredChannels(ev());
    assert.equal(r.length, 1);
    seen.set(r[0]!.name, (seen.get(r[0]!.name) ?? 0) + 1);
  }
  assert.ok((seen.get('c1') ?? 0) > 350 && (seen.get('c2') ?? 0) > 350, JSON.stringify([...seen]));
});
