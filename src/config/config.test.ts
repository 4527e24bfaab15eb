import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtinRegistry } from '../builtins.js';
import { formatDiagnostic, type Diagnostic } from './diagnostics.js';
import { loadJob } from './load.js';
import { parseProperties } from './properties.js';

function load(text: string, agent = 'a1'): { plan: unknown; diags: Diagnostic[]; lines: string[]; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-ts-conf-'));
  const file = path.join(dir, 'job.conf');
  fs.writeFileSync(file, text);
  const { plan, diagnostics } = loadJob([file], agent, builtinRegistry());
  fs.rmSync(dir, { recursive: true });
  return { plan, diags: diagnostics, lines: diagnostics.map(formatDiagnostic), file };
}

const GOOD = `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = localhost
a1.sources.r1.port = 44444
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = logger
a1.sinks.k1.channel = c1
`;

test('a valid job file plans with no diagnostics', () => {
  const { plan, diags } = load(GOOD);
  assert.deepEqual(diags, []);
  assert.ok(plan);
});

test('types match case-insensitively and by Flume class name', () => {
  const { plan, diags } = load(GOOD.replace('type = memory', 'type = MEMORY').replace('type = logger', 'type = org.apache.flume.sink.LoggerSink'));
  assert.deepEqual(diags, []);
  assert.ok(plan);
});

test('a value of the wrong kind is an error naming file, line and key', () => {
  const { plan, lines, file } = load(GOOD + 'a1.channels.c1.capacity = lots\n');
  assert.equal(plan, undefined);
  assert.ok(lines.includes(`${file}:11: error: a1.channels.c1.capacity: expected an integer, got "lots" [FTS_ERR_CONFIG_VALUE]`), lines.join('\n'));
});

test('an unknown key is a warning with the nearest key suggested', () => {
  const { plan, lines, file } = load(GOOD + 'a1.channels.c1.capcity = 1000\n');
  assert.ok(plan, 'a warning does not stop the agent');
  assert.ok(
    lines.some((l) => l.startsWith(`${file}:11: warning: a1.channels.c1.capcity: unknown key`) && l.includes('did you mean "capacity"?')),
    lines.join('\n'),
  );
});

test('an unknown type is an error with a suggestion and the known types', () => {
  const { plan, lines, file } = load(GOOD.replace('type = memory', 'type = memroy'));
  assert.equal(plan, undefined);
  const l = lines.find((x) => x.includes('unknown channel type'));
  assert.ok(l, lines.join('\n'));
  assert.ok(l.startsWith(`${file}:8: error: a1.channels.c1.type: unknown channel type "memroy" (did you mean "memory"?)`), l);
});

test('every problem is reported at once', () => {
  const text = `a1.sources = r1 r2
a1.channels = c1
a1.sinks = k1 k2
a1.sources.r1.type = netcat
a1.sources.r1.bind = localhost
a1.sources.r1.port = 44444
a1.sources.r1.channels = c9
a1.channels.c1.type = memory
a1.channels.c1.capacity = lots
a1.sinks.k1.type = logger
a1.sinks.k2.type = logger
a1.sinks.k2.channel = c2
`;
  const { plan, diags, lines } = load(text);
  assert.equal(plan, undefined);
  const has = (re: RegExp): void =>
    assert.ok(
      lines.some((l) => re.test(l)),
      `${re} not in:\n${lines.join('\n')}`,
    );
  has(/:1: error: a1\.sources lists "r2" but no a1\.sources\.r2\.\* property configures it/);
  has(/:7: error: a1\.sources\.r1\.channels: channel "c9" is not declared in a1\.channels/);
  has(/:9: error: a1\.channels\.c1\.capacity: expected an integer, got "lots"/);
  has(/error: a1\.sinks\.k1\.channel is missing: sink "k1" must name the one channel/);
  has(/:12: error: a1\.sinks\.k2\.channel: channel "c2" is not declared in a1\.channels \(did you mean "c1"\?\)/);
  assert.ok(diags.filter((d) => d.severity === 'error').length >= 5);
});

test('a source without channels is an error', () => {
  const { plan, lines } = load(GOOD.replace('a1.sources.r1.channels = c1\n', ''));
  assert.equal(plan, undefined);
  assert.ok(
    lines.some((l) => /a1\.sources\.r1\.channels is missing/.test(l)),
    lines.join('\n'),
  );
});

test('a required key that is missing is an error', () => {
  const { plan, lines } = load(GOOD.replace('a1.sources.r1.port = 44444\n', ''));
  assert.equal(plan, undefined);
  assert.ok(
    lines.some((l) => /a1\.sources\.r1\.port is required/.test(l)),
    lines.join('\n'),
  );
});

test('transactionCapacity above capacity is an error', () => {
  const { plan, lines } = load(GOOD + 'a1.channels.c1.capacity = 10\na1.channels.c1.transactionCapacity = 100\n');
  assert.equal(plan, undefined);
  assert.ok(
    lines.some((l) => /:12: error: a1\.channels\.c1\.transactionCapacity \(100\) must not exceed a1\.channels\.c1\.capacity \(10\)/.test(l)),
    lines.join('\n'),
  );
});

test('an agent the file does not define is one clear error naming the agents it does define', () => {
  const { plan, lines } = load(GOOD, 'agent1');
  assert.equal(plan, undefined);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /agent "agent1" is not defined in .*job\.conf; it defines "a1"/);
});

test('other agents in the same file are ignored', () => {
  const { plan, diags } = load(GOOD + 'a2.sources = x\na2.channels.zz.type = nope\n');
  assert.deepEqual(diags, []);
  assert.ok(plan);
});

test('a component configured but not listed is a warning', () => {
  const { plan, lines } = load(GOOD + 'a1.sinks.k9.type = logger\n');
  assert.ok(plan);
  assert.ok(
    lines.some((l) => /warning: a1\.sinks\.k9\.type: sink "k9" is configured but not listed in a1\.sinks/.test(l)),
    lines.join('\n'),
  );
});

test('a missing file is an error', () => {
  const { plan, diagnostics } = loadJob(['/nonexistent/job.conf'], 'a1', builtinRegistry());
  assert.equal(plan, undefined);
  assert.match(formatDiagnostic(diagnostics[0]!), /configuration file \/nonexistent\/job\.conf does not exist/);
});

test('properties syntax: continuations, escapes, separators, comments, line numbers', () => {
  const text = ['# comment', '! another comment', 'a.b = one \\', '    two', 'a.c: colon', 'a.d space separated', 'a.e = tab\\there \\u0041 \\\\d{3}', '  a.f   =   trimmed   ', 'a.b = three'].join(
    '\n',
  );
  const { props } = parseProperties(text, 'x.conf');
  const get = (k: string) => props.find((p) => p.key === k);
  assert.equal(get('a.b')?.value, 'three');
  assert.equal(get('a.b')?.line, 9, 'the later duplicate wins, with its line');
  assert.equal(get('a.c')?.value, 'colon');
  assert.equal(get('a.d')?.value, 'space separated');
  assert.equal(get('a.e')?.value, 'tab\there A \\d{3}');
  assert.equal(get('a.f')?.value, 'trimmed');
  assert.equal(get('a.f')?.line, 8);
});

test('a continued value keeps the line where its key starts', () => {
  const { props } = parseProperties('x.a = 1\nx.b = one \\\n  two\nx.c = 3\n', 'f');
  assert.deepEqual(
    props.map((p) => [p.key, p.value, p.line]),
    [
      ['x.a', '1', 1],
      ['x.b', 'one two', 2],
      ['x.c', '3', 4],
    ],
  );
});
