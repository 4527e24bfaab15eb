import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import avsc from 'avsc';
import type { FlumeEvent } from '../../core/event.js';
import { BinaryReader } from './binary.js';
import { AvroRpcClient } from './client.js';
import { AvroErrorCodes } from './errors.js';
import { FrameDecoder, encodeFrame, type DataPack } from './framing.js';
import {
  HANDSHAKE_RESPONSES,
  KNOWN_PROTOCOL_HASHES,
  PROTOCOL_HASH,
  PROTOCOL_TEXT,
  PROTOCOL_VARIANTS,
  decodeCallResponse,
  decodeHandshakeRequest,
  decodeHandshakeResponse,
  encodeAppendBatchParams,
  encodeHandshakeRequest,
  parseRemoteProtocol,
} from './protocol.js';
import { AvroRpcServer } from './server.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');
const FLUME_HASH = '86aadae2c45474c0fe93ffd0f2350a65';

// The worked example of the wire reference (§2.6): appendBatch of one event {h: v} "hi".
const FIRST_REQUEST = hex(`
  00000001 00000002
  00000030 ${FLUME_HASH} 00 ${FLUME_HASH} 0200
           00
           16 617070656e644261746368
  0000000b 02 02 02 68 02 76 00 04 6869 00`);
const FIRST_RESPONSE = hex('00000001 00000003 00000004 00000000 00000001 00 00000002 0000');
const SECOND_REQUEST = hex(`
  00000002 00000002
  0000000d 00 16 617070656e644261746368
  0000000b 02 02 02 68 02 76 00 04 6869 00`);
const SECOND_RESPONSE = hex('00000002 00000003 00000000 00000001 00 00000002 0000');
const EVENT = { headers: { h: 'v' }, body: Buffer.from('hi') };

test('the protocol text is released Flume’s, byte for byte: 1,334 bytes, MD5 86aadae2…', () => {
  assert.equal(Buffer.byteLength(PROTOCOL_TEXT), 1334);
  assert.equal(md5(PROTOCOL_TEXT), FLUME_HASH);
  assert.equal(PROTOCOL_HASH.toString('hex'), FLUME_HASH);
  assert.ok(PROTOCOL_TEXT.startsWith('{"protocol":"AvroSourceProtocol","namespace":"org.apache.flume.source.avro","doc":"* Licensed'));
  // The other two renderings Flume builds may carry, with the hashes Java computes for them.
  assert.equal(md5(PROTOCOL_VARIANTS.stripped), '8076c53714e01f6e2c1deb9544e7b1fe');
  assert.equal(Buffer.byteLength(PROTOCOL_VARIANTS.stripped), 1289);
  assert.equal(md5(PROTOCOL_VARIANTS.nodoc), '30da54059df72d9584b867d5202e2069');
  assert.equal(Buffer.byteLength(PROTOCOL_VARIANTS.nodoc), 509);
  assert.deepEqual([...KNOWN_PROTOCOL_HASHES].sort(), [FLUME_HASH, '8076c53714e01f6e2c1deb9544e7b1fe', '30da54059df72d9584b867d5202e2069'].sort());
});

test('handshake records have the reference byte shapes', () => {
  const req = encodeHandshakeRequest(null);
  assert.equal(req.length, 35);
  assert.equal(req.toString('hex'), `${FLUME_HASH}00${FLUME_HASH}0200`);
  const withText = encodeHandshakeRequest(PROTOCOL_TEXT);
  assert.equal(withText.subarray(16, 19).toString('hex'), '02ec14'); // union branch 1, length 1334
  assert.equal(HANDSHAKE_RESPONSES.BOTH.toString('hex'), '00000000');
  assert.equal(HANDSHAKE_RESPONSES.NONE.length, 1356);
  assert.equal(HANDSHAKE_RESPONSES.NONE.subarray(0, 9).toString('hex'), '0402ec147b2270726f');
  assert.equal(HANDSHAKE_RESPONSES.CLIENT.subarray(0, 1).toString('hex'), '02');
  assert.equal(HANDSHAKE_RESPONSES.CLIENT.subarray(-18).toString('hex'), `02${FLUME_HASH}00`);

  const back = decodeHandshakeResponse(new BinaryReader(HANDSHAKE_RESPONSES.CLIENT));
  assert.equal(back.match, 'CLIENT');
  assert.equal(back.serverProtocol, PROTOCOL_TEXT);
  assert.equal(back.serverHash!.toString('hex'), FLUME_HASH);
  // Python's avro sends meta as null (34 bytes); both forms decode.
  const py = decodeHandshakeRequest(new BinaryReader(hex(`${FLUME_HASH}00${FLUME_HASH}00`)));
  assert.equal(py.meta, null);
  assert.equal(decodeHandshakeRequest(new BinaryReader(req)).meta!.size, 0);
});

test('response statuses and errors decode as the reference shows', () => {
  assert.deepEqual(decodeCallResponse(new BinaryReader(hex('00 0000'))), { status: 'OK' });
  assert.deepEqual(decodeCallResponse(new BinaryReader(hex('00 0002'))), { status: 'FAILED' });
  assert.deepEqual(decodeCallResponse(new BinaryReader(hex('00 0004'))), { status: 'UNKNOWN' });
  assert.deepEqual(decodeCallResponse(new BinaryReader(Buffer.concat([hex('00 01 00 06'), Buffer.from('boo')]))), {
    error: 'boo',
  });
});

/** A raw TCP server that hands each pack to `onPack` with a way to answer. */
async function rawServer(onPack: (p: DataPack, raw: Buffer, sock: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((sock) => {
    sockets.add(sock);
    const d = new FrameDecoder();
    let raw = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      raw = Buffer.concat([raw, chunk]);
      for (const p of d.push(chunk)) {
        const len = encodeFrame(p.serial, p.buffers).length;
        const bytes = raw.subarray(0, len);
        raw = raw.subarray(len);
        onPack(p, bytes, sock);
      }
    });
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

test('our client’s first and second requests equal the worked example byte for byte', async () => {
  const seen: Buffer[] = [];
  const srv = await rawServer((p, raw, sock) => {
    seen.push(raw);
    sock.write(p.serial === 1 ? FIRST_RESPONSE : SECOND_RESPONSE);
  });
  const c = new AvroRpcClient({ host: '127.0.0.1', port: srv.port });
  try {
    await c.connect();
    await c.appendBatch([EVENT]);
    await c.appendBatch([EVENT]);
    assert.equal(seen[0]!.toString('hex'), FIRST_REQUEST.toString('hex'));
    assert.equal(seen[1]!.toString('hex'), SECOND_REQUEST.toString('hex'));
  } finally {
    await c.close();
    await srv.close();
  }
});

test('a first append carries a 43-byte header buffer and unwrapped parameters', async () => {
  let first: DataPack | undefined;
  const srv = await rawServer((p, _raw, sock) => {
    first ??= p;
    sock.write(encodeFrame(p.serial, [HANDSHAKE_RESPONSES.BOTH, hex('00'), hex('0000')]));
  });
  const c = new AvroRpcClient({ host: '127.0.0.1', port: srv.port });
  try {
    await c.connect();
    await c.append(EVENT);
    assert.deepEqual(
      first!.buffers.map((b) => b.length),
      [43, 9],
    );
    assert.equal(first!.buffers[0]!.subarray(35).toString('hex'), '000c617070656e64');
    assert.equal(first!.buffers[1]!.toString('hex'), '020268027600046869');
  } finally {
    await c.close();
    await srv.close();
  }
});

test('our server answers the worked example with the reference bytes ([4,1,2], then [0,1,2])', async () => {
  const got: string[] = [];
  const s = new AvroRpcServer({ host: '127.0.0.1', port: 0 }, async (events, kind) => {
    got.push(`${kind}:${JSON.stringify(events.map((e) => [e.headers, e.body.toString()]))}`);
    return true;
  });
  const { port } = await s.listen();
  const sock = net.connect(port, '127.0.0.1');
  try {
    let buf = Buffer.alloc(0);
    const read = (n: number): Promise<Buffer> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (buf.length >= n) {
            sock.off('data', onData);
            const out = buf.subarray(0, n);
            buf = buf.subarray(n);
            resolve(out);
          }
        };
        const onData = (d: Buffer): void => {
          buf = Buffer.concat([buf, d]);
          check();
        };
        sock.on('data', onData);
        check();
      });
    sock.write(FIRST_REQUEST);
    assert.equal((await read(FIRST_RESPONSE.length)).toString('hex'), FIRST_RESPONSE.toString('hex'));
    sock.write(SECOND_REQUEST);
    assert.equal((await read(SECOND_RESPONSE.length)).toString('hex'), SECOND_RESPONSE.toString('hex'));
    assert.deepEqual(got, ['appendBatch:[[{"h":"v"},"hi"]]', 'appendBatch:[[{"h":"v"},"hi"]]']);
  } finally {
    sock.destroy();
    await s.close();
  }
});

test('the handshake call completes before any other call is written', async () => {
  const arrivals: Array<{ serial: number; at: number }> = [];
  let firstAnsweredAt = Infinity;
  const srv = await rawServer((p, _raw, sock) => {
    arrivals.push({ serial: p.serial, at: Date.now() });
    const answer = (): void => {
      sock.write(encodeFrame(p.serial, [p.serial === 1 ? HANDSHAKE_RESPONSES.BOTH : Buffer.alloc(0), hex('00'), hex('0000')]));
    };
    if (p.serial === 1) {
      // Hold the handshake answer back; nothing else may arrive meanwhile.
      setTimeout(() => {
        firstAnsweredAt = Date.now();
        answer();
      }, 150);
    } else {
      answer();
    }
  });
  const c = new AvroRpcClient({ host: '127.0.0.1', port: srv.port });
  try {
    await c.connect();
    await Promise.all([1, 2, 3, 4, 5].map(() => c.appendBatch([EVENT])));
    assert.equal(arrivals.length, 5);
    assert.equal(arrivals[0]!.serial, 1);
    for (const a of arrivals.slice(1)) assert.ok(a.at >= firstAnsweredAt, `serial ${a.serial} arrived before the handshake answer`);
  } finally {
    await c.close();
    await srv.close();
  }
});

test('the client resends with its protocol after NONE, and follows CLIENT', async () => {
  const otherHash = Buffer.alloc(16, 7);
  const handshakes: Array<{ clientProtocol: string | null; serverHash: string }> = [];
  const established = new WeakSet<net.Socket>();
  const noneThenBoth = (withNone: boolean) =>
    rawServer((p, _raw, sock) => {
      if (established.has(sock)) {
        sock.write(encodeFrame(p.serial, [Buffer.alloc(0), hex('00'), hex('0000')]));
        return;
      }
      const r = new BinaryReader(Buffer.concat(p.buffers));
      const hs = decodeHandshakeRequest(r);
      handshakes.push({ clientProtocol: hs.clientProtocol, serverHash: hs.serverHash.toString('hex') });
      const hsType = avsc.Type.forSchema({
        type: 'record',
        name: 'HandshakeResponse',
        fields: [
          { name: 'match', type: { type: 'enum', name: 'M', symbols: ['BOTH', 'CLIENT', 'NONE'] } },
          { name: 'serverProtocol', type: ['null', 'string'] },
          { name: 'serverHash', type: ['null', { type: 'fixed', name: 'MD5', size: 16 }] },
          { name: 'meta', type: ['null', { type: 'map', values: 'bytes' }] },
        ],
      });
      const match = withNone && hs.clientProtocol === null ? 'NONE' : hs.serverHash.equals(otherHash) ? 'BOTH' : 'CLIENT';
      // A server whose protocol text differs (no doc, another hash) but whose schemas are Flume's.
      const answer = hsType.toBuffer({
        match,
        serverProtocol: match === 'BOTH' ? null : PROTOCOL_VARIANTS.nodoc,
        serverHash: match === 'BOTH' ? null : otherHash,
        meta: null,
      });
      if (match !== 'NONE') established.add(sock);
      sock.write(encodeFrame(p.serial, match === 'NONE' ? [answer] : [answer, hex('00'), hex('0000')]));
    });

  let srv = await noneThenBoth(true);
  let c = new AvroRpcClient({ host: '127.0.0.1', port: srv.port });
  try {
    await c.connect();
    await c.appendBatch([EVENT]);
    assert.equal(handshakes.length, 2);
    assert.equal(handshakes[0]!.clientProtocol, null);
    assert.equal(handshakes[1]!.clientProtocol, PROTOCOL_TEXT);
    assert.equal(handshakes[1]!.serverHash, otherHash.toString('hex'));
    assert.equal(c.serverHash.toString('hex'), otherHash.toString('hex'));
  } finally {
    await c.close();
    await srv.close();
  }

  handshakes.length = 0;
  srv = await noneThenBoth(false);
  c = new AvroRpcClient({ host: '127.0.0.1', port: srv.port });
  try {
    await c.connect();
    await c.appendBatch([EVENT]); // CLIENT: the response follows in the same pack
    await c.appendBatch([EVENT]);
    assert.equal(handshakes.length, 1);
    assert.equal(c.serverHash.toString('hex'), otherHash.toString('hex'));
  } finally {
    await c.close();
    await srv.close();
  }
});

test('a remote protocol is usable when its schemas match ours, whatever its text', () => {
  assert.deepEqual([...parseRemoteProtocol(PROTOCOL_VARIANTS.nodoc).messages].sort(), ['append', 'appendBatch']);
  const spaced = JSON.stringify(JSON.parse(PROTOCOL_VARIANTS.nodoc), null, 2);
  assert.equal(parseRemoteProtocol(spaced).messages.size, 2);
  const changed = JSON.parse(PROTOCOL_VARIANTS.nodoc);
  changed.messages.append.request[0].type = 'string';
  assert.deepEqual([...parseRemoteProtocol(JSON.stringify(changed)).messages], ['appendBatch']);
  assert.throws(() => parseRemoteProtocol('{not json'), { code: AvroErrorCodes.HANDSHAKE });
  assert.throws(() => parseRemoteProtocol('{"types":[{"type":"nope"}]}'), { code: AvroErrorCodes.HANDSHAKE });
});

test('the bounds-checked reader decodes what avsc encodes', () => {
  const events: FlumeEvent[] = [
    { headers: {}, body: Buffer.alloc(0) },
    { headers: { a: '1', 'ü-key': 'wert ✓', '': '' }, body: Buffer.from([0, 1, 2, 255]) },
    { headers: { big: 'x'.repeat(5000) }, body: Buffer.alloc(70_000, 0xab) },
    ...Array.from({ length: 200 }, (_, i) => ({ headers: { i: String(i) }, body: Buffer.from(`body ${i}`) })),
  ];
  const bytes = encodeAppendBatchParams(events);
  const r = new BinaryReader(bytes);
  const back = r.readEventArray();
  assert.equal(r.remaining, 0);
  assert.deepEqual(
    back.map((e) => [{ ...e.headers }, e.body.toString('hex')]),
    events.map((e) => [e.headers, e.body.toString('hex')]),
  );
  // Varints across the whole long range that fits a double.
  const longType = avsc.Type.forSchema('long');
  for (const v of [0, 1, -1, 63, -64, 64, 667, 2 ** 28 - 1, 2 ** 28, -(2 ** 31), 2 ** 31, 2 ** 40 + 3, 2 ** 52 - 1, -(2 ** 52)]) {
    assert.equal(new BinaryReader(longType.toBuffer(v)).readLong(), v, String(v));
  }
});

test('the reader accepts several blocks and negative block counts', () => {
  // map<string> in two blocks, the second with a negative count and a byte size.
  const map = hex('02 02 61 02 31  01 08 02 62 02 32  00');
  assert.deepEqual({ ...new BinaryReader(map).readStringMap() }, { a: '1', b: '2' });
  // array of two events, split in two blocks.
  const arr = hex('02 00 02 78  02 00 02 79  00');
  assert.deepEqual(
    new BinaryReader(arr).readEventArray().map((e) => e.body.toString()),
    ['x', 'y'],
  );
  // A header named __proto__ is an own property, not the prototype.
  const proto = new BinaryReader(Buffer.concat([hex('02 12'), Buffer.from('__proto__'), hex('02 78 00')])).readStringMap();
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.equal(proto['__proto__' as string], 'x');
});

test('hostile counts and lengths fail fast instead of looping or allocating', () => {
  const huge = avsc.Type.forSchema('long').toBuffer(2 ** 40);
  const t0 = Date.now();
  assert.throws(() => new BinaryReader(Buffer.concat([huge, hex('00')])).readEventArray(), { code: AvroErrorCodes.DECODE });
  assert.throws(() => new BinaryReader(Buffer.concat([huge, hex('00')])).readStringMap(), { code: AvroErrorCodes.DECODE });
  assert.throws(() => new BinaryReader(Buffer.concat([hex('02 00'), huge])).readEventArray(), { code: AvroErrorCodes.DECODE });
  assert.throws(() => new BinaryReader(hex('03')).readBytes(), { code: AvroErrorCodes.DECODE }); // negative length
  assert.throws(() => new BinaryReader(hex('ffffffffffffffffffff01')).readLong(), { code: AvroErrorCodes.DECODE });
  assert.throws(() => new BinaryReader(hex('80')).readLong(), { code: AvroErrorCodes.DECODE }); // truncated varint
  assert.throws(() => new BinaryReader(hex('06')).readEnum(3), { code: AvroErrorCodes.DECODE });
  assert.throws(() => new BinaryReader(hex('02')).readBoolean(), { code: AvroErrorCodes.DECODE });
  assert.ok(Date.now() - t0 < 1000);
});
