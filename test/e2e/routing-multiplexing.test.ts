import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { freePort, tempDir, startAgent, tcpExchange, eventually } from '../support/agent.js';
import { PLUGIN_ARGS, delivered, jobFile, recordingSink } from '../support/plugins/recorder.js';

test('multiplexing (jobs/routing/multiplexing.conf): an interceptor sets the header, the selector routes on it, DEBUG lines are dropped and counted', async () => {
  const port = await freePort();
  const t = tempDir();
  const [o1, o2] = [path.join(t.dir, 'k1.jsonl'), path.join(t.dir, 'k2.jsonl')];
  const agent = await startAgent(jobFile('routing/multiplexing.conf', port) + recordingSink('k1', o1) + recordingSink('k2', o2), { dir: t.dir, extraArgs: PLUGIN_ARGS });
  try {
    const lines = ['SUCCESS order 1', 'FAIL order 2', 'DEBUG noise', 'plain line', 'SUCCESSFUL is another word', 'SUCCESS order 3'];
    assert.equal(await tcpExchange(port, lines.join('\n') + '\n', { expectBytes: 18 }), 'OK\n'.repeat(6));
    await eventually(() => delivered(o1).length === 3 && delivered(o2).length === 2, 10000, 'both sinks');
    assert.deepEqual(
      delivered(o2).map((d) => [d.body, d.headers]),
      [
        ['SUCCESS order 1', { validation: 'SUCCESS' }],
        ['SUCCESS order 3', { validation: 'SUCCESS' }],
      ],
    );
    assert.deepEqual(
      delivered(o1).map((d) => [d.body, d.headers]),
      [
        ['FAIL order 2', { validation: 'FAIL' }],
        ['plain line', {}],
        ['SUCCESSFUL is another word', {}],
      ],
    );
  } finally {
    assert.equal(await agent.stop(), 0);
    assert.match(agent.stderr(), /interceptor i1 \(regex_filter\) dropped 1 event\(s\) in total/);
    t.cleanup();
  }
});

test('multiplexing without a default: unmapped events go nowhere and are counted; optional.<value> channels get theirs', async () => {
  const port = await freePort();
  const t = tempDir();
  const [o1, o2] = [path.join(t.dir, 'k1.jsonl'), path.join(t.dir, 'k2.jsonl')];
  const agent = await startAgent(
    `
a1.sources = r1
a1.channels = c1 c2
a1.sinks = k1 k2
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${port}
a1.sources.r1.channels = c1 c2
a1.sources.r1.interceptors = i1
a1.sources.r1.interceptors.i1.type = regex_extractor
a1.sources.r1.interceptors.i1.regex = ^(\\\\w+):
a1.sources.r1.interceptors.i1.serializers = s1
a1.sources.r1.interceptors.i1.serializers.s1.name = kind
a1.sources.r1.selector.type = multiplexing
a1.sources.r1.selector.header = kind
a1.sources.r1.selector.mapping.a = c1
a1.sources.r1.selector.optional.a = c1 c2
a1.sources.r1.selector.optional.b = c2
a1.channels.c1.type = memory
a1.channels.c2.type = memory
a1.sinks.k1.channel = c1
a1.sinks.k2.channel = c2
${recordingSink('k1', o1)}${recordingSink('k2', o2)}`,
    { dir: t.dir, extraArgs: PLUGIN_ARGS },
  );
  try {
    const lines = ['a:1', 'z:2', 'b:3', 'no header', 'a:4', 'z:5'];
    assert.equal(await tcpExchange(port, lines.join('\n') + '\n', { expectBytes: 18 }), 'OK\n'.repeat(6));
    await eventually(() => delivered(o1).length === 2 && delivered(o2).length === 3, 10000, 'both sinks');
    assert.deepEqual(
      delivered(o1).map((d) => d.body),
      ['a:1', 'a:4'],
    );
    assert.deepEqual(
      delivered(o2).map((d) => d.body),
      ['a:1', 'b:3', 'a:4'],
      'optional.a minus the required c1, and optional.b',
    );
    await agent.waitFor(/source r1: header "kind" matched no channel \(no mapping, no default\) for \d+ event\(s\) \(3 in total\)/, 10000);
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});
