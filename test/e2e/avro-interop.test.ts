// Our avro source and sink against an independent implementation: Apache Avro's
// Python library (Debian python3-avro), driven by test/support/avro/peer.py.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createEvent } from '../../src/core/event.js';
import { withTransaction } from '../../src/core/transaction.js';
import { eventually, freePort } from '../support/agent.js';
import { killAll, requirePythonAvro, runPeerClient, startPeerServer, type PeerLine } from '../support/avro/peer.js';
import { fileRollSink, inProcessAgent, peerEvents, rolledFiles, rpcSinkJob, rpcSourceJob, withAgents } from './rpc-support.js';

after(() => killAll());

/** Agent a1: our avro source into a memory channel c1. */
function sourceJob(port: number, compression: string): string {
  return rpcSourceJob('a1', 'avro', port, `a1.sources.r1.compression-type = ${compression}\na1.channels.c1.capacity = 1000\na1.channels.c1.transactionCapacity = 100\n`);
}

test('python3-avro is there (the interop tests need it)', () => requirePythonAvro());

for (const compression of ['none', 'deflate'] as const) {
  test(`python3-avro's appendBatch and append into our avro source land in a file_roll sink byte for byte (${compression})`, { timeout: 60_000 }, () =>
    withAgents(async (agents) => {
      requirePythonAvro();
      const port = await freePort();
      const out = path.join(agents.dir, 'out');
      fs.mkdirSync(out);
      await agents.start('a1', sourceJob(port, compression) + fileRollSink('a1', out), { exitCode: 0 });
      // 9,000-byte bodies: several 8 KiB buffers per call, as Java clients send them.
      const flags = [...(compression === 'deflate' ? ['--deflate'] : []), '--count', '4', '--batch', '5', '--body-size', '9000'];
      const lines = await runPeerClient('127.0.0.1', port, flags);
      const calls = lines.filter((l: PeerLine) => 'call' in l);
      assert.equal(calls.length, 8);
      assert.ok(
        calls.every((l) => l.status === 'OK'),
        JSON.stringify(calls),
      );
      // The text serializer writes body + "\n" per event.
      const expected = Buffer.concat(peerEvents(4, 5, 9000).flatMap((e) => [e.body, Buffer.from('\n')]));
      await eventually(() => rolledFiles(out).length >= expected.length, 10_000, 'the file to be written');
      assert.ok(rolledFiles(out).equals(expected), 'file content differs from the bodies sent');
    }),
  );
}

test("python3-avro's pipelined calls in odd buffer splits, with its own protocol hash, keep headers and bodies", { timeout: 60_000 }, async () => {
  requirePythonAvro();
  const port = await freePort();
  const a = await inProcessAgent(sourceJob(port, 'none'), { options: {} });
  try {
    const lines = await runPeerClient('127.0.0.1', port, ['--hash', 'python', '--pipeline', '--split', '7', '--count', '5', '--batch', '3', '--body-size', '20']);
    assert.deepEqual(
      lines.filter((l) => 'handshake' in l),
      [{ handshake: 'NONE' }, { handshake: 'BOTH' }],
    );
    assert.ok(lines.filter((l) => 'call' in l).every((l) => l.status === 'OK'));
    const ch = a.agent.channels.get('c1')!;
    const got = await withTransaction(ch, (tx) => tx.take(100));
    const key = (e: { headers: Record<string, string>; body: Buffer }) => JSON.stringify([e.headers, e.body.toString('hex')]);
    // Pipelined calls are stored as they complete: compare as sets.
    assert.deepEqual(got.map(key).sort(), peerEvents(5, 3, 20).map(key).sort());
    const src = a.counter('SOURCE');
    assert.equal(src.AppendBatchAcceptedCount, 5);
    assert.equal(src.AppendAcceptedCount, 5);
    assert.equal(src.EventAcceptedCount, 20);
  } finally {
    await a.stop(500);
  }
});

for (const compression of ['none', 'deflate'] as const) {
  test(`our avro sink feeds the python3-avro server (${compression})`, { timeout: 60_000 }, async () => {
    requirePythonAvro();
    const peer = await startPeerServer(compression === 'deflate' ? ['--deflate'] : []);
    const job =
      rpcSinkJob('a1', 'avro', peer.port, `a1.sinks.k1.batch-size = 100\na1.sinks.k1.compression-type = ${compression}\n`) +
      `a1.sources = r1
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = 250
a1.sources.r1.batchSize = 50
a1.sources.r1.channels = c1
a1.sources.r1.interceptors = i1
a1.sources.r1.interceptors.i1.type = static
a1.sources.r1.interceptors.i1.key = origin
a1.sources.r1.interceptors.i1.value = flume-ts ✓
a1.channels.c1.capacity = 1000
a1.channels.c1.transactionCapacity = 100
`;
    try {
      await withAgents(async (agents) => {
        await agents.start('a1', job, { exitCode: 0 });
        const events = (ls: PeerLine[]) => ls.filter((l) => 'body_b64' in l);
        await peer.waitFor((ls) => events(ls).length >= 250, 20_000);
        const got = events(peer.lines);
        assert.deepEqual(
          got.map((l) => Buffer.from(l.body_b64 as string, 'base64').toString()),
          Array.from({ length: 250 }, (_, i) => String(i)),
        );
        assert.ok(got.every((l) => l.kind === 'appendBatch' && JSON.stringify(l.headers) === JSON.stringify({ origin: 'flume-ts ✓' })));
        // One handshake for the connection; every call carried at most batch-size events.
        assert.deepEqual(
          peer.lines.filter((l) => 'handshake' in l),
          [{ handshake: 'BOTH' }],
        );
        const perCall = new Map<unknown, number>();
        for (const l of got) perCall.set(l.serial, (perCall.get(l.serial) ?? 0) + 1);
        assert.ok([...perCall.values()].every((n) => n <= 100));
      });
    } finally {
      await peer.stop();
    }
  });
}

test('a FAILED answer from the python3-avro server rolls the batch back: the events stay in the channel, the sink reconnects and retries', { timeout: 60_000 }, async () => {
  requirePythonAvro();
  const peer = await startPeerServer(['--status', 'FAILED']);
  const a = await inProcessAgent(rpcSinkJob('a1', 'avro', peer.port, 'a1.sinks.k1.batch-size = 10\n'), { options: { sinkFailureBackoffMs: 100 } });
  try {
    const ch = a.agent.channels.get('c1')!;
    await a.put(Array.from({ length: 7 }, (_, i) => createEvent(`e${i}`)));
    const sink = () => a.counter('SINK', 'k1');
    await eventually(() => Number(sink().EventWriteFail) >= 3, 10_000, 'three failed attempts');
    assert.equal(ch.size, 7);
    const s = sink();
    assert.equal(s.EventDrainSuccessCount, 0);
    assert.ok(Number(s.ConnectionCreatedCount) >= 3, 'a new connection per attempt');
    assert.ok(Number(s.ConnectionClosedCount) >= 3, 'the connection is dropped after each failure');
    assert.equal(s.BatchUnderflowCount, s.EventWriteFail);
    // The peer saw the same seven events each time.
    const bodies = peer.lines.filter((l) => 'body_b64' in l).map((l) => Buffer.from(l.body_b64 as string, 'base64').toString());
    assert.deepEqual(
      bodies.slice(0, 14),
      [0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6].map((i) => `e${i}`),
    );
  } finally {
    await a.stop(0);
    await peer.stop();
  }
});
