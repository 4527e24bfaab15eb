// The thrift source and sink: against Apache Thrift's Python library (Debian
// python3-thrift) with the IDL compiled by Debian's thrift-compiler, chained with each
// other over TLS, and against malformed input.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createEvent } from '../../src/core/event.js';
import { ThriftRpcClient } from '../../src/rpc/thrift/client.js';
import { ThriftErrorCodes, ThriftFrameDecoder, decodeReply, encodeCall, type ThriftMessageName } from '../../src/rpc/thrift/protocol.js';
import { ROOT, eventually, freePort, tempDir } from '../support/agent.js';
import { selfSignedCert } from '../support/avro/peer.js';
import { fileRollSink, inProcessAgent, jobDiagnostics, peerEvents, rolledFiles, rpcSinkJob, rpcSourceJob, sendUntilClosed, withAgents, writeServerCerts } from './rpc-support.js';

const PYTHON = '/usr/bin/python3';
const PEER = path.join(ROOT, 'test', 'support', 'thrift', 'peer.py');
const IDL = path.join(ROOT, 'test', 'support', 'thrift', 'flume.thrift');
const t = tempDir('flume-ts-thrift-');
const GEN = path.join(t.dir, 'gen');
const f = (n: string): string => path.join(t.dir, n);
const procs = new Set<ChildProcess>();

before(() => {
  const py = spawnSync(PYTHON, ['-c', 'import thrift.transport.TTransport, thrift.protocol.TCompactProtocol'], { encoding: 'utf8' });
  const compiler = spawnSync('thrift', ['--version'], { encoding: 'utf8' });
  if (py.status !== 0 || compiler.error || compiler.status !== 0) {
    throw new Error('the Thrift tests need Debian python3-thrift and thrift-compiler: apt-get update && apt-get install -y python3-thrift thrift-compiler');
  }
  fs.mkdirSync(GEN);
  const gen = spawnSync('thrift', ['--gen', 'py', '-out', GEN, IDL], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  writeServerCerts(t.dir, 'pw');
});

after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  t.cleanup();
});

type Line = Record<string, unknown>;

function peer(args: string[]): { proc: ChildProcess; lines: Line[]; err: () => string; exited: Promise<number | null> } {
  const proc = spawn(PYTHON, [PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.add(proc);
  const lines: Line[] = [];
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const l = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (l.trim()) lines.push(JSON.parse(l) as Line);
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => (procs.delete(proc), resolve(code))));
  return { proc, lines, err: () => err, exited };
}

async function peerServer(extra: string[]) {
  const p = peer(['server', '0', '--gen', GEN, ...extra]);
  await eventually(() => p.lines.some((l) => typeof l.listening === 'number'), 10_000, `the python server to listen (${p.err()})`);
  return { ...p, port: p.lines.find((l) => typeof l.listening === 'number')!.listening as number };
}

/** Agent b: our thrift source into memory channel c1; `channel` is the rest of c1's first key line. */
const sourceJob = (port: number, extra = '', channel = 'capacity = 1000\nb.channels.c1.transactionCapacity = 100') => rpcSourceJob('b', 'thrift', port, `b.channels.c1.${channel}\n${extra}`);

/** Agent b or a in this process, its job file in the shared directory. */
const inProcess = (job: string, name: string) => inProcessAgent(job, { name, dir: t.dir });

const thriftClient = async (port: number): Promise<ThriftRpcClient> => {
  const c = new ThriftRpcClient({ host: '127.0.0.1', port, connectTimeout: 3000, requestTimeout: 5000 });
  await c.connect();
  return c;
};

for (const protocol of ['compact', 'binary'] as const) {
  test(`python3-thrift's appendBatch and append (${protocol}) into our thrift source land in a file_roll sink byte for byte`, { timeout: 60_000 }, () =>
    withAgents(async (agents) => {
      const port = await freePort();
      const dir = fs.mkdtempSync(path.join(agents.dir, 'roll-'));
      await agents.start('b', sourceJob(port, `b.sources.r1.protocol = ${protocol}\n` + fileRollSink('b', dir)), { exitCode: 0 });
      const c = peer(['client', '127.0.0.1', String(port), '--gen', GEN, '--count', '3', '--batch', '4', '--body-size', '5000', ...(protocol === 'binary' ? ['--binary'] : [])]);
      assert.equal(await c.exited, 0, c.err());
      assert.deepEqual(
        c.lines.map((l) => l.status),
        ['OK', 'OK', 'OK', 'OK', 'OK', 'OK'],
      );
      const expected = Buffer.concat(peerEvents(3, 4, 5000).flatMap((e) => [e.body, Buffer.from('\n')]));
      await eventually(() => rolledFiles(dir).length >= expected.length, 10_000, 'the file to be written');
      assert.ok(rolledFiles(dir).equals(expected));
    }),
  );
}

test('headers and bodies from python3-thrift arrive intact; counters', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const b = await inProcess(sourceJob(port), 'b');
  try {
    const c = peer(['client', '127.0.0.1', String(port), '--gen', GEN, '--count', '2', '--batch', '3', '--body-size', '10']);
    assert.equal(await c.exited, 0, c.err());
    const got = await b.take();
    assert.deepEqual(
      got.map((e) => [e.headers, e.body.toString('hex')]),
      peerEvents(2, 3, 10).map((e) => [e.headers, e.body.toString('hex')]),
    );
    const s = b.counter('SOURCE');
    assert.equal(s.AppendBatchAcceptedCount, 2);
    assert.equal(s.AppendAcceptedCount, 2);
    assert.equal(s.EventAcceptedCount, 8);
  } finally {
    await b.stop(0);
  }
});

for (const protocol of ['compact', 'binary'] as const) {
  test(`our thrift sink feeds the python3-thrift server (${protocol})`, { timeout: 60_000 }, async () => {
    const server = await peerServer(protocol === 'binary' ? ['--binary'] : []);
    const a = await inProcess(rpcSinkJob('a', 'thrift', server.port, `a.sinks.k1.protocol = ${protocol}\na.sinks.k1.batch-size = 10\n`), 'a');
    try {
      const events = Array.from({ length: 25 }, (_, i) => createEvent(Buffer.from([i, 0, 255, 10]), { n: String(i), ü: '✓' }));
      await a.put(events);
      await eventually(() => server.lines.filter((l) => 'body_b64' in l).length === 25, 10_000, 'the python server to get 25 events');
      const got = server.lines.filter((l) => 'body_b64' in l);
      assert.deepEqual(
        got.map((l) => [l.headers, Buffer.from(l.body_b64 as string, 'base64').toString('hex')]),
        events.map((e) => [e.headers, e.body.toString('hex')]),
      );
      assert.ok(got.every((l) => l.kind === 'appendBatch'));
      await eventually(() => a.counter('SINK').EventDrainSuccessCount === 25, 5000, 'the commits');
      assert.equal(a.counter('SINK').ConnectionCreatedCount, 1);
    } finally {
      await a.stop(0);
      server.proc.kill();
    }
  });
}

test('a FAILED answer from the python3-thrift server rolls back; the sink retries on a new connection', { timeout: 60_000 }, async () => {
  const server = await peerServer(['--status', 'FAILED']);
  const a = await inProcess(rpcSinkJob('a', 'thrift', server.port), 'a');
  try {
    await a.put([createEvent('x'), createEvent('y')]);
    await eventually(() => Number(a.counter('SINK').EventWriteFail) >= 2, 10_000, 'two failed attempts');
    assert.equal(a.agent.channels.get('c1')!.size, 2);
    assert.ok(Number(a.counter('SINK').ConnectionCreatedCount) >= 2);
    assert.match(a.log(), /failed to send events to 127\.0\.0\.1:\d+: appendBatch answered FAILED/);
  } finally {
    await a.stop(0);
    server.proc.kill();
  }
});

test('our thrift sink and source over TLS (PKCS12 keystore, PEM truststore; binary protocol); an untrusting sink fails', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const b = await inProcess(sourceJob(port, `b.sources.r1.protocol = binary\nb.sources.r1.ssl = true\nb.sources.r1.keystore = ${f('server.p12')}\nb.sources.r1.keystore-password = pw\n`), 'b');
  const sinkJob = (tlsKeys: string) => rpcSinkJob('a', 'thrift', port, `a.sinks.k1.protocol = binary\na.sinks.k1.ssl = true\n${tlsKeys}\n`);
  try {
    const a = await inProcess(sinkJob(`a.sinks.k1.truststore = ${f('cert.pem')}`), 'a');
    try {
      await a.put([createEvent('secret-1'), createEvent('secret-2')]);
      await eventually(() => a.counter('SINK').EventDrainSuccessCount === 2, 10_000, 'delivery over TLS');
      assert.deepEqual(
        (await b.take()).map((e) => e.body.toString()),
        ['secret-1', 'secret-2'],
      );
    } finally {
      await a.stop(0);
    }
    const other = selfSignedCert().cert;
    fs.writeFileSync(f('other.pem'), other);
    const bad = await inProcess(sinkJob(`a.sinks.k1.truststore = ${f('other.pem')}`), 'a');
    try {
      await bad.put([createEvent('nope')]);
      await eventually(() => Number(bad.counter('SINK').EventWriteFail) >= 1, 10_000, 'the TLS failure');
      assert.match(bad.log(), /TLS to 127\.0\.0\.1:\d+ failed: self-signed certificate/);
      assert.equal((await b.take()).length, 0);
    } finally {
      await bad.stop(0);
    }
  } finally {
    await b.stop(0);
  }
});

test('python3-thrift over TLS into our thrift source', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const b = await inProcess(sourceJob(port, `b.sources.r1.ssl = true\nb.sources.r1.keystore = ${f('server.p12')}\nb.sources.r1.keystore-password = pw\n`), 'b');
  try {
    const c = peer(['client', '127.0.0.1', String(port), '--gen', GEN, '--count', '1', '--batch', '2', '--ssl', f('cert.pem')]);
    assert.equal(await c.exited, 0, c.err());
    assert.equal((await b.take()).length, 3);
  } finally {
    await b.stop(0);
  }
});

test('a full channel answers FAILED; garbage, a huge frame, a wrong protocol and a client stopping mid-frame are refused and counted while others keep working', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const b = await inProcess(sourceJob(port, '', 'capacity = 3\nb.channels.c1.transactionCapacity = 3\nb.channels.c1.keep-alive = 0'), 'b');
  const good = await thriftClient(port);
  try {
    await good.appendBatch([createEvent('1'), createEvent('2')]);
    await assert.rejects(good.appendBatch([createEvent('3'), createEvent('4')]), { code: ThriftErrorCodes.STATUS, message: /appendBatch answered FAILED/ });
    assert.ok(good.isConnected);
    await good.append(createEvent('3'));

    await sendUntilClosed(port, Buffer.from('GET / HTTP/1.1\r\n\r\n')); // length 0x47455420: over the frame limit
    await sendUntilClosed(port, Buffer.from('7fffffff', 'hex'));
    await sendUntilClosed(port, encodeCall('binary', 'append', 1, [createEvent('wrong protocol')]));
    const call = encodeCall('compact', 'append', 1, [createEvent('cut')]);
    await sendUntilClosed(port, call.subarray(0, call.length - 2), true);
    await eventually(() => b.counter('SOURCE').EventReadFail === 4, 5000, 'four read failures');
    const log = b.log();
    assert.match(log, /closing Thrift connection from 127\.0\.0\.1:\d+: frame of 1195725856 bytes \(allowed 0\.\.16384000\)/);
    assert.match(log, /closing Thrift connection .*undecodable Thrift call/);
    assert.match(log, /closing Thrift connection .*peer closed the connection in the middle of a frame/);
    // Unknown method: an application exception, and the connection stays usable.
    const s = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => s.once('connect', () => r()));
    const decoder = new ThriftFrameDecoder();
    const replies: Buffer[] = [];
    s.on('data', (d: Buffer) => replies.push(...decoder.push(d)));
    s.write(encodeCall('compact', 'foo' as ThriftMessageName, 7, [createEvent('x')]));
    await eventually(() => replies.length === 1, 5000, 'the exception reply');
    assert.deepEqual(decodeReply('compact', replies[0]!), { name: 'foo', seqid: 7, error: "Invalid method name: 'foo'" });
    s.write(encodeCall('compact', 'append', 8, [createEvent('3b')]));
    await eventually(() => replies.length === 2, 5000, 'the append reply');
    assert.deepEqual(decodeReply('compact', replies[1]!), { name: 'append', seqid: 8, status: 'FAILED' }); // the channel is full
    s.destroy();
    await eventually(() => b.counter('SOURCE').EventReadFail === 5, 5000, 'the unknown method counted');
    await good.close();
    assert.deepEqual(
      (await b.take()).map((e) => e.body.toString()),
      ['1', '2', '3'],
    );
    const again = await thriftClient(port);
    await again.appendBatch([createEvent('after')]);
    await again.close();
    assert.equal(b.counter('SOURCE').ChannelWriteFail, 2);
  } finally {
    await good.close();
    await b.stop(0);
  }
});

test('job file checks: kerberos is refused, the documented connection-reset-interval spelling is accepted', () => {
  const check = (job: string, name: string) => jobDiagnostics(t.dir, job, name);
  assert.match(check(sourceJob(4141, 'b.sources.r1.kerberos = true'), 'b'), /error: b\.sources\.r1\.kerberos = true: Kerberos \(SASL\/GSSAPI\) is not supported/);
  assert.match(check(sourceJob(4141, 'b.sources.r1.protocol = json'), 'b'), /expected one of compact, binary, got "json"/);
  const sink = (extra: string) => rpcSinkJob('a', 'org.apache.flume.sink.ThriftSink', 1, extra, 'h');
  assert.equal(check(sink('a.sinks.k1.connection-reset-interval = 60\na.sinks.k1.protocol = BINARY\n'), 'a'), '');
  assert.match(check(sink('a.sinks.k1.kerberos = true\n'), 'a'), /Kerberos \(SASL\/GSSAPI\) is not supported/);
});
