import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { silentLogger } from '../core/logger.js';
import { resolveOptions } from '../core/options.js';
import { builtinRegistry } from '../builtins.js';
import type { InterceptorDefinition } from '../core/component.js';
import type { Interceptor } from '../core/routing.js';
import { createEvent } from '../core/event.js';
import uuid from './uuid.js';

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

test('uuid sets prefix + a v4 UUID under "id", keeping existing ids by default', () => {
  const events = [createEvent('a'), createEvent('b', { id: 'keep' }), createEvent('c')];
  build(uuid, { prefix: 'agent1-' }).intercept(events);
  assert.match(events[0]!.headers.id!, /^agent1-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(events[1]!.headers.id, 'keep');
  assert.notEqual(events[0]!.headers.id, events[2]!.headers.id);
  const over = [createEvent('d', { uid: 'x' })];
  build(uuid, { headerName: 'uid', preserveExisting: 'false' }).intercept(over);
  assert.notEqual(over[0]!.headers.uid, 'x');
});
