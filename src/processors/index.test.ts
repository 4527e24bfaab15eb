import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtinRegistry } from '../builtins.js';
import { formatDiagnostic } from '../config/diagnostics.js';
import { loadJob } from '../config/load.js';

function load(group: string): { plan: ReturnType<typeof loadJob>['plan']; lines: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-ts-proc-'));
  const file = path.join(dir, 'job.conf');
  fs.writeFileSync(
    file,
    `a1.sources = r1
a1.channels = c1
a1.sinks = k1 k2
a1.sinkgroups = g1
a1.sources.r1.type = seq
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
a1.sinks.k2.type = null
a1.sinks.k2.channel = c1
${group}`,
  );
  const { plan, diagnostics } = loadJob([file], 'a1', builtinRegistry());
  fs.rmSync(dir, { recursive: true });
  return { plan, lines: diagnostics.map((d) => formatDiagnostic(d).replace(/^.*job\.conf:/, '')) };
}

test("the seed notes' load_balance group plans, with the lower-case maxTimeout", () => {
  const { plan, lines } = load(`a1.sinkgroups.g1.sinks = k1 k2
a1.sinkgroups.g1.processor.type = load_balance
a1.sinkgroups.g1.processor.backoff = true
a1.sinkgroups.g1.processor.selector = random
a1.sinkgroups.g1.processor.selector.maxTimeout = 10000
`);
  assert.deepEqual(lines, []);
  const g = plan!.sinkgroups[0]!;
  assert.equal(g.processor.def.type, 'load_balance');
  assert.deepEqual(g.processor.options, { backoff: true, selector: 'random', 'selector.maxTimeOut': 10000 });
});

test('a failover group plans by class name; a bad priority names its key', () => {
  const ok = load(`a1.sinkgroups.g1.sinks = k1 k2
a1.sinkgroups.g1.processor.type = org.apache.flume.sink.FailoverSinkProcessor
a1.sinkgroups.g1.processor.priority.k1 = 10
a1.sinkgroups.g1.processor.priority.k2 = 5
a1.sinkgroups.g1.processor.maxpenalty = 10000
`);
  assert.deepEqual(ok.lines, []);
  assert.equal(ok.plan!.sinkgroups[0]!.processor.def.type, 'failover');
  const bad = load(`a1.sinkgroups.g1.sinks = k1 k2
a1.sinkgroups.g1.processor.type = failover
a1.sinkgroups.g1.processor.priority.k1 = top
a1.sinkgroups.g1.processor.maxPenalty = 1
`);
  assert.ok(
    bad.lines.some((l) => l.startsWith('14: error: a1.sinkgroups.g1.processor.priority.k1: expected an integer, got "top"')),
    bad.lines.join('\n'),
  );
  assert.ok(
    bad.lines.some((l) => l.startsWith('15: warning: a1.sinkgroups.g1.processor.maxPenalty: unknown key') && l.includes('maxpenalty')),
    bad.lines.join('\n'),
  );
});

test('load_balance needs two sinks; an unknown selector is an error', () => {
  const one = load(`a1.sinkgroups.g1.sinks = k1
a1.sinkgroups.g1.processor.type = load_balance
`);
  assert.ok(
    one.lines.some((l) => l.includes('a load_balance sink group needs at least 2 sinks')),
    one.lines.join('\n'),
  );
  const sel = load(`a1.sinkgroups.g1.sinks = k1 k2
a1.sinkgroups.g1.processor.type = load_balance
a1.sinkgroups.g1.processor.selector = fastest
`);
  assert.ok(
    sel.lines.some((l) => l.startsWith('14: error: a1.sinkgroups.g1.processor.selector: unknown sink selector "fastest"')),
    sel.lines.join('\n'),
  );
});
