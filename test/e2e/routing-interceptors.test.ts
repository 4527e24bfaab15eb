import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as dns } from 'node:dns';
import os from 'node:os';
import path from 'node:path';
import { freePort, tempDir, startAgent, tcpExchange, eventually } from '../support/agent.js';
import { PLUGIN_ARGS, delivered, jobFile, recordingSink } from '../support/plugins/recorder.js';

test('interceptor adds a header, selector routes on it (jobs/routing/interceptor-routing.conf): two sources, headers as set', async () => {
  const port = await freePort();
  const t = tempDir();
  const [o1, o2] = [path.join(t.dir, 'k1.jsonl'), path.join(t.dir, 'k2.jsonl')];
  const hostIp = (await dns.lookup(os.hostname())).address;
  const agent = await startAgent(jobFile('routing/interceptor-routing.conf', port) + recordingSink('k1', o1) + recordingSink('k2', o2), { dir: t.dir, extraArgs: PLUGIN_ARGS });
  try {
    const before = Date.now();
    assert.equal(await tcpExchange(port, 'from netcat\nagain\n', { expectBytes: 6 }), 'OK\nOK\n');
    const after = Date.now();
    await eventually(() => delivered(o1).length === 2 && delivered(o2).length === 10, 10000, 'both sinks');
    assert.deepEqual(
      delivered(o2).map((d) => [d.body, d.headers]),
      [...Array(10).keys()].map((i) => [String(i), { origin: 'seq' }]),
    );
    const net = delivered(o1);
    assert.deepEqual(
      net.map((d) => d.body),
      ['from netcat', 'again'],
    );
    for (const d of net) {
      assert.deepEqual(Object.keys(d.headers), ['origin', 'timestamp', 'host']);
      assert.equal(d.headers.origin, 'netcat');
      assert.equal(d.headers.host, hostIp);
      const ts = Number(d.headers.timestamp);
      assert.ok(ts >= before && ts <= after, `timestamp ${ts} within [${before}, ${after}]`);
    }
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});

test('a chain of every interceptor kind, and one from a plugin, edits headers and bodies in order', async () => {
  const port = await freePort();
  const t = tempDir();
  const out = path.join(t.dir, 'k1.jsonl');
  const agent = await startAgent(
    `
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${port}
a1.sources.r1.channels = c1
a1.sources.r1.interceptors = ext mask tmp env id rm keep up
a1.sources.r1.interceptors.ext.type = org.apache.flume.interceptor.RegexExtractorInterceptor$Builder
a1.sources.r1.interceptors.ext.regex = ^(\\\\d{4}-\\\\d{2}-\\\\d{2} \\\\d{2}:\\\\d{2}) user=(\\\\w+)
a1.sources.r1.interceptors.ext.serializers = ts user
a1.sources.r1.interceptors.ext.serializers.ts.type = org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer
a1.sources.r1.interceptors.ext.serializers.ts.name = timestamp
a1.sources.r1.interceptors.ext.serializers.ts.pattern = yyyy-MM-dd HH:mm
a1.sources.r1.interceptors.ext.serializers.user.name = user
a1.sources.r1.interceptors.mask.type = search_replace
a1.sources.r1.interceptors.mask.searchPattern = card=(\\\\d{4})-\\\\d{4}
a1.sources.r1.interceptors.mask.replaceString = card=$1-****
a1.sources.r1.interceptors.tmp.type = static
a1.sources.r1.interceptors.tmp.key = tmp.debug
a1.sources.r1.interceptors.tmp.value = 1
a1.sources.r1.interceptors.env.type = static
a1.sources.r1.interceptors.env.key = env
a1.sources.r1.interceptors.env.value = test
a1.sources.r1.interceptors.id.type = org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder
a1.sources.r1.interceptors.id.headerName = eventId
a1.sources.r1.interceptors.id.prefix = ev-
a1.sources.r1.interceptors.rm.type = remove_header
a1.sources.r1.interceptors.rm.matching = tmp\\\\..*
a1.sources.r1.interceptors.keep.type = regex_filter
a1.sources.r1.interceptors.keep.regex = user=
a1.sources.r1.interceptors.up.type = com.example.UpperCaseInterceptor$Builder
a1.sources.r1.interceptors.up.header = length
a1.channels.c1.type = memory
a1.sinks.k1.channel = c1
${recordingSink('k1', out)}`,
    { dir: t.dir, extraArgs: PLUGIN_ARGS },
  );
  try {
    const lines = ['2024-01-02 03:04 user=alice card=1234-5678', 'no user here', '2024-12-31 23:59 user=bob'];
    assert.equal(await tcpExchange(port, lines.join('\n') + '\n', { expectBytes: 9 }), 'OK\nOK\nOK\n');
    await eventually(() => delivered(out).length === 2, 10000, 'the sink');
    const [a, b] = delivered(out);
    assert.equal(a!.body, '2024-01-02 03:04 USER=ALICE CARD=1234-****');
    assert.equal(b!.body, '2024-12-31 23:59 USER=BOB');
    assert.deepEqual(Object.keys(a!.headers), ['timestamp', 'user', 'env', 'eventId', 'length']);
    assert.equal(a!.headers.length, '42');
    assert.equal(a!.headers.timestamp, String(new Date(2024, 0, 2, 3, 4).getTime()));
    assert.equal(b!.headers.timestamp, String(new Date(2024, 11, 31, 23, 59).getTime()));
    assert.equal(a!.headers.user, 'alice');
    assert.equal(a!.headers.env, 'test');
    assert.match(a!.headers.eventId!, /^ev-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a!.headers.eventId, b!.headers.eventId);
  } finally {
    assert.equal(await agent.stop(), 0);
    assert.match(agent.stderr(), /interceptor keep \(regex_filter\) dropped 1 event\(s\) in total/);
    t.cleanup();
  }
});
