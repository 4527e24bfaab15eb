import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '../core/context.js';
import { silentLogger } from '../core/logger.js';
import { resolveOptions } from '../core/options.js';
import { builtinRegistry } from '../builtins.js';
import type { InterceptorDefinition } from '../core/component.js';
import type { Interceptor } from '../core/routing.js';
import { createEvent } from '../core/event.js';
import regexExtractor, { readSerializers } from './regex-extractor.js';

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

const MILLIS = 'org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer';

test('groups go to the headers of the serializers, in order; no match changes nothing', () => {
  const i = build(regexExtractor, {
    regex: '(\\d):(\\d):(\\d)',
    serializers: 's1 s2',
    'serializers.s1.name': 'one',
    'serializers.s2.name': 'two',
    'serializers.s2.type': 'DEFAULT',
  });
  const events = [createEvent('x 1:2:3 y 4:5:6'), createEvent('nothing', { one: 'kept' })];
  assert.equal(i.intercept(events), events);
  assert.deepEqual(
    events.map((e) => e.headers),
    [{ one: '1', two: '2' }, { one: 'kept' }],
  );
});

test('the millis serializer turns the group into epoch millis (local time zone)', async () => {
  const i = build(regexExtractor, {
    regex: '^(?:\\n)?(\\d\\d\\d\\d-\\d\\d-\\d\\d\\s\\d\\d:\\d\\d)',
    serializers: 's1',
    'serializers.s1.type': MILLIS,
    'serializers.s1.name': 'timestamp',
    'serializers.s1.pattern': 'yyyy-MM-dd HH:mm',
  });
  const events = [createEvent('2012-10-18 18:47 some text'), createEvent('2012-99-18 18:47 bad month')];
  i.intercept(events);
  assert.equal(events[0]!.headers.timestamp, String(new Date(2012, 9, 18, 18, 47).getTime()));
  assert.deepEqual(events[1]!.headers, {}, 'a value that does not parse sets no header');
  await i.close?.();
});

test('a group that did not take part sets no header', () => {
  const i = build(regexExtractor, { regex: '(a)|(b)', serializers: 'x y', 'serializers.x.name': 'x', 'serializers.y.name': 'y' });
  const events = [createEvent('b')];
  i.intercept(events);
  assert.deepEqual(events[0]!.headers, { y: 'b' });
});

test('serializer problems name their keys', () => {
  const ctx = new Context(
    {
      'serializers.s1.type': 'com.example.Nope',
      'serializers.s2.type': MILLIS,
      'serializers.s3.pattern': 'x',
      'serializers.s4.name': 'n',
      'serializers.s4.bogus': '1',
      'serializers.s5.name': 'unused',
    },
    new Map(),
    'a1.sources.r1.interceptors.i1.',
  );
  const { problems } = readSerializers(['s1', 's2', 's3', 's4'], ctx);
  const msgs = problems.map((p) => `${p.severity} ${p.message}`);
  assert.ok(
    msgs.some((m) => m.startsWith('error a1.sources.r1.interceptors.i1.serializers.s1.name is required')),
    msgs.join('\n'),
  );
  assert.ok(msgs.some((m) => /^error a1\.sources\.r1\.interceptors\.i1\.serializers\.s1\.type: unknown serializer type "com\.example\.Nope"/.test(m)));
  assert.ok(msgs.some((m) => m.startsWith('error a1.sources.r1.interceptors.i1.serializers.s2.pattern is required')));
  assert.ok(msgs.some((m) => m.startsWith('warning a1.sources.r1.interceptors.i1.serializers.s3.pattern: unknown key')));
  assert.ok(msgs.some((m) => m.startsWith('warning a1.sources.r1.interceptors.i1.serializers.s4.bogus: unknown key')));
  assert.ok(msgs.some((m) => m.startsWith('warning a1.sources.r1.interceptors.i1.serializers.s5.name: serializer "s5" is not listed')));
  const bad = readSerializers(['t'], new Context({ 'serializers.t.name': 'h', 'serializers.t.type': MILLIS, 'serializers.t.pattern': 'EEE' }));
  assert.match(bad.problems[0]!.message, /serializers\.t\.pattern: pattern letter "E" is not supported/);
});
