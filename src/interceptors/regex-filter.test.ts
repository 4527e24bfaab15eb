import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { silentLogger } from '../core/logger.js';
import { resolveOptions } from '../core/options.js';
import { builtinRegistry } from '../builtins.js';
import type { InterceptorDefinition } from '../core/component.js';
import type { Interceptor } from '../core/routing.js';
import { SlicedEvent, createEvent } from '../core/event.js';
import { ChannelProcessor } from '../core/channel-processor.js';
import { withTransaction } from '../core/transaction.js';
import { MemoryChannel, options as memoryOptions } from '../channels/memory.js';
import replicating from '../selectors/replicating.js';
import regexFilter, { literalAlternatives } from './regex-filter.js';

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
  for (const [regex, exclude] of [
    ['DEBUG|TRACE', false],
    ['DEBUG|TRACE', true],
    ['日志 错误', false],
  ] as const) {
    const viaLiteral = build(regexFilter, { regex, excludeEvents: String(exclude) });
    const viaRegex = build(regexFilter, { regex: `(?:${regex})`, excludeEvents: String(exclude) });
    const run = (i: Interceptor) => i.intercept(bodies.map((b) => createEvent(b))).map((e) => e.body.toString());
    assert.deepEqual(run(viaLiteral), run(viaRegex), `${regex} exclude=${exclude}`);
  }
});

test('lines kept from a batch of sliced lines reach the channel as copies, not as views of the whole read', async () => {
  const ch = new MemoryChannel('c1', resolveOptions(memoryOptions, new Context({})).options);
  const selector = replicating.create({
    name: 'r1',
    options: resolveOptions(replicating.options, new Context({})).options,
    context: new Context({}),
    logger: silentLogger,
    registry: builtinRegistry(),
    channels: [ch],
  });
  const p = new ChannelProcessor(selector, [build(regexFilter, { regex: 'ERROR' })], silentLogger);
  const read = Buffer.from(Array.from({ length: 300 }, (_, i) => (i === 150 ? 'ERROR the one' : `INFO line ${i}`)).join('\n') + '\n');
  const lines: SlicedEvent[] = [];
  for (let s = 0, nl = read.indexOf(10); nl >= 0; s = nl + 1, nl = read.indexOf(10, s)) lines.push(new SlicedEvent(read, s, nl));
  await p.processEventBatch(lines);
  const [kept, ...rest] = await withTransaction(ch, (tx) => tx.take(10));
  assert.deepEqual(rest, []);
  assert.ok(kept instanceof SlicedEvent);
  assert.equal(kept.body.toString(), 'ERROR the one');
  assert.equal(kept.source.length, 'ERROR the one'.length, 'the kept line holds its own bytes only');
});
