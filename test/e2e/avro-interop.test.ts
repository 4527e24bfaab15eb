// Our avro source and sink against an independent implementation: Apache Avro's
// Python library (Debian python3-avro), driven by test/support/avro/peer.py.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { builtinRegistry } from '../../src/builtins.js';
import { loadJob } from '../../src/config/load.js';
import { Agent } from '../../src/core/agent.js';
import { silentLogger } from '../../src/core/logger.js';
import { createEvent } from '../../src/core/event.js';
import { withTransaction } from '../../src/core/transaction.js';
import { eventually, freePort, startAgent, tempDir, writeJob } from '../support/agent.js';
import { killAll, requirePythonAvro, runPeerClient, startPeerServer, type PeerLine } from '../support/avro/peer.js';

after(() => killAll());

/** What peer.py's client sends: per round i, appendBatch(B events), then append(1 event). */
function peerEvents(count: number, batch: number, bodySize: number): Array<{ headers: Record<string, string>; body: Buffer }> {
  const out: Array<{ headers: Record<string, string>; body: Buffer }> = [];
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < batch; j++) {
      const tail = Buffer.from(Array.from({ length: bodySize }, (_, k) => (i + j + k) % 256));
      out.push({ headers: { seq: String(i), idx: String(j), uni: 'h\u00e9llo \u2713' }, body: Buffer.concat([Buffer.from(`event-${i}-${j}`), tail]) });
    }
    out.push({ headers: { seq: String(i), single: '1' }, body: Buffer.from(`single-${i}`) });
  }
  return out;
}

function fileRollJob(port: number, dir: string, compression: string): string {
  return `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = avro
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${port}
a1.sources.r1.compression-type = ${compression}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000
a1.channels.c1.transactionCapacity = 100
a1.sinks.k1.type = file_roll
a1.sinks.k1.sink.directory = ${dir}
a1.sinks.k1.sink.rollInterval = 0
a1.sinks.k1.channel = c1
`;
}

function rolledFiles(dir: string): Buffer {
  return Buffer.concat(fs.readdirSync(dir).filter((f) => /^\d+-\d+$/.test(f)).sort().map((f) => fs.readFileSync(path.join(dir, f))));
}

test('python3-avro is there (the interop tests need it)', () => requirePythonAvro());

for (const compression of ['none', 'deflate'] as const) {
  test(`python3-avro's appendBatch and append into our avro source land in a file_roll sink byte for byte (${compression})`, { timeout: 60_000 }, async () => {
    requirePythonAvro();
    const port = await freePort();
    const t = tempDir();
    const out = path.join(t.dir, 'out');
    fs.mkdirSync(out);
    const agent = await startAgent(fileRollJob(port, out, compression), { dir: t.dir });
    try {
      // 9,000-byte bodies: several 8 KiB buffers per call, as Java clients send them.
      const flags = [...(compression === 'deflate' ? ['--deflate'] : []), '--count', '4', '--batch', '5', '--body-size', '9000'];
      const lines = await runPeerClient('127.0.0.1', port, flags);
      const calls = lines.filter((l: PeerLine) => 'call' in l);
      assert.equal(calls.length, 8);
      assert.ok(calls.every((l) => l.status === 'OK'), JSON.stringify(calls));
      // The text serializer writes body + "\n" per event.
      const expected = Buffer.concat(peerEvents(4, 5, 9000).flatMap((e) => [e.body, Buffer.from('\n')]));
      await eventually(() => rolledFiles(out).length >= expected.length, 10_000, 'the file to be written');
      assert.ok(rolledFiles(out).equals(expected), 'file content differs from the bodies sent');
    } finally {
      assert.equal(await agent.stop(), 0);
      t.cleanup();
    }
  });
}

test("python3-avro's pipelined calls in odd buffer splits, with its own protocol hash, keep headers and bodies", { timeout: 60_000 }, async () => {
  requirePythonAvro();
  const port = await freePort();
  const t = tempDir();
  const registry = builtinRegistry();
  const { plan, diagnostics } = loadJob([writeJob(t.dir, fileRollJob(port, t.dir, 'none').replace(/^a1\.sinks.*\n/gm, '').replace('a1.sinks = k1\n', ''))], 'a1', registry);
  assert.ok(plan, JSON.stringify(diagnostics));
  const agent = new Agent(plan, registry, silentLogger);
  await agent.start();
  try {
    const lines = await runPeerClient('127.0.0.1', port, ['--hash', 'python', '--pipeline', '--split', '7', '--count', '5', '--batch', '3', '--body-size', '20']);
    assert.deepEqual(lines.filter((l) => 'handshake' in l), [{ handshake: 'NONE' }, { handshake: 'BOTH' }]);
    assert.ok(lines.filter((l) => 'call' in l).every((l) => l.status === 'OK'));
    const ch = agent.channels.get('c1')!;
    const got = await withTransaction(ch, (tx) => tx.take(100));
    const key = (e: { headers: Record<string, string>; body: Buffer }) => JSON.stringify([e.headers, e.body.toString('hex')]);
    // Pipelined calls are stored as they complete: compare as sets.
    assert.deepEqual(got.map(key).sort(), peerEvents(5, 3, 20).map(key).sort());
    const src = agent.counters.find((c) => c.Type === 'SOURCE')!.snapshot();
    assert.equal(src.AppendBatchAcceptedCount, 5);
    assert.equal(src.AppendAcceptedCount, 5);
    assert.equal(src.EventAcceptedCount, 20);
  } finally {
    await agent.stop(500);
    t.cleanup();
  }
});

for (const compression of ['none', 'deflate'] as const) {
  test(`our avro sink feeds the python3-avro server (${compression})`, { timeout: 60_000 }, async () => {
    requirePythonAvro();
    const peer = await startPeerServer(compression === 'deflate' ? ['--deflate'] : []);
    const t = tempDir();
    const agent = await startAgent(
      `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = 250
a1.sources.r1.batchSize = 50
a1.sources.r1.channels = c1
a1.sources.r1.interceptors = i1
a1.sources.r1.interceptors.i1.type = static
a1.sources.r1.interceptors.i1.key = origin
a1.sources.r1.interceptors.i1.value = flume-ts ✓
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000
a1.channels.c1.transactionCapacity = 100
a1.sinks.k1.type = avro
a1.sinks.k1.hostname = 127.0.0.1
a1.sinks.k1.port = ${peer.port}
a1.sinks.k1.batch-size = 100
a1.sinks.k1.compression-type = ${compression}
a1.sinks.k1.channel = c1
`,
      { dir: t.dir },
    );
    try {
      const events = (ls: PeerLine[]) => ls.filter((l) => 'body_b64' in l);
      await peer.waitFor((ls) => events(ls).length >= 250, 20_000);
      const got = events(peer.lines);
      assert.deepEqual(got.map((l) => Buffer.from(l.body_b64 as string, 'base64').toString()), Array.from({ length: 250 }, (_, i) => String(i)));
      assert.ok(got.every((l) => l.kind === 'appendBatch' && JSON.stringify(l.headers) === JSON.stringify({ origin: 'flume-ts ✓' })));
      // One handshake for the connection; every call carried at most batch-size events.
      assert.deepEqual(peer.lines.filter((l) => 'handshake' in l), [{ handshake: 'BOTH' }]);
      const perCall = new Map<unknown, number>();
      for (const l of got) perCall.set(l.serial, (perCall.get(l.serial) ?? 0) + 1);
      assert.ok([...perCall.values()].every((n) => n <= 100));
    } finally {
      assert.equal(await agent.stop(), 0);
      await peer.stop();
      t.cleanup();
    }
  });
}

test('a FAILED answer from the python3-avro server rolls the batch back: the events stay in the channel, the sink reconnects and retries', { timeout: 60_000 }, async () => {
  requirePythonAvro();
  const peer = await startPeerServer(['--status', 'FAILED']);
  const t = tempDir();
  const registry = builtinRegistry();
  const { plan, diagnostics } = loadJob(
    [
      writeJob(
        t.dir,
        `a1.channels = c1
a1.sinks = k1
a1.channels.c1.type = memory
a1.sinks.k1.type = avro
a1.sinks.k1.hostname = 127.0.0.1
a1.sinks.k1.port = ${peer.port}
a1.sinks.k1.batch-size = 10
a1.sinks.k1.channel = c1
`,
      ),
    ],
    'a1',
    registry,
  );
  assert.ok(plan, JSON.stringify(diagnostics));
  const agent = new Agent(plan, registry, silentLogger, { sinkFailureBackoffMs: 100 });
  await agent.start();
  try {
    const ch = agent.channels.get('c1')!;
    await withTransaction(ch, (tx) => tx.put(Array.from({ length: 7 }, (_, i) => createEvent(`e${i}`))));
    const sink = () => agent.counters.find((c) => c.Type === 'SINK' && c.name === 'k1')!.snapshot();
    await eventually(() => Number(sink().EventWriteFail) >= 3, 10_000, 'three failed attempts');
    assert.equal(ch.size, 7);
    const s = sink();
    assert.equal(s.EventDrainSuccessCount, 0);
    assert.ok(Number(s.ConnectionCreatedCount) >= 3, 'a new connection per attempt');
    assert.ok(Number(s.ConnectionClosedCount) >= 3, 'the connection is dropped after each failure');
    assert.equal(s.BatchUnderflowCount, s.EventWriteFail);
    // The peer saw the same seven events each time.
    const bodies = peer.lines.filter((l) => 'body_b64' in l).map((l) => Buffer.from(l.body_b64 as string, 'base64').toString());
    assert.deepEqual(bodies.slice(0, 14), [0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6].map((i) => `e${i}`));
  } finally {
    await agent.stop(0);
    await peer.stop();
    t.cleanup();
  }
});
