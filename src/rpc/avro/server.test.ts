import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import type { FlumeEvent } from '../../core/event.js';
import type { Logger } from '../../core/logger.js';
import { BinaryReader } from './binary.js';
import { AvroRpcClient, type AvroRpcClientOptions } from './client.js';
import { AvroErrorCodes } from './errors.js';
import { FrameDecoder, encodeFrame, type DataPack } from './framing.js';
import { CALL_HEADERS, PROTOCOL_VARIANTS, decodeCallResponse, decodeHandshakeResponse, encodeAppendParams, encodeHandshakeRequest } from './protocol.js';
import { AvroRpcServer, type AvroRpcHandler, type AvroRpcServerOptions } from './server.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A logger that keeps warnings, so tests can check a refused connection was explained. */
function memoryLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const l = {
    warnings,
    isDebugEnabled: false,
    error: (m: string) => warnings.push(m),
    warn: (m: string) => warnings.push(m),
    info: () => {},
    debug: () => {},
    child: () => l,
  };
  return l;
}

async function startServer(handler: AvroRpcHandler, extra: Partial<AvroRpcServerOptions> = {}) {
  const logger = memoryLogger();
  const server = new AvroRpcServer({ host: '127.0.0.1', port: 0, logger, closeTimeout: 500, ...extra }, handler);
  const { port } = await server.listen();
  cleanups.push(() => server.close());
  return { server, port, logger };
}

async function startClient(port: number, extra: Partial<AvroRpcClientOptions> = {}) {
  const client = new AvroRpcClient({ host: '127.0.0.1', port, connectTimeout: 5000, requestTimeout: 5000, ...extra });
  cleanups.push(() => client.close());
  await client.connect();
  return client;
}

async function until(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A raw TCP connection that collects response packs. */
async function rawClient(port: number) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const packs: DataPack[] = [];
  const d = new FrameDecoder();
  let closed = false;
  sock.on('data', (c: Buffer) => packs.push(...d.push(c)));
  sock.on('close', () => (closed = true));
  sock.on('error', () => {});
  cleanups.push(async () => void sock.destroy());
  return { sock, packs, isClosed: () => closed };
}

const ev = (body: string | Buffer, headers: Record<string, string> = {}): FlumeEvent => ({
  headers,
  body: typeof body === 'string' ? Buffer.from(body) : body,
});

const plain = (events: FlumeEvent[]) => events.map((e) => [{ ...e.headers }, e.body.toString('hex')]);

for (const compression of ['none', 'deflate'] as const) {
  test(`our client feeds our server (compression ${compression}), events intact`, async () => {
    const got: Array<[string, FlumeEvent[]]> = [];
    const { server, port } = await startServer(
      async (events, kind) => {
        got.push([kind, events]);
        return true;
      },
      { compression },
    );
    const client = await startClient(port, { compression, compressionLevel: 9 });
    const small = [ev('hi', { h: 'v' }), ev(Buffer.alloc(0)), ev(Buffer.from([0, 255, 10, 13]), { ü: '✓', empty: '' })];
    await client.appendBatch(small);
    await client.append(ev('single', { a: 'b' }));
    // 10,000 events of 300 bytes: about 3 MB, cut into 8 KiB buffers.
    const big = Array.from({ length: 10_000 }, (_, i) => ev(Buffer.alloc(300, i % 251), { seq: String(i) }));
    await client.appendBatch(big);
    await client.appendBatch([]);

    assert.deepEqual(
      got.map(([k, e]) => [k, e.length]),
      [
        ['appendBatch', 3],
        ['append', 1],
        ['appendBatch', 10_000],
        ['appendBatch', 0],
      ],
    );
    assert.deepEqual(plain(got[0]![1]), plain(small));
    assert.deepEqual(plain(got[2]![1]), plain(big));
    assert.equal(server.counters.handshakes, 1);
    assert.equal(server.counters.callsOk, 4);
    assert.equal(server.counters.eventsReceived, 10_004);
    assert.equal(server.counters.connectionsOpen, 1);
    await client.close();
    await until(() => server.counters.connectionsOpen === 0, 'the connection to close');
    assert.equal(server.counters.connectionsFailed, 0);
  });
}

test('handler false, a throw or a rejection answers FAILED, and the connection stays usable', async () => {
  const { server, port } = await startServer(async (events) => {
    const mode = events[0]?.headers.mode;
    if (mode === 'throw') throw new Error('handler blew up');
    if (mode === 'reject') return Promise.reject(new Error('rejected'));
    return mode !== 'false';
  });
  const client = await startClient(port);
  for (const mode of ['false', 'throw', 'reject']) {
    await assert.rejects(client.appendBatch([ev('x', { mode })]), { code: AvroErrorCodes.STATUS, message: /FAILED/ });
    await assert.rejects(client.append(ev('x', { mode })), { code: AvroErrorCodes.STATUS });
  }
  await client.appendBatch([ev('fine')]);
  assert.equal(server.counters.callsFailed, 6);
  assert.equal(server.counters.callsOk, 1);
  assert.equal(server.counters.connectionsFailed, 0);
});

test('pipelined calls are served concurrently and matched by serial when answered out of order', async () => {
  let running = 0;
  let maxRunning = 0;
  const { port } = await startServer(async (events) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    const n = Number(events[0]!.headers.n);
    // Later calls finish first.
    await new Promise((r) => setTimeout(r, 200 - n * 10));
    running--;
    return n % 3 !== 0;
  });
  const client = await startClient(port);
  await client.appendBatch([ev('warm-up', { n: '1' })]);
  const results = await Promise.allSettled(Array.from({ length: 15 }, (_, n) => client.appendBatch([ev('x', { n: String(n) })])));
  assert.deepEqual(
    results.map((r) => r.status),
    Array.from({ length: 15 }, (_, n) => (n % 3 !== 0 ? 'fulfilled' : 'rejected')),
  );
  assert.ok(maxRunning > 1, 'calls ran concurrently');
});

test('garbage on the port closes that connection with a reason and a count; others keep working', async () => {
  const { server, port, logger } = await startServer(async () => true);
  const good = await startClient(port);
  await good.appendBatch([ev('before')]);

  const raw = await rawClient(port);
  raw.sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(raw.isClosed, 'the garbage connection to close');
  assert.equal(server.counters.framesRefused, 1);
  assert.equal(server.counters.connectionsFailed, 1);
  assert.match(logger.warnings.join('\n'), /announces \d+ buffers/);

  // Well framed, but no handshake inside.
  const raw2 = await rawClient(port);
  raw2.sock.write(encodeFrame(1, [Buffer.from('hello')]));
  await until(raw2.isClosed, 'the second garbage connection to close');
  assert.equal(server.counters.decodeErrors, 1);
  assert.match(logger.warnings.join('\n'), /bad handshake/);

  await good.appendBatch([ev('after')]);
  const fresh = await startClient(port);
  await fresh.appendBatch([ev('new')]);
});

test('a frame over maxFrameBytes or maxBuffers is refused without harming other connections', async () => {
  const { server, port, logger } = await startServer(async () => true, { maxFrameBytes: 4096, maxBuffers: 8 });
  const other = await startClient(port);
  await other.appendBatch([ev('ok')]);
  const big = await startClient(port);
  await assert.rejects(big.appendBatch([ev(Buffer.alloc(5000))]), { code: AvroErrorCodes.CLOSED });
  assert.equal(server.counters.framesRefused, 1);
  assert.match(logger.warnings.join('\n'), /exceeds 4096 bytes/);

  const raw = await rawClient(port);
  raw.sock.write(Buffer.from('000000010000000900000000', 'hex'));
  await until(raw.isClosed, 'the many-buffers connection to close');
  assert.equal(server.counters.framesRefused, 2);
  await other.appendBatch([ev('still ok')]);
});

test('a client stopping mid-frame is counted as truncated', async () => {
  const { server, port, logger } = await startServer(async () => true);
  const raw = await rawClient(port);
  const frame = encodeFrame(1, [Buffer.concat([encodeHandshakeRequest(null), CALL_HEADERS.append]), encodeAppendParams(ev('x'))]);
  raw.sock.end(frame.subarray(0, frame.length - 3));
  await until(() => server.counters.framesTruncated === 1, 'the truncated frame to be counted');
  await until(raw.isClosed, 'the connection to close');
  assert.match(logger.warnings.join('\n'), /middle of a frame/);
  assert.equal(server.counters.connectionsOpen, 0);
});

test('a client that goes silent mid-frame is closed after frameStallTimeout; a paused connection is not', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let holding = false;
  const { server, port, logger } = await startServer(
    async (events) => {
      if (events[0]?.body.toString() === 'hold') {
        holding = true;
        await gate;
      }
      return true;
    },
    { frameStallTimeout: 300, maxPendingCalls: 1 },
  );
  const raw = await rawClient(port);
  const frame = encodeFrame(1, [Buffer.concat([encodeHandshakeRequest(null), CALL_HEADERS.append]), encodeAppendParams(ev('x'))]);
  raw.sock.write(frame.subarray(0, frame.length - 3)); // and nothing more, connection left open
  await until(raw.isClosed, 'the stalled connection to close', 3000);
  assert.equal(server.counters.framesTruncated, 1);
  assert.match(logger.warnings.join('\n'), /no data for 300 ms in the middle of a frame/);

  // A connection we stop reading (a call is running, maxPendingCalls 1) is never timed out for it.
  const busy = await startClient(port);
  const held = busy.append(ev('hold'));
  await until(() => holding, 'the held call to run');
  const next = busy.append(ev('after'));
  await new Promise((r) => setTimeout(r, 700));
  release();
  await held;
  await next;
  assert.equal(server.counters.framesTruncated, 1);
  assert.equal(server.counters.connectionsFailed, 1);
});

test('unknown messages get an Avro system error, an empty name is a ping', async () => {
  const { server, port } = await startServer(async () => true);
  const raw = await rawClient(port);
  const nameFoo = Buffer.from('0006666f6f', 'hex'); // metadata {}, "foo"
  raw.sock.write(encodeFrame(1, [encodeHandshakeRequest(null), nameFoo]));
  await until(() => raw.packs.length === 1, 'the first response');
  let r = new BinaryReader(Buffer.concat(raw.packs[0]!.buffers));
  assert.equal(decodeHandshakeResponse(r).match, 'BOTH');
  assert.deepEqual(decodeCallResponse(r), { error: 'org.apache.avro.AvroRuntimeException: No such remote message: foo' });

  raw.sock.write(encodeFrame(2, [Buffer.from('0000', 'hex')])); // metadata {}, name ""
  await until(() => raw.packs.length === 2, 'the ping response');
  assert.deepEqual(
    raw.packs[1]!.buffers.map((b) => b.length),
    [0],
  );

  // Undecodable parameters: a system error, and the connection stays open.
  raw.sock.write(encodeFrame(3, [CALL_HEADERS.appendBatch, Buffer.from('02', 'hex')]));
  await until(() => raw.packs.length === 3, 'the error response');
  r = new BinaryReader(Buffer.concat(raw.packs[2]!.buffers));
  assert.match(decodeCallResponse(r).error ?? '', /AvroRuntimeException/);
  assert.equal(server.counters.systemErrors, 2);
  assert.equal(raw.isClosed(), false);
});

test('a client with another protocol hash gets NONE, then BOTH once it sends its text', async () => {
  const { server, port } = await startServer(async () => true);
  const raw = await rawClient(port);
  const otherHash = Buffer.alloc(16, 1);
  const hs = (text: string | null): Buffer => {
    const b = encodeHandshakeRequest(text);
    otherHash.copy(b, 0); // clientHash
    return b;
  };
  raw.sock.write(encodeFrame(1, [hs(null), CALL_HEADERS.append, encodeAppendParams(ev('x'))]));
  await until(() => raw.packs.length === 1, 'the NONE');
  assert.equal(raw.packs[0]!.buffers.length, 1);
  assert.equal(decodeHandshakeResponse(new BinaryReader(raw.packs[0]!.buffers[0]!)).match, 'NONE');
  // A protocol whose append takes a string: only appendBatch is usable.
  const changed = JSON.parse(PROTOCOL_VARIANTS.nodoc);
  changed.messages.append.request[0].type = 'string';
  raw.sock.write(encodeFrame(2, [hs(JSON.stringify(changed)), CALL_HEADERS.append, encodeAppendParams(ev('x'))]));
  await until(() => raw.packs.length === 2, 'the BOTH');
  const r = new BinaryReader(Buffer.concat(raw.packs[1]!.buffers));
  assert.equal(decodeHandshakeResponse(r).match, 'BOTH');
  assert.match(decodeCallResponse(r).error ?? '', /does not match AvroSourceProtocol/);
  assert.equal(server.counters.handshakesNone, 1);
  assert.equal(server.counters.handshakes, 1);
});

test('a plain client against a deflate server is refused on that connection only', async () => {
  const { server, port, logger } = await startServer(async () => true, { compression: 'deflate' });
  const plainClient = await startClient(port, { compression: 'none' });
  await assert.rejects(plainClient.appendBatch([ev('x')]), { code: AvroErrorCodes.CLOSED });
  await until(() => server.counters.connectionsFailed === 1, 'the refusal to be counted');
  assert.match(logger.warnings.join('\n'), /compressed stream from peer is invalid/);
  const good = await startClient(port, { compression: 'deflate' });
  await good.appendBatch([ev('y')]);
});

test('ipFilterRules: first match decides, no match accepts', async () => {
  const denied = await startServer(async () => true, { ipFilterRules: 'allow:ip:10.*,deny:ip:127.0.0.*' });
  const c1 = await startClient(denied.port);
  await assert.rejects(c1.appendBatch([ev('x')]), { code: AvroErrorCodes.CLOSED });
  await until(() => denied.server.counters.connectionsRejected === 1, 'the rejection to be counted');
  assert.equal(denied.server.counters.connectionsAccepted, 0);

  const local = await startServer(async () => true, { ipFilterRules: 'allow:name:localhost,deny:ip:*' });
  await (await startClient(local.port)).appendBatch([ev('x')]);
  const noMatch = await startServer(async () => true, { ipFilterRules: 'deny:ip:10.1.2.3' });
  await (await startClient(noMatch.port)).appendBatch([ev('x')]);
  assert.throws(() => new AvroRpcServer({ port: 0, ipFilterRules: 'allow:host:*' }, async () => true), {
    code: AvroErrorCodes.IP_FILTER_RULE,
  });
});

test('the client times out, then drops the connection; calls need connect()', async () => {
  const { port } = await startServer((events) => (events[0]?.headers.hang ? new Promise<boolean>(() => {}) : Promise.resolve(true)));
  const client = await startClient(port, { requestTimeout: 300, connectTimeout: 300 });
  await client.appendBatch([ev('ok')]);
  const t0 = Date.now();
  await assert.rejects(client.appendBatch([ev('x', { hang: '1' })]), { code: AvroErrorCodes.TIMEOUT });
  assert.ok(Date.now() - t0 >= 250);
  assert.equal(client.isConnected, false);
  await assert.rejects(client.appendBatch([ev('x')]), { code: AvroErrorCodes.CLOSED });
  await client.connect();
  await client.appendBatch([ev('again')]);

  const never = new AvroRpcClient({ host: '127.0.0.1', port });
  await assert.rejects(never.append(ev('x')), { code: AvroErrorCodes.CLOSED });
  // A malformed event is a rejection, not a synchronous throw.
  const bad = { headers: { n: 5 }, body: 'text' } as unknown as FlumeEvent;
  await assert.rejects(client.appendBatch([bad]), { code: AvroErrorCodes.BAD_EVENT });
  await client.appendBatch([ev('still fine')]);
});

test('a client that sends but never reads stops being read (bounded buffering)', async () => {
  const { server, port } = await startServer(async () => true, { maxPendingCalls: 4 });
  const raw = await rawClient(port);
  raw.sock.pause(); // never read the answers
  const call = (serial: number, hs: boolean): Buffer =>
    encodeFrame(serial, [hs ? Buffer.concat([encodeHandshakeRequest(null), CALL_HEADERS.append]) : CALL_HEADERS.append, encodeAppendParams(ev('x'))]);
  raw.sock.write(call(1, true));
  // Far more requests than the socket buffers can hold answers for.
  const chunk = Buffer.concat(Array.from({ length: 2000 }, (_, i) => call(i + 2, false)));
  let written = 0;
  for (let i = 0; i < 200 && raw.sock.writableLength < 4 * 1024 * 1024; i++) {
    raw.sock.write(chunk);
    written += 2000;
  }
  await new Promise((r) => setTimeout(r, 300));
  const received = server.counters.appendReceived;
  assert.ok(received < written / 2, `server should have stopped reading: it took ${received} of ${written + 1} calls`);
  raw.sock.resume();
  await until(() => server.counters.appendReceived === written + 1, 'every call once answers are read', 20_000);
});

test('server close() ends idle connections; the client sees them closed', async () => {
  const { server, port } = await startServer(async () => true);
  const client = await startClient(port, { compression: 'none' });
  await client.appendBatch([ev('x')]);
  await server.close();
  assert.equal(server.counters.connectionsOpen, 0);
  await until(() => !client.isConnected, 'the client to notice');
  await assert.rejects(client.appendBatch([ev('x')]), { code: AvroErrorCodes.CLOSED });
});

test('a call beyond callLimits is answered FAILED before its events are built; the connection stays usable', async () => {
  let calls = 0;
  const refused: string[] = [];
  const { server, port } = await startServer(
    async () => {
      calls++;
      return true;
    },
    { callLimits: { maxEvents: 10, maxBytes: 100_000 }, onCallRefused: (kind, err) => refused.push(`${kind} ${err.limit} ${err.events}`) },
  );
  const client = await startClient(port);
  await assert.rejects(client.appendBatch(Array.from({ length: 11 }, (_, i) => ev(`e${i}`))), { code: AvroErrorCodes.STATUS, message: /FAILED/ });
  // 2,000 headers: about 160 KB once decoded (80 bytes each beyond their characters).
  const headers = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`h${i}`, '']));
  await assert.rejects(client.append(ev('x', headers)), { code: AvroErrorCodes.STATUS, message: /FAILED/ });
  assert.equal(calls, 0);
  await client.appendBatch(Array.from({ length: 10 }, (_, i) => ev(`e${i}`)));
  assert.equal(calls, 1);
  assert.deepEqual(refused, ['appendBatch events 11', 'append bytes 1']);
  assert.equal(server.counters.callsRefused, 2);
  assert.equal(server.counters.connectionsFailed, 0);
});

test('a connection whose running calls hold more than maxConnectionBytes is not read until they are answered', async () => {
  let running = 0;
  let maxRunning = 0;
  const { port } = await startServer(
    async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      // A slow channel.
      await new Promise((r) => setTimeout(r, 50));
      running--;
      return true;
    },
    { maxConnectionBytes: 1024 * 1024 },
  );
  const client = await startClient(port);
  // Each call: 100 events of 2 KB, about 220 KB as estimated; five reach 1 MiB.
  const batch = Array.from({ length: 100 }, () => ev(Buffer.alloc(2048, 7)));
  await Promise.all(Array.from({ length: 12 }, () => client.appendBatch(batch)));
  assert.ok(maxRunning <= 5, `${maxRunning} calls held at once`);
  assert.ok(maxRunning >= 2, `${maxRunning} calls held at once (pipelined calls still run concurrently)`);
});
