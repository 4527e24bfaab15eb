import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { selfSignedCert } from '../../../test/support/avro/peer.js';
import { AvroRpcClient } from './client.js';
import { AvroErrorCodes } from './errors.js';
import { AvroRpcServer } from './server.js';
import type { Compression, TlsDeflateOrder } from './transport.js';

let key: Buffer;
let cert: Buffer;
before(() => ({ key, cert } = selfSignedCert()));

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function tlsServer(compression: Compression, order?: TlsDeflateOrder) {
  const received: string[] = [];
  const server = new AvroRpcServer({ host: '127.0.0.1', port: 0, compression, tls: { key, cert }, ...(order ? { tlsDeflateOrder: order } : {}) }, async (events) => {
    for (const e of events) received.push(e.body.toString());
    return true;
  });
  const { port } = await server.listen();
  cleanups.push(() => server.close());
  return { server, port, received };
}

const cases: Array<[Compression, TlsDeflateOrder | undefined]> = [
  ['none', undefined],
  ['deflate', undefined], // Flume >= 1.10: zlib outside TLS
  ['deflate', 'tls-outside-deflate'], // Flume 1.9
];

for (const [compression, order] of cases) {
  test(`our client and server over TLS (compression ${compression}${order ? `, ${order}` : ''})`, async () => {
    const { server, port, received } = await tlsServer(compression, order);
    for (const trust of [{ ca: cert }, { trustAllCerts: true }]) {
      const client = new AvroRpcClient({
        host: '127.0.0.1',
        port,
        compression,
        tls: trust,
        ...(order ? { tlsDeflateOrder: order } : {}),
        connectTimeout: 5000,
      });
      cleanups.push(() => client.close());
      await client.connect();
      await client.appendBatch([
        { headers: { k: 'v' }, body: Buffer.from('one') },
        { headers: {}, body: Buffer.from('two') },
      ]);
      await client.append({ headers: {}, body: Buffer.from('three') });
      await Promise.all([1, 2, 3].map((i) => client.appendBatch([{ headers: {}, body: Buffer.alloc(20_000, i) }])));
      await client.close();
    }
    assert.deepEqual(received.slice(0, 3), ['one', 'two', 'three']);
    assert.equal(received.length, 12);
    assert.equal(server.counters.handshakes, 2);
    assert.equal(server.counters.connectionsFailed, 0);
  });
}

test('a TLS client refuses an untrusted certificate; a plain client cannot talk to a TLS server', async () => {
  const { server, port } = await tlsServer('none');
  const untrusting = new AvroRpcClient({ host: '127.0.0.1', port, tls: {}, connectTimeout: 5000 });
  await assert.rejects(untrusting.connect(), { code: AvroErrorCodes.CLOSED, message: /self-signed/ });

  const plain = new AvroRpcClient({ host: '127.0.0.1', port, connectTimeout: 5000, requestTimeout: 5000 });
  cleanups.push(() => plain.close());
  await plain.connect();
  await assert.rejects(plain.appendBatch([{ headers: {}, body: Buffer.from('x') }]), { code: AvroErrorCodes.CLOSED });
  const deadline = Date.now() + 5000;
  while (server.counters.connectionsFailed < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(server.counters.connectionsFailed, 1);

  // ssl: false turns TLS off even when the object is given.
  const off = new AvroRpcClient({ host: '127.0.0.1', port, tls: { ssl: false }, connectTimeout: 5000, requestTimeout: 5000 });
  cleanups.push(() => off.close());
  await off.connect();
  await assert.rejects(off.append({ headers: {}, body: Buffer.from('x') }), { code: AvroErrorCodes.CLOSED });
});

test('connectTimeout covers the TLS handshake', async () => {
  // Accepts TCP and never answers.
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        silent.close(() => r());
      }),
  );
  const port = (silent.address() as net.AddressInfo).port;
  const client = new AvroRpcClient({ host: '127.0.0.1', port, tls: { trustAllCerts: true }, connectTimeout: 300 });
  const t0 = Date.now();
  await assert.rejects(client.connect(), { code: AvroErrorCodes.CONNECT_TIMEOUT });
  assert.ok(Date.now() - t0 >= 250);
});
