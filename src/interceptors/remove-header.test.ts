import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { silentLogger } from '../core/logger.js';
import { resolveOptions } from '../core/options.js';
import { builtinRegistry } from '../builtins.js';
import type { InterceptorDefinition } from '../core/component.js';
import type { Interceptor } from '../core/routing.js';
import { createEvent } from '../core/event.js';
import removeHeader from './remove-header.js';

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

const ev = () => createEvent('x', { a: '1', b: '2', 'c-1': '3', 'c-2': '4', keep: '5', Abc: '6' });

test('remove_header with nothing configured changes nothing', () => {
  const events = [ev()];
  build(removeHeader).intercept(events);
  assert.deepEqual(Object.keys(events[0]!.headers), ['a', 'b', 'c-1', 'c-2', 'keep', 'Abc']);
});

test('withName, fromList (default separator) and matching (whole name) remove headers', () => {
  const events = [ev(), ev()];
  build(removeHeader, { withName: 'keepnot', fromList: 'a ,  b', matching: 'c-\\d' }).intercept(events);
  for (const e of events) assert.deepEqual(e.headers, { keep: '5', Abc: '6' });
  const partial = [ev()];
  build(removeHeader, { matching: 'b' }).intercept(partial);
  assert.ok('Abc' in partial[0]!.headers, 'matching must match the whole name');
  assert.ok(!('b' in partial[0]!.headers));
});

test('fromListSeparator is a Java regex', () => {
  const events = [ev()];
  build(removeHeader, { withName: 'keep', fromList: 'a|Abc', fromListSeparator: '\\|' }).intercept(events);
  assert.deepEqual(Object.keys(events[0]!.headers), ['b', 'c-1', 'c-2']);
});
