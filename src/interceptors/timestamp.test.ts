import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { createEvent } from '../core/event.js';
import { silentLogger } from '../core/logger.js';
import { resolveOptions } from '../core/options.js';
import { builtinRegistry } from '../builtins.js';
import type { InterceptorDefinition } from '../core/component.js';
import type { Interceptor } from '../core/routing.js';
import timestamp from './timestamp.js';

function build(def: InterceptorDefinition, props: Record<string, string> = {}): Interceptor {
  const ctx = new Context(props, new Map(), 'a1.sources.r1.interceptors.i1.');
  const { options, problems } = resolveOptions(def.options, ctx);
  const registry = builtinRegistry();
  problems.push(...(def.validate?.(options, ctx, registry) ?? []));
  assert.deepEqual(
    problems.filter((p) => p.severity === 'error'),
    [],
  );
  return def.create({ name: 'i1', options, context: ctx, logger: silentLogger, registry });
}

test('timestamp puts the epoch millis of the batch in the header', () => {
  const before = Date.now();
  const events = [createEvent('a'), createEvent('b', { timestamp: '1' })];
  const out = build(timestamp).intercept(events);
  assert.equal(out, events);
  const t = Number(events[0]!.headers.timestamp);
  assert.ok(t >= before && t <= Date.now());
  assert.equal(events[1]!.headers.timestamp, String(t));
});

test('timestamp with headerName and preserveExisting keeps an existing value', () => {
  const events = [createEvent('a', { ts: 'old' }), createEvent('b')];
  build(timestamp, { headerName: 'ts', preserveExisting: 'true' }).intercept(events);
  assert.equal(events[0]!.headers.ts, 'old');
  assert.match(events[1]!.headers.ts!, /^\d{13}$/);
  assert.deepEqual(Object.keys(events[1]!.headers), ['ts']);
});

test('the Flume class name resolves to the timestamp interceptor', () => {
  assert.equal(builtinRegistry().lookup('interceptor', 'org.apache.flume.interceptor.TimestampInterceptor$Builder'), timestamp);
  assert.equal(builtinRegistry().lookup('interceptor', 'TIMESTAMP'), timestamp);
});
