import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { silentLogger } from '../core/logger.js';
import { resolveOptions } from '../core/options.js';
import { builtinRegistry } from '../builtins.js';
import type { InterceptorDefinition } from '../core/component.js';
import type { Interceptor } from '../core/routing.js';
import { createEvent } from '../core/event.js';
import host, { localHost } from './host.js';

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

test('host puts the local address (looked up once at initialize) in "host"', async () => {
  const expected = await localHost(true, silentLogger);
  assert.ok(expected);
  const i = build(host);
  await i.initialize?.();
  const events = [createEvent('a'), createEvent('b', { host: 'other' })];
  i.intercept(events);
  assert.deepEqual(
    events.map((e) => e.headers.host),
    [expected, expected],
  );
});

test('host with useIP=false, hostHeader and preserveExisting', async () => {
  const name = await localHost(false, silentLogger);
  const i = build(host, { useIP: 'false', hostHeader: 'h', preserveExisting: 'true' });
  await i.initialize?.();
  const events = [createEvent('a'), createEvent('b', { h: 'other' })];
  i.intercept(events);
  assert.deepEqual(
    events.map((e) => e.headers.h),
    [name, 'other'],
  );
});
