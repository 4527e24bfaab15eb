import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, tempDir, startAgent, tcpExchange, eventually, netcatJob, jobText } from '../support/agent.js';

function job(port: number, out: string, sink: Record<string, string | number> = {}, channel: Record<string, string | number> = {}): string {
  return netcatJob(port, { type: 'file_roll', 'sink.directory': out, ...sink }, { channel: { capacity: 1000, ...channel } });
}

function files(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}
function concat(dir: string): Buffer {
  return Buffer.concat(files(dir).map((f) => fs.readFileSync(path.join(dir, f))));
}

test('file_roll with the text serializer writes the bodies byte for byte', async () => {
  const port = await freePort();
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(job(port, out, { 'sink.rollInterval': 0, 'sink.pathManager.prefix': 'app-', 'sink.pathManager.extension': 'log' }), { dir: t.dir });
  try {
    const input = 'plain ascii\nwith\ttab and \r carriage\nünïcödé 日本語\n\n';
    assert.equal(await tcpExchange(port, input, { expectBytes: 12 }), 'OK\n'.repeat(4));
    await eventually(() => concat(out).length >= Buffer.byteLength(input), 5000, 'file written');
    assert.equal(concat(out).toString('utf8'), input);
    const names = files(out);
    assert.equal(names.length, 1);
    assert.match(names[0]!, /^app-\d{13}-1\.log$/);
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});

test('file_roll with header_and_text writes the headers as Flume prints a map', async () => {
  const port = await freePort();
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(
    jobText({
      sources: { r1: { type: 'netcatudp', bind: '127.0.0.1', port, remoteAddress: 'from', channels: 'c1' } },
      channels: { c1: { type: 'memory' } },
      sinks: { k1: { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.serializer': 'header_and_text', channel: 'c1' } },
    }),
    { dir: t.dir },
  );
  const sock = dgram.createSocket('udp4');
  try {
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const me = sock.address().port;
    for (const m of ['first\nignored after newline', 'second']) {
      await new Promise<void>((r, j) => sock.send(m, port, '127.0.0.1', (e) => (e ? j(e) : r())));
    }
    await eventually(() => concat(out).toString().split('\n').length >= 3, 5000, 'datagrams written');
    assert.equal(concat(out).toString(), `{from=/127.0.0.1:${me}} first\n{from=/127.0.0.1:${me}} second\n`);
  } finally {
    sock.close();
    await agent.stop();
    t.cleanup();
  }
});

test('file_roll with avro_event writes an Avro container file that Apache Avro reads', async () => {
  const port = await freePort();
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(job(port, out, { 'sink.rollInterval': 0, 'sink.serializer': 'avro_event' }), { dir: t.dir });
  try {
    assert.equal(await tcpExchange(port, 'one\ntwo\n', { expectBytes: 6 }), 'OK\nOK\n');
    assert.equal(await tcpExchange(port, 'three\n', { expectBytes: 3 }), 'OK\n');
    await agent.stop();
    const file = path.join(out, files(out)[0]!);
    // Read back with Debian's python3-avro: an implementation not written here.
    const py = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        `
import sys, json
from avro.datafile import DataFileReader
from avro.io import DatumReader
r = DataFileReader(open(sys.argv[1], 'rb'), DatumReader())
print(json.dumps(json.loads(r.schema if isinstance(r.schema, str) else str(r.schema))))
for rec in r:
    print(json.dumps({'headers': rec['headers'], 'body': rec['body'].decode()}))
`,
        file,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(py.status, 0, py.stderr);
    const [schema, ...recs] = py.stdout.trim().split('\n');
    assert.equal(JSON.parse(schema!).name, 'Event');
    assert.deepEqual(
      recs.map((r) => JSON.parse(r)),
      [
        { headers: {}, body: 'one' },
        { headers: {}, body: 'two' },
        { headers: {}, body: 'three' },
      ],
    );
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('file_roll ROLLTIME names files by the local time they were opened', async () => {
  const port = await freePort();
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(job(port, out, { 'sink.rollInterval': 0, 'sink.pathManager': 'ROLLTIME', 'sink.pathManager.prefix': 'r-' }), { dir: t.dir });
  try {
    const before = new Date();
    await tcpExchange(port, 'x\n', { expectBytes: 3 });
    await eventually(() => files(out).length === 1, 5000, 'file opened');
    const name = files(out)[0]!;
    const m = /^r-(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)-1$/.exec(name);
    assert.ok(m, name);
    const opened = new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
    assert.ok(Math.abs(opened.getTime() - before.getTime()) < 5000, `${name} vs ${before.toString()}`);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('file_roll starts a new file every rollInterval and leaves no empty files', async () => {
  const port = await freePort();
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(job(port, out, { 'sink.rollInterval': 1 }), { dir: t.dir, extraArgs: ['-Dflume.root.logger=DEBUG,console'] });
  try {
    // Each step waits for the sink to say it closed the file (a roll), not for a guessed time.
    await tcpExchange(port, 'a\n', { expectBytes: 3 });
    await agent.waitFor(/Closing output file \S+-1\n/, 15000);
    await tcpExchange(port, 'b\n', { expectBytes: 3 });
    await agent.waitFor(/Closing output file \S+-2\n/, 15000);
    // A roll with nothing written opens no file: after the next roll tick there are still two.
    assert.equal(await agent.stop(), 0);
    const names = files(out);
    assert.equal(names.length, 2, `files: ${names.join(', ')}`);
    assert.deepEqual(
      names.map((n) => fs.readFileSync(path.join(out, n), 'utf8')),
      ['a\n', 'b\n'],
    );
    assert.doesNotMatch(agent.stderr(), /Opening output file \S+-3\n/);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('seq delivers exactly totalEvents, each once', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(
    jobText({
      sources: { r1: { type: 'seq', totalEvents: 5000, batchSize: 100, channels: 'c1' } },
      channels: { c1: { type: 'memory', capacity: 1000, transactionCapacity: 100 } },
      sinks: { k1: { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.batchSize': 100, channel: 'c1' } },
    }),
    { dir: t.dir },
  );
  try {
    await eventually(() => concat(out).toString().split('\n').length > 5000, 10000, '5000 lines');
    // Stopped (every file closed) before reading, so a duplicate written late would be seen.
    assert.equal(await agent.stop(), 0);
    const lines = concat(out).toString().split('\n').filter(Boolean);
    assert.equal(lines.length, 5000);
    assert.deepEqual(
      lines,
      Array.from({ length: 5000 }, (_, i) => String(i)),
    );
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('StressSource sends maxTotalEvents bodies of size bytes', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(
    jobText({
      sources: { r1: { type: 'org.apache.flume.source.StressSource', size: 10, maxTotalEvents: 777, batchSize: 50, channels: 'c1' } },
      channels: { c1: { type: 'memory', capacity: 1000 } },
      sinks: { k1: { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, channel: 'c1' } },
    }),
    { dir: t.dir },
  );
  try {
    await eventually(() => concat(out).length >= 777 * 11, 10000, 'all events');
    assert.equal(await agent.stop(), 0);
    assert.deepEqual(concat(out), Buffer.from(('\x7f'.repeat(10) + '\n').repeat(777), 'latin1'));
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('SIGTERM stops cleanly with every acknowledged event written', async () => {
  const port = await freePort();
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(job(port, out, { 'sink.rollInterval': 0 }, { capacity: 100000, transactionCapacity: 1000 }), { dir: t.dir });
  const n = 20000;
  const input = Array.from({ length: n }, (_, i) => `event-${i}`).join('\n') + '\n';
  try {
    const replies = await tcpExchange(port, input, { expectBytes: 3 * n, timeoutMs: 20000 });
    assert.equal(replies, 'OK\n'.repeat(n));
    // Stop at once: the sink must drain what the channel holds before the agent exits.
    assert.equal(await agent.stop('SIGTERM'), 0);
    assert.match(agent.stderr(), /Agent a1 stopped/);
    assert.doesNotMatch(agent.stderr(), /not delivered/);
    assert.equal(concat(out).toString(), input);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('SIGTERM while the channel holds a backlog: the sink drains it, every event the source counted as accepted is written once, exit 0', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  // seq fills the channel far faster than a one-event-per-transaction sink empties it.
  const total = 200000;
  const agent = await startAgent(
    jobText({
      sources: { r1: { type: 'seq', batchSize: 1000, totalEvents: total, channels: 'c1' } },
      channels: { c1: { type: 'memory', capacity: total, transactionCapacity: 1000 } },
      sinks: { k1: { type: 'file_roll', channel: 'c1', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.batchSize': 1 } },
    }),
    { dir: t.dir, extraArgs: ['-Dflume.shutdown.grace.ms=120000'] },
  );
  try {
    await eventually(() => concat(out).length > 0, 10000, 'the sink to write');
    assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr());
    const accepted = Number(/Shutdown Metric for type: SOURCE, name: r1\. .*EventAcceptedCount == (\d+)/.exec(agent.stderr())?.[1]);
    const drained = Number(/Shutdown Metric for type: SINK, name: k1\. .*EventDrainSuccessCount == (\d+)/.exec(agent.stderr())?.[1]);
    assert.ok(accepted > 0, agent.stderr());
    assert.equal(drained, accepted);
    // 0 .. accepted-1, in order, each once: nothing the channel held at SIGTERM was dropped.
    const lines = concat(out).toString().split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, accepted);
    for (let i = 0; i < lines.length; i++) if (lines[i] !== String(i)) assert.fail(`line ${i} is ${lines[i]}`);
    assert.doesNotMatch(agent.stderr(), /not delivered|abandon/);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('a missing sink.directory is a clear start-up error, not a stack trace', async () => {
  const port = await freePort();
  const t = tempDir();
  const { spawnFlume, writeJob } = await import('../support/agent.js');
  const agent = spawnFlume(['agent', '-n', 'a1', '-f', writeJob(t.dir, job(port, path.join(t.dir, 'missing'))), '-Dflume.root.logger=WARN,console']);
  const code = await agent.exited;
  assert.notEqual(code, 0);
  assert.match(
    agent.stderr(),
    /flume-ng: agent a1 not started: .*job\.conf:\d+: a1\.sinks\.k1\.sink\.directory: sink runner k1 failed to start: file_roll sink k1: sink.directory ".*missing" does not exist/,
  );
  assert.doesNotMatch(agent.stderr(), /\n\s+at /, 'no stack trace');
  t.cleanup();
});

test('lines cut anywhere across TCP reads (inside a UTF-8 character, before a \\r\\n) arrive byte for byte, once', async () => {
  const port = await freePort();
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(
    netcatJob(
      port,
      { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.batchSize': 7 },
      { source: { 'ack-every-event': false }, channel: { capacity: 10000, transactionCapacity: 100 } },
    ),
    { dir: t.dir },
  );
  try {
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'日本語ü'.repeat(i % 7)}${i % 5 === 0 ? '\r' : ''}${i % 11 === 0 ? '' : ' tail'}`);
    const input = Buffer.from(lines.join('\n') + '\nlast line, no newline', 'utf8');
    const sock = net.connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    await new Promise<void>((r, j) => sock.once('connect', r).once('error', j));
    // Pieces of 1 to 600 bytes, each written after the previous one left: most lines straddle two reads.
    let seed = 7;
    for (let off = 0; off < input.length; ) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const n = 1 + (seed % 600);
      await new Promise<void>((r) => sock.write(input.subarray(off, off + n), () => r()));
      off += n;
      if (seed % 3 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    sock.end();
    const want = input.toString('utf8') + '\n';
    await eventually(() => concat(out).length >= Buffer.byteLength(want), 10000, 'every line written');
    assert.equal(await agent.stop(), 0);
    assert.equal(concat(out).toString('utf8'), want);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});
