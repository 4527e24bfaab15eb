import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { silentLogger } from '../core/logger.js';
import { resolveOptions } from '../core/options.js';
import { builtinRegistry } from '../builtins.js';
import type { InterceptorDefinition } from '../core/component.js';
import type { Interceptor } from '../core/routing.js';
import { createEvent } from '../core/event.js';
import searchReplace, { compileReplacement } from './search-replace.js';

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

const run = (props: Record<string, string>, ...bodies: string[]): string[] => {
  const events = bodies.map((b) => createEvent(b));
  build(searchReplace, props).intercept(events);
  return events.map((e) => e.body.toString('utf8'));
};

test('replaces every match; the replacement defaults to ""', () => {
  assert.deepEqual(run({ searchPattern: '\\d+' }, 'a1b22c', 'none'), ['abc', 'none']);
  assert.deepEqual(run({ searchPattern: 'The quick brown ([a-z]+)', replaceString: 'A $1' }, 'The quick brown fox jumped'), ['A fox jumped']);
});

test('Java replacement syntax: $n, ${name}, \\$ and multi-digit groups', () => {
  assert.deepEqual(run({ searchPattern: '(?<k>\\w+)=(\\w+)', replaceString: '${k}:\\$$2\\\\' }, 'a=1 b=2'), ['a:$1\\ b:$2\\']);
  assert.deepEqual(run({ searchPattern: '(a)(b)', replaceString: '$12' }, 'ab'), ['a2']);
  assert.deepEqual(run({ searchPattern: '(a)|(b)', replaceString: '[$2]' }, 'ab'), ['[][b]']);
});

test('the body keeps its bytes when nothing matched; charset is honoured', () => {
  const bad = Buffer.from([0xff, 0x41]);
  const events = [createEvent(bad)];
  build(searchReplace, { searchPattern: 'zzz' }).intercept(events);
  assert.equal(events[0]!.body, bad);
  const latin = [createEvent(Buffer.from('café', 'latin1'))];
  build(searchReplace, { searchPattern: 'é', replaceString: 'e!', charset: 'ISO-8859-1' }).intercept(latin);
  assert.deepEqual(latin[0]!.body, Buffer.from('cafe!', 'latin1'));
});

test('a replacement Java would reject is refused when the job is read', () => {
  const groups = { count: 1, names: ['n'] };
  assert.throws(() => compileReplacement('$2', groups), /no group 2/);
  assert.throws(() => compileReplacement('$x', groups), /illegal group reference/);
  assert.throws(() => compileReplacement('$', groups), /group index is missing/);
  assert.throws(() => compileReplacement('x\\', groups), /escaped is missing/);
  assert.throws(() => compileReplacement('${m}', groups), /no group with name/);
});
