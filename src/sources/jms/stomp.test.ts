import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameDecoder, StompProtocolError, encodeFrame } from './stomp.js';
import { parseProviderUrl } from './index.js';

const limits = { maxHeaderBytes: 1024, maxBodyBytes: 100 };

test('STOMP frames decode the same whatever the read boundaries, with 1.2 escapes and heart-beat EOLs', () => {
  const wire = Buffer.concat([
    encodeFrame('MESSAGE', { 'message-id': 'id:1', 'a:b': 'x\ny\\z', seq: '1' }, Buffer.from('bytes\0inside')),
    Buffer.from('\n\r\n'),
    Buffer.from('MESSAGE\nmessage-id:id:2\nseq:2\nseq:ignored\n\ntext body\0'),
  ]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const d = new FrameDecoder(limits);
    const frames = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
    assert.equal(frames.length, 2, `cut at ${cut}`);
    assert.deepEqual(frames[0]!.headers, { 'message-id': 'id:1', 'a:b': 'x\ny\\z', seq: '1', 'content-length': '12' });
    assert.equal(frames[0]!.body.toString('latin1'), 'bytes\0inside');
    assert.equal(frames[1]!.headers.seq, '2');
    assert.equal(frames[1]!.body.toString(), 'text body');
  }
});

test('an oversize body is read past, not kept, and reported; the next frame decodes', () => {
  const big = Buffer.alloc(5000, 0x61);
  for (const withLength of [true, false]) {
    const first = withLength ? encodeFrame('MESSAGE', { 'message-id': 'big' }, big) : Buffer.concat([Buffer.from('MESSAGE\nmessage-id:big\n\n'), big, Buffer.from([0])]);
    const wire = Buffer.concat([first, encodeFrame('MESSAGE', { 'message-id': 'small' }, Buffer.from('ok'))]);
    const d = new FrameDecoder(limits);
    const frames = [];
    for (let i = 0; i < wire.length; i += 700) frames.push(...d.push(wire.subarray(i, i + 700)));
    assert.deepEqual(
      frames.map((f) => [f.headers['message-id'], f.oversize ?? false, f.body.length]),
      [
        ['big', true, 0],
        ['small', false, 2],
      ],
    );
  }
  assert.throws(() => new FrameDecoder(limits).push(Buffer.from('MESSAGE\n' + 'h:'.padEnd(2000, 'v'))), StompProtocolError);
});

test('providerURL: tcp, ssl, stomp, stomp+ssl and failover lists; others refused', () => {
  assert.deepEqual(parseProviderUrl('tcp://broker:61616'), [{ host: 'broker', port: 61616, tls: false, url: 'tcp://broker:61616' }]);
  assert.equal(parseProviderUrl('ssl://b:61617')[0]!.tls, true);
  assert.equal(parseProviderUrl('stomp+ssl://b:61614')[0]!.tls, true);
  assert.deepEqual(
    parseProviderUrl('failover:(tcp://a:1,ssl://b:2)?randomize=false').map((b) => [b.host, b.port, b.tls]),
    [
      ['a', 1, false],
      ['b', 2, true],
    ],
  );
  assert.throws(() => parseProviderUrl('vm://localhost'), /not a broker URL/);
  assert.throws(() => parseProviderUrl('tcp://a:70000'), /out of range/);
});
