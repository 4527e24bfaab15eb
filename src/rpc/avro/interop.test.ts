/**
 * Interop with Apache Avro's Python implementation (Debian python3-avro) through
 * test/support/avro/peer.py, in both directions, with and without deflate. These
 * tests fail (never skip) when python3-avro is missing.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { FlumeEvent } from '../../core/event.js';
import { killAll, requirePythonAvro, runPeerClient, startPeerServer, type PeerLine } from '../../../test/support/avro/peer.js';
import { AvroRpcClient } from './client.js';
import { AvroErrorCodes } from './errors.js';
import { AvroRpcServer, type AvroRpcHandler } from './server.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await killAll();
});

test('python3-avro is importable by /usr/bin/python3', () => {
  requirePythonAvro();
});

/** The calls peer.py's client makes: per round i, appendBatch(B events) then append(1 event). */
function expectedFromPeer(count: number, batch: number, bodySize: number): Array<[string, Record<string, string>, string]> {
  const out: Array<[string, Record<string, string>, string]> = [];
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < batch; j++) {
      const tail = Buffer.from(Array.from({ length: bodySize }, (_, k) => (i + j + k) % 256));
      out.push(['appendBatch', { seq: String(i), idx: String(j), uni: 'h\u00e9llo \u2713' }, Buffer.concat([Buffer.from(`event-${i}-${j}`), tail]).toString('hex')]);
    }
    out.push(['append', { seq: String(i), single: '1' }, Buffer.from(`single-${i}`).toString('hex')]);
  }
  return out;
}

async function ourServer(compression: 'none' | 'deflate', handler?: AvroRpcHandler) {
  const received: Array<[string, Record<string, string>, string]> = [];
  const server = new AvroRpcServer(
    { host: '127.0.0.1', port: 0, compression },
    handler ??
      (async (events, kind) => {
        for (const e of events) received.push([kind, { ...e.headers }, e.body.toString('hex')]);
        return true;
      }),
  );
  const { port } = await server.listen();
  cleanups.push(() => server.close());
  return { server, port, received };
}

const calls = (lines: PeerLine[]) => lines.filter((l) => 'call' in l);

for (const compression of ['none', 'deflate'] as const) {
  const flag = compression === 'deflate' ? ['--deflate'] : [];

  test(`the Python Avro client feeds our server (${compression})`, async () => {
    requirePythonAvro();
    const { server, port, received } = await ourServer(compression);
    // Bodies over 8 KiB, so the peer sends several buffers per call, as Java does.
    const lines = await runPeerClient('127.0.0.1', port, [...flag, '--count', '3', '--batch', '4', '--body-size', '10000']);
    assert.deepEqual(
      lines.filter((l) => 'handshake' in l),
      [{ handshake: 'BOTH' }],
    );
    assert.deepEqual(
      calls(lines).map((l) => [l.call, l.serial, l.status]),
      [
        ['appendBatch', 1, 'OK'],
        ['append', 2, 'OK'],
        ['appendBatch', 3, 'OK'],
        ['append', 4, 'OK'],
        ['appendBatch', 5, 'OK'],
        ['append', 6, 'OK'],
      ],
    );
    assert.deepEqual(received, expectedFromPeer(3, 4, 10000));
    assert.equal(server.counters.handshakes, 1);
    assert.equal(server.counters.connectionsFailed, 0);
  });

  test(`the Python client with its own protocol hash: NONE, resend, pipelined calls in odd buffers (${compression})`, async () => {
    requirePythonAvro();
    const { server, port, received } = await ourServer(compression);
    // --split 5: 5-byte buffers with empty buffers between them, cutting through varints.
    const lines = await runPeerClient('127.0.0.1', port, [...flag, '--hash', 'python', '--pipeline', '--split', '5', '--count', '4']);
    assert.deepEqual(
      lines.filter((l) => 'handshake' in l),
      [{ handshake: 'NONE' }, { handshake: 'BOTH' }],
    );
    assert.equal(calls(lines).length, 8);
    assert.ok(
      calls(lines).every((l) => l.status === 'OK'),
      JSON.stringify(lines),
    );
    assert.deepEqual(received, expectedFromPeer(4, 3, 0));
    assert.equal(server.counters.handshakesNone, 1);
    assert.equal(server.counters.handshakes, 1);
  });
}

test('our FAILED answers reach the Python client as FAILED', async () => {
  requirePythonAvro();
  const { port } = await ourServer('none', async (events) => {
    if (events[0]?.headers.single) throw new Error('append refused');
    return false;
  });
  const lines = await runPeerClient('127.0.0.1', port, ['--count', '2']);
  assert.deepEqual(
    calls(lines).map((l) => l.status),
    ['FAILED', 'FAILED', 'FAILED', 'FAILED'],
  );
});

function ourEvents(n: number): FlumeEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    headers: { n: String(i), clé: 'välue ✓', empty: '' },
    body: i % 3 === 0 ? Buffer.alloc(0) : Buffer.from(Array.from({ length: 100 * i + 7 }, (_, k) => (k * 7 + i) % 256)),
  }));
}

function peerEvents(lines: PeerLine[]): Array<[string, Record<string, string>, string]> {
  return lines.filter((l) => 'kind' in l).map((l) => [l.kind as string, l.headers as Record<string, string>, Buffer.from(l.body_b64 as string, 'base64').toString('hex')]);
}

async function ourClient(port: number, compression: 'none' | 'deflate') {
  const client = new AvroRpcClient({ host: '127.0.0.1', port, compression, connectTimeout: 10_000, requestTimeout: 10_000 });
  cleanups.push(() => client.close());
  await client.connect();
  return client;
}

for (const compression of ['none', 'deflate'] as const) {
  const flag = compression === 'deflate' ? ['--deflate'] : [];

  test(`our client feeds the Python Avro server (${compression})`, async () => {
    requirePythonAvro();
    const peer = await startPeerServer(flag);
    cleanups.push(() => peer.stop());
    const client = await ourClient(peer.port, compression);
    const batch = ourEvents(40); // up to 3,907-byte bodies: ~80 KB, many 8 KiB buffers
    await client.appendBatch(batch);
    await client.append({ headers: { one: '1' }, body: Buffer.from('single') });
    await client.appendBatch(ourEvents(2));
    const want = [
      ...batch.map((e): [string, Record<string, string>, string] => ['appendBatch', e.headers, e.body.toString('hex')]),
      ['append', { one: '1' }, Buffer.from('single').toString('hex')],
      ...ourEvents(2).map((e): [string, Record<string, string>, string] => ['appendBatch', e.headers, e.body.toString('hex')]),
    ];
    await peer.waitFor((ls) => peerEvents(ls).length >= want.length);
    assert.deepEqual(peerEvents(peer.lines), want);
    assert.deepEqual(
      peer.lines.filter((l) => 'handshake' in l),
      [{ handshake: 'BOTH' }],
    );
    assert.ok(!peer.lines.some((l) => 'connection_error' in l), JSON.stringify(peer.lines));
  });

  test(`our client through NONE, and pipelined calls answered out of order by the Python server (${compression})`, async () => {
    requirePythonAvro();
    const peer = await startPeerServer([...flag, '--hash', 'python', '--jitter', '40']);
    cleanups.push(() => peer.stop());
    const client = await ourClient(peer.port, compression);
    await client.append({ headers: {}, body: Buffer.from('first') });
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.appendBatch([{ headers: { i: String(i) }, body: Buffer.from(`p${i}`) }])));
    await peer.waitFor((ls) => peerEvents(ls).length >= 21);
    assert.deepEqual(
      peer.lines.filter((l) => 'handshake' in l),
      [{ handshake: 'NONE' }, { handshake: 'BOTH' }],
    );
    assert.deepEqual(
      peerEvents(peer.lines)
        .map((e) => Buffer.from(e[2], 'hex').toString())
        .sort(),
      ['first', ...Array.from({ length: 20 }, (_, i) => `p${i}`)].sort(),
    );
    // The server's hash (Python's own) is remembered for the next connection.
    assert.notEqual(client.serverHash.toString('hex'), '86aadae2c45474c0fe93ffd0f2350a65');
  });
}

test('our client follows a CLIENT answer from the Python server', async () => {
  requirePythonAvro();
  const peer = await startPeerServer(['--hash', 'python', '--know-flume']);
  cleanups.push(() => peer.stop());
  const client = await ourClient(peer.port, 'none');
  await client.appendBatch([{ headers: { a: 'b' }, body: Buffer.from('x') }]);
  await client.appendBatch([{ headers: { a: 'c' }, body: Buffer.from('y') }]);
  assert.deepEqual(
    peer.lines.filter((l) => 'handshake' in l),
    [{ handshake: 'CLIENT' }],
  );
});

test('FAILED and error answers from the Python server reject our calls', async () => {
  requirePythonAvro();
  const failed = await startPeerServer(['--status', 'FAILED']);
  cleanups.push(() => failed.stop());
  const c1 = await ourClient(failed.port, 'none');
  await assert.rejects(c1.appendBatch([{ headers: {}, body: Buffer.from('x') }]), { code: AvroErrorCodes.STATUS, message: /FAILED/ });
  await assert.rejects(c1.append({ headers: {}, body: Buffer.from('x') }), { code: AvroErrorCodes.STATUS });

  const erring = await startPeerServer(['--error', 'channel is full']);
  cleanups.push(() => erring.stop());
  const c2 = await ourClient(erring.port, 'none');
  await assert.rejects(c2.appendBatch([{ headers: {}, body: Buffer.from('x') }]), {
    code: AvroErrorCodes.REMOTE_ERROR,
    message: /channel is full/,
  });
  // The connection survives error answers.
  await assert.rejects(c2.append({ headers: {}, body: Buffer.from('x') }), { code: AvroErrorCodes.REMOTE_ERROR });
});
