import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { silentLogger } from '../core/logger.js';
import { resolveOptions } from '../core/options.js';
import { builtinRegistry } from '../builtins.js';
import type { InterceptorDefinition } from '../core/component.js';
import type { Interceptor } from '../core/routing.js';
import { createEvent } from '../core/event.js';
import staticInterceptor from './static.js';

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

test('static defaults to key=value and preserves an existing header', () => {
  const events = [createEvent('a'), createEvent('b', { key: 'mine' })];
  build(staticInterceptor).intercept(events);
  assert.deepEqual(
    events.map((e) => e.headers),
    [{ key: 'value' }, { key: 'mine' }],
  );
});

test('static with preserveExisting=false overwrites; a header named like an Object property is fine', () => {
  const events = [createEvent('a', { constructor: 'x' }), createEvent('b')];
  build(staticInterceptor, { key: 'constructor', value: 'NYC', preserveExisting: 'false' }).intercept(events);
  assert.deepEqual(
    events.map((e) => e.headers.constructor),
    ['NYC', 'NYC'],
  );
  const kept = [createEvent('c')];
  build(staticInterceptor, { key: 'constructor', value: 'NYC' }).intercept(kept);
  assert.equal(kept[0]!.headers.constructor, 'NYC');
});
