import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { AvroErrorCodes } from './errors.js';
import { encodeFrame } from './framing.js';
import { ZlibDuplex, checkCompressionLevel } from './transport.js';

/** A byte stream that records what is written to it and lets the test feed its readable side. */
function capture(): { inner: Duplex; written: Buffer[] } {
  const written: Buffer[] = [];
  const inner = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk);
      cb();
    },
    read() {},
  });
  return { inner, written };
}

const write = (d: Duplex, b: Buffer): Promise<void> => new Promise((resolve, reject) => d.write(b, (err) => (err ? reject(err) : resolve())));

test('deflate: one zlib stream per connection, each pack ends on a sync flush (reference bytes)', async () => {
  const { inner, written } = capture();
  const z = new ZlibDuplex(inner, 6);
  await write(z, encodeFrame(1, [Buffer.from('abc')]));
  // The reference's example: level 6, RFC 1950 header 78 9c, ending in the empty stored block.
  assert.equal(Buffer.concat(written).toString('hex'), '789c62606060648060e6c4a46400000000ffff');
  const first = Buffer.concat(written).length;
  await write(z, encodeFrame(2, [Buffer.from('abc')]));
  const second = Buffer.concat(written).subarray(first);
  assert.notEqual(second.subarray(0, 2).toString('hex'), '789c', 'no new zlib header: the stream continues');
  assert.equal(second.subarray(-4).toString('hex'), '0000ffff');
  await new Promise<void>((r) => z.end(r));
  // Finished with a final block and the Adler-32; one inflater reads both packs back.
  const all = zlib.inflateSync(Buffer.concat(written));
  assert.equal(all.toString('hex'), encodeFrame(1, [Buffer.from('abc')]).toString('hex') + encodeFrame(2, [Buffer.from('abc')]).toString('hex'));
});

test('inflate: packs decode as they arrive; garbage is a coded error', async () => {
  const { inner } = capture();
  const z = new ZlibDuplex(inner, 6);
  const got: Buffer[] = [];
  z.on('data', (c: Buffer) => got.push(c));
  const deflater = zlib.createDeflate({ level: 1 });
  const chunks: Buffer[] = [];
  deflater.on('data', (c: Buffer) => chunks.push(c));
  deflater.write(encodeFrame(7, [Buffer.from('hello')]));
  await new Promise<void>((r) => deflater.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
  inner.push(Buffer.concat(chunks));
  const want = encodeFrame(7, [Buffer.from('hello')]);
  for (const end = Date.now() + 5000; Buffer.concat(got).length < want.length && Date.now() < end; ) await new Promise((r) => setImmediate(r));
  assert.equal(Buffer.concat(got).toString('hex'), want.toString('hex'));

  const { inner: inner2 } = capture();
  const bad = new ZlibDuplex(inner2, 6);
  const err = await new Promise<Error & { code?: string }>((resolve) => {
    bad.on('error', resolve);
    inner2.push(Buffer.from('00000001000000010000000361626300', 'hex'));
  });
  assert.equal(err.code, AvroErrorCodes.INFLATE);
});

test('compression levels are 0..9', () => {
  assert.equal(checkCompressionLevel(0), 0);
  assert.equal(checkCompressionLevel(9), 9);
  for (const bad of [-1, 10, 1.5, Number.NaN]) assert.throws(() => checkCompressionLevel(bad), { code: AvroErrorCodes.OPTION });
});
