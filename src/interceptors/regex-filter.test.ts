import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { silentLogger } from '../core/logger.js';
import { resolveOptions } from '../core/options.js';
import { builtinRegistry } from '../builtins.js';
import type { InterceptorDefinition } from '../core/component.js';
import type { Interceptor } from '../core/routing.js';
import { createEvent } from '../core/event.js';
import regexFilter, { literalAlternatives } from './regex-filter.js';

function build(def: InterceptorDefinition, props: Record<string, string> = {}): Interceptor {
  const ctx = new Context(props, new Map(), 'a1.sources.r1.interceptors.i1.');
  const { options, problems } = resolveOptions(def.options, ctx);
  const registry = builtinRegistry();
  problems.push(...(def.validate?.(options, ctx, registry) ?? []));
  assert.deepEqual(problems.filter((p) => p.severity === 'error'), []);
  return def.create({ name: 'i1', options, context: ctx, logger: silentLogger, registry });
}

const bodies = (es: { body: Buffer }[]): string[] => es.map((e) => e.body.toString());

test('by default every event is kept and the batch is returned as is', () => {
  const events = [createEvent('a'), createEvent('')];
  assert.equal(build(regexFilter).intercept(events), events);
});

test('include mode keeps events with a match anywhere in the body', () => {
  const events = ['INFO ok', 'ERROR bad', 'warn: ERROR later', 'debug'].map((b) => createEvent(b));
  const out = build(regexFilter, { regex: 'ERROR' }).intercept(events);
  assert.deepEqual(bodies(out), ['ERROR bad', 'warn: ERROR later']);
  assert.equal(events.length, 4, 'the input batch is not changed');
});

test('exclude mode drops matching events; excluding .* drops all', () => {
  const events = ['DEBUG x', 'INFO y', 'DEBUG z'].map((b) => createEvent(b));
  assert.deepEqual(bodies(build(regexFilter, { regex: '^DEBUG', excludeEvents: 'true' }).intercept(events)), ['INFO y']);
  assert.deepEqual(build(regexFilter, { excludeEvents: 'true' }).intercept(events), []);
});

test('a kept-only batch needs no new array', () => {
  const events = ['a1', 'b2'].map((b) => createEvent(b));
  assert.equal(build(regexFilter, { regex: '\\d' }).intercept(events), events);
});

test('a literal pattern is searched in the bytes, with the same answers as the regex', () => {
  assert.deepEqual(literalAlternatives('DEBUG|TRACE')?.map(String), ['DEBUG', 'TRACE']);
  assert.deepEqual(literalAlternatives('日志 错误')?.map(String), ['日志 错误']);
  for (const p of ['a.b', '(?i)x', 'x|', 'a\\d', '^x', 'x$', 'a+', 'a{2}', '[ab]']) assert.equal(literalAlternatives(p), undefined, p);
  const bodies = ['INFO ok', 'a DEBUG line', 'TRACE', 'déjà vu 日志 错误 here', 'debug lower', '', 'x'.repeat(100) + 'TRACE', 'y'.repeat(100) + '日志 错误', 'z'.repeat(100)];
  for (const [regex, exclude] of [['DEBUG|TRACE', false], ['DEBUG|TRACE', true], ['日志 错误', false]] as const) {
    const viaLiteral = build(regexFilter, { regex, excludeEvents: String(exclude) });
    const viaRegex = build(regexFilter, { regex: `(?:${regex})`, excludeEvents: String(exclude) });
    const run = (i: Interceptor) => i.intercept(bodies.map((b) => createEvent(b))).map((e) => e.body.toString());
    assert.deepEqual(run(viaLiteral), run(viaRegex), `${regex} exclude=${exclude}`);
  }
});
