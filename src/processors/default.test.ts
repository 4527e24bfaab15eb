import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { silentLogger } from '../core/logger.js';
import type { Channel } from '../core/channel.js';
import type { Sink } from '../core/sink.js';
import { builtinRegistry } from '../builtins.js';
import defaultProcessor from './default.js';

const sink = (name: string): Sink => ({ name, channel: {} as Channel, start: async () => {}, stop: async () => {}, process: async () => 'READY' });

test('the default processor runs its one sink', async () => {
  const p = defaultProcessor.create({ name: 'g1', options: {}, context: new Context(), logger: silentLogger, registry: builtinRegistry(), sinks: [sink('k1')] });
  assert.equal(await p.process(), 'READY');
  assert.deepEqual(
    p.sinks.map((s) => s.name),
    ['k1'],
  );
});

test('a default group with two sinks is refused, as Flume does', () => {
  const ctx = new Context({ type: 'default' }, new Map(), 'a1.sinkgroups.g1.processor.');
  assert.throws(
    () => defaultProcessor.create({ name: 'g1', options: {}, context: ctx, logger: silentLogger, registry: builtinRegistry(), sinks: [sink('k1'), sink('k2')] }),
    /a1\.sinkgroups\.g1\.processor\.type: sink group g1: the default processor runs exactly one sink/,
  );
  const validate = defaultProcessor.validate as (o: unknown, c: Context, r: unknown, scope?: { sinks?: readonly string[] }) => { message: string }[];
  assert.match(validate({}, ctx, builtinRegistry(), { sinks: ['k1', 'k2'] })[0]!.message, /a default sink group runs exactly one sink/);
});
