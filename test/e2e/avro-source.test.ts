// The avro source inside a running agent (in this process, so counters and channels
// can be read): acknowledgements, FAILED answers, malformed input, ipFilter, options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AvroRpcClient } from '../../src/rpc/avro/client.js';
import { AvroErrorCodes } from '../../src/rpc/avro/errors.js';
import { encodeFrame } from '../../src/rpc/avro/framing.js';
import { CALL_HEADERS, encodeAppendParams, encodeHandshakeRequest } from '../../src/rpc/avro/protocol.js';
import type { FlumeEvent } from '../../src/core/event.js';
import { eventually, freePort, tempDir } from '../support/agent.js';
import { inProcessAgent, jobDiagnostics, rpcSourceJob, sendUntilClosed } from './rpc-support.js';

/** Builds and starts the agent from job text in this process. */
const runAgent = (job: string) => inProcessAgent(job, { options: { drainGraceMs: 500 } });

function sourceJob(port: number, extra = '', channel = 'capacity = 1000\na1.channels.c1.transactionCapacity = 100'): string {
  return rpcSourceJob('a1', 'avro', port, `a1.channels.c1.${channel}\n${extra}`);
}

async function client(port: number, extra: Partial<ConstructorParameters<typeof AvroRpcClient>[0]> = {}): Promise<AvroRpcClient> {
  const c = new AvroRpcClient({ host: '127.0.0.1', port, connectTimeout: 5000, requestTimeout: 10_000, ...extra });
  await c.connect();
  return c;
}

const ev = (body: string | Buffer, headers: Record<string, string> = {}): FlumeEvent => ({ headers, body: typeof body === 'string' ? Buffer.from(body) : body });

test('append and appendBatch land in the channel with headers and bodies; OK only after the commit; counters', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const a = await runAgent(sourceJob(port));
  const c = await client(port);
  try {
    await c.append(ev('single', { h: 'v' }));
    await c.appendBatch([ev('b1', { seq: '1', ünï: 'cödé ✓' }), ev(Buffer.from([0, 1, 2, 255, 10, 13])), ev('')]);
    // Acknowledged means committed: the events are in the channel now, not later.
    const got = await a.take();
    assert.deepEqual(
      got.map((e) => [e.headers, e.body.toString('hex')]),
      [
        [{ h: 'v' }, Buffer.from('single').toString('hex')],
        [{ seq: '1', ünï: 'cödé ✓' }, Buffer.from('b1').toString('hex')],
        [{}, '000102ff0a0d'],
        [{}, ''],
      ],
    );
    await c.appendBatch([]);
    const s = a.counter('SOURCE', 'r1');
    assert.equal(s.AppendReceivedCount, 1);
    assert.equal(s.AppendAcceptedCount, 1);
    assert.equal(s.AppendBatchReceivedCount, 2);
    assert.equal(s.AppendBatchAcceptedCount, 2);
    assert.equal(s.EventReceivedCount, 4);
    assert.equal(s.EventAcceptedCount, 4);
    assert.equal(s.OpenConnectionCount, 1);
    assert.equal(s.EventReadFail, 0);
    assert.equal(s.ChannelWriteFail, 0);
  } finally {
    await c.close();
    await a.stop();
  }
});

test('a full channel answers FAILED at once (no hang, connection kept), and OK again once there is room', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const a = await runAgent(sourceJob(port, '', 'capacity = 5\na1.channels.c1.transactionCapacity = 5\na1.channels.c1.keep-alive = 0'));
  const c = await client(port);
  try {
    await c.appendBatch([1, 2, 3, 4].map((i) => ev(`e${i}`)));
    const t0 = Date.now();
    await assert.rejects(c.appendBatch([ev('e5'), ev('e6')]), { code: AvroErrorCodes.STATUS, message: /appendBatch answered FAILED/ });
    await assert.rejects(
      c.append(ev('e5')).then(() => c.append(ev('e6'))),
      { code: AvroErrorCodes.STATUS, message: /append answered FAILED/ },
    );
    // A wait for a timeout would take the client's 20 s request timeout; the bound is loose for a loaded machine.
    assert.ok(Date.now() - t0 < 10_000, 'answered without waiting for a timeout');
    assert.ok(c.isConnected, 'the connection stays open after FAILED');
    assert.deepEqual(
      (await a.take()).map((e) => e.body.toString()),
      ['e1', 'e2', 'e3', 'e4', 'e5'],
    );
    await c.appendBatch([ev('e6'), ev('e7')]);
    const s = a.counter('SOURCE', 'r1');
    assert.equal(s.ChannelWriteFail, 2);
    assert.equal(s.AppendBatchReceivedCount, 3);
    assert.equal(s.AppendBatchAcceptedCount, 2);
    assert.equal(s.AppendAcceptedCount, 1);
    assert.equal(s.EventAcceptedCount, 7);
    assert.match(a.log(), /WARN Avro source r1: unable to process event batch of 2, answering FAILED: Space for commit to queue couldn't be acquired/);
  } finally {
    await c.close();
    await a.stop();
  }
});

test('an appendBatch larger than transactionCapacity answers FAILED, with advice in the log', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const a = await runAgent(sourceJob(port, '', 'capacity = 1000\na1.channels.c1.transactionCapacity = 10'));
  const c = await client(port);
  try {
    await assert.rejects(c.appendBatch(Array.from({ length: 11 }, (_, i) => ev(`e${i}`))), { code: AvroErrorCodes.STATUS });
    await c.appendBatch(Array.from({ length: 10 }, (_, i) => ev(`e${i}`)));
    assert.equal((await a.take()).length, 10);
    assert.match(a.log(), /batch of 11 events exceeds the channels' transactionCapacity 10: lower the sender's batch-size/);
    assert.equal(a.counter('SOURCE', 'r1').ChannelWriteFail, 1);
  } finally {
    await c.close();
    await a.stop();
  }
});

test('garbage, a huge announced frame and a client stopping mid-frame are refused, logged and counted; other clients keep working', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const a = await runAgent(sourceJob(port, '', 'capacity = 100000\na1.channels.c1.transactionCapacity = 100'));
  const good = await client(port);
  // A steady client sends throughout.
  let sent = 0;
  let stop = false;
  const steady = (async () => {
    while (!stop) {
      await good.appendBatch([ev(`steady-${sent}`)]);
      sent++;
    }
  })();
  try {
    await sendUntilClosed(port, 'GET / HTTP/1.1\r\nHost: flume\r\n\r\n');
    // serial 1, one buffer, announced length 2^31-1.
    await sendUntilClosed(port, Buffer.from('00000001000000017fffffff', 'hex'));
    const frame = encodeFrame(1, [Buffer.concat([encodeHandshakeRequest(null), CALL_HEADERS.append]), encodeAppendParams(ev('never'))]);
    await sendUntilClosed(port, frame.subarray(0, frame.length - 5), true);

    await eventually(() => a.counter('SOURCE', 'r1').EventReadFail === 3, 5000, 'three read failures counted');
    const before = sent;
    await eventually(() => sent > before + 5, 5000, 'the steady client to keep going');
    const log = a.log();
    assert.match(log, /WARN closing Avro RPC connection from 127\.0\.0\.1:\d+: frame \d+ announces \d+ buffers/);
    assert.match(log, /WARN closing Avro RPC connection from 127\.0\.0\.1:\d+: frame 1 exceeds 67108864 bytes/);
    assert.match(log, /WARN closing Avro RPC connection from 127\.0\.0\.1:\d+: peer closed the connection in the middle of a frame/);
    // A new client is served as well.
    const fresh = await client(port);
    await fresh.append(ev('fresh'));
    await fresh.close();
    stop = true;
    await steady;
    const bodies = (await a.take()).map((e) => e.body.toString());
    assert.ok(!bodies.includes('never'));
    assert.equal(bodies.filter((b) => b.startsWith('steady-')).length, sent);
  } finally {
    stop = true;
    await steady.catch(() => {});
    await good.close();
    await a.stop();
  }
});

test('ipFilter: a denied address is disconnected before any byte is read; an allowed one is served', { timeout: 30_000 }, async () => {
  const p1 = await freePort();
  const denied = await runAgent(sourceJob(p1, 'a1.sources.r1.ipFilter = true\na1.sources.r1.ipFilterRules = allow:ip:10.*,deny:ip:127.*'));
  try {
    const c = new AvroRpcClient({ host: '127.0.0.1', port: p1, connectTimeout: 3000, requestTimeout: 3000 });
    await c.connect().catch(() => {});
    await assert.rejects(c.append(ev('x')), { code: AvroErrorCodes.CLOSED });
    await c.close();
    assert.match(denied.log(), /INFO Avro source r1: ipFilter with rules allow:ip:10\.\*,deny:ip:127\.\*/);
    assert.match(denied.log(), /connection from (::ffff:)?127\.0\.0\.1 refused by ipFilterRules/);
    assert.equal((await denied.take()).length, 0);
  } finally {
    await denied.stop();
  }
  const p2 = await freePort();
  const allowed = await runAgent(sourceJob(p2, 'a1.sources.r1.ipFilter = true\na1.sources.r1.ipFilterRules = deny:ip:10.*,allow:name:localhost,deny:ip:*'));
  try {
    const c = await client(p2);
    await c.append(ev('through'));
    await c.close();
    assert.deepEqual(
      (await allowed.take()).map((e) => e.body.toString()),
      ['through'],
    );
  } finally {
    await allowed.stop();
  }
});

test('deflate: the source and our client agree; a plain client is refused on its connection only', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const a = await runAgent(sourceJob(port, 'a1.sources.r1.compression-type = deflate'));
  const z = await client(port, { compression: 'deflate' });
  try {
    await z.appendBatch([ev('zipped', { k: 'v' }), ev(Buffer.alloc(50_000, 'a'))]);
    const plain = await client(port);
    await assert.rejects(plain.append(ev('plain')), { code: AvroErrorCodes.CLOSED });
    await plain.close();
    await z.append(ev('still'));
    const got = await a.take();
    assert.deepEqual(
      got.map((e) => e.body.length),
      [6, 50_000, 5],
    );
    await eventually(() => a.counter('SOURCE', 'r1').EventReadFail === 1, 5000, 'the plain connection counted');
  } finally {
    await z.close();
    await a.stop();
  }
});

test('stopping the agent lets a running call answer, then closes the connections', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const a = await runAgent(sourceJob(port));
  const c = await client(port);
  await c.appendBatch([ev('before stop')]);
  await a.stop();
  assert.equal(c.isConnected, false);
  await assert.rejects(c.append(ev('after')), { code: AvroErrorCodes.CLOSED });
  await c.close();
});

test('job file checks: ipFilter without rules, bad rules, a JKS keystore, unknown protocols', async () => {
  const t = tempDir();
  try {
    const jks = `${t.dir}/server.jks`;
    (await import('node:fs')).writeFileSync(jks, Buffer.from('feedfeed00000002', 'hex'));
    const check = (extra: string) => jobDiagnostics(t.dir, sourceJob(4141, extra), 'a1');
    assert.match(check('a1.sources.r1.ipFilter = true'), /error: a1\.sources\.r1\.ipFilterRules is required when ipFilter = true/);
    assert.match(check('a1.sources.r1.ipFilter = true\na1.sources.r1.ipFilterRules = permit:ip:*'), /error: a1\.sources\.r1\.ipFilterRules: bad ipFilterRules entry "permit:ip:\*"/);
    assert.match(check('a1.sources.r1.ipFilterRules = deny:ip:*'), /warning: a1\.sources\.r1\.ipFilterRules is ignored because ipFilter is not true/);
    assert.match(check('a1.sources.r1.ssl = true'), /error: a1\.sources\.r1\.keystore is required when ssl = true/);
    const j = check(`a1.sources.r1.ssl = true\na1.sources.r1.keystore = ${jks}\na1.sources.r1.keystore-password = x`);
    assert.match(j, /is a Java JKS store, which Node's TLS cannot read/);
    assert.match(j, /keytool -importkeystore -srckeystore .*server\.jks -srcstoretype JKS -destkeystore .*server\.p12 -deststoretype PKCS12/);
    assert.match(check('a1.sources.r1.compression-type = gzip'), /error: a1\.sources\.r1\.compression-type: expected one of none, deflate, got "gzip"/);
    const pem = `${t.dir}/server.pem`;
    (await import('node:fs')).writeFileSync(pem, '-----BEGIN PRIVATE KEY-----\n');
    assert.match(check(`a1.sources.r1.ssl = true\na1.sources.r1.keystore = ${pem}\na1.sources.r1.include-protocols = TLSv1.2 TLSv9`), /unknown TLS protocol "TLSv9"/);
    assert.match(
      check(`a1.sources.r1.ssl = true\na1.sources.r1.keystore = ${pem}\na1.sources.r1.include-protocols = TLSv1.2\na1.sources.r1.exclude-protocols = TLSv1.2`),
      /no TLS protocol is left to use/,
    );
    assert.match(
      check(`a1.sources.r1.ssl = true\na1.sources.r1.keystore = ${pem}\na1.sources.r1.include-cipher-suites = TLS_FOO_WITH_BAR_SHA`),
      /cipher suite "TLS_FOO_WITH_BAR_SHA" is not available/,
    );
    assert.equal(check('a1.sources.r1.threads = 8'), '');
  } finally {
    t.cleanup();
  }
});
