import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AvroErrorCodes } from './errors.js';
import { FrameDecoder, encodeFrame, packPayload, splitPayload, type DataPack } from './framing.js';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function simple(packs: readonly DataPack[]): Array<{ serial: number; buffers: string[] }> {
  return packs.map((p) => ({ serial: p.serial, buffers: p.buffers.map((b) => b.toString('hex')) }));
}

test('encodeFrame writes serial, count and length-prefixed buffers big-endian', () => {
  const frame = encodeFrame(1, [Buffer.from('abc')]);
  assert.equal(frame.toString('hex'), '00000001' + '00000001' + '00000003' + '616263');
  // The reference's second-call response: an empty first buffer is still sent.
  assert.equal(encodeFrame(2, [Buffer.alloc(0), hex('00'), hex('0000')]).toString('hex'), '00000002' + '00000003' + '00000000' + '00000001' + '00' + '00000002' + '0000');
  // Serials past 2^31-1 wrap to negative, as Java's AtomicInteger does.
  assert.equal(encodeFrame(-2, []).toString('hex'), 'fffffffe00000000');
});

test('a stream of packs decodes identically however it is split', () => {
  const packs = [
    { serial: 1, buffers: [Buffer.from('hello'), Buffer.alloc(0), Buffer.from('world')] },
    { serial: 2, buffers: [Buffer.alloc(0)] },
    { serial: 0x7fffffff, buffers: [Buffer.from([0x80, 0x01]), Buffer.from([0x02])] },
    { serial: -5, buffers: [] },
    { serial: 3, buffers: [Buffer.alloc(0), Buffer.alloc(0), Buffer.from('x')] },
  ];
  const stream = Buffer.concat(packs.map((p) => encodeFrame(p.serial, p.buffers)));
  const want = packs.map((p) => ({ serial: p.serial, buffers: p.buffers.map((b) => b.toString('hex')) }));

  // Every single split point, and every pair of split points.
  for (let i = 0; i <= stream.length; i++) {
    const d = new FrameDecoder();
    const got = [...d.push(stream.subarray(0, i)), ...d.push(stream.subarray(i))];
    assert.deepEqual(simple(got), want, `split at ${i}`);
    assert.equal(d.inFrame, false);
  }
  for (let i = 0; i <= stream.length; i += 3) {
    for (let j = i; j <= stream.length; j += 2) {
      const d = new FrameDecoder();
      const got = [...d.push(stream.subarray(0, i)), ...d.push(stream.subarray(i, j)), ...d.push(stream.subarray(j))];
      assert.deepEqual(simple(got), want, `split at ${i}, ${j}`);
    }
  }
  // One byte at a time.
  const d = new FrameDecoder();
  const got: DataPack[] = [];
  for (const b of stream) got.push(...d.push(Buffer.of(b)));
  assert.deepEqual(simple(got), want);
});

test('byteLength and packPayload join the buffers into one stream', () => {
  const d = new FrameDecoder();
  const [p] = d.push(encodeFrame(9, [Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cd')]));
  assert.equal(p!.byteLength, 4);
  assert.equal(packPayload(p!).toString(), 'abcd');
  const [empty] = d.push(encodeFrame(10, []));
  assert.equal(packPayload(empty!).length, 0);
});

test('inFrame tells whether a pack is partly received', () => {
  const d = new FrameDecoder();
  const frame = encodeFrame(1, [Buffer.from('abc')]);
  assert.equal(d.inFrame, false);
  d.push(frame.subarray(0, 3));
  assert.equal(d.inFrame, true);
  d.push(frame.subarray(3, 8));
  assert.equal(d.inFrame, true);
  assert.equal(d.push(frame.subarray(8)).length, 1);
  assert.equal(d.inFrame, false);
});

test('more buffers than maxBuffers, or a negative count, is refused as soon as the header arrives', () => {
  const d = new FrameDecoder({ maxBuffers: 4 });
  assert.equal(d.push(encodeFrame(1, [Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0)])).length, 1);
  // Only the 8-byte header: nothing of the announced buffers is awaited.
  assert.throws(() => d.push(hex('00000002 00000005')), { code: AvroErrorCodes.FRAME_TOO_MANY_BUFFERS });
  // Once refused, the stream is out of sync for good.
  assert.throws(() => d.push(hex('00')), { code: AvroErrorCodes.DECODE });

  assert.throws(() => new FrameDecoder().push(hex('00000001 ffffffff')), { code: AvroErrorCodes.FRAME_TOO_MANY_BUFFERS });
  // Garbage such as an HTTP request reads as a huge count.
  assert.throws(() => new FrameDecoder().push(Buffer.from('GET / HTTP/1.1\r\n\r\n')), {
    code: AvroErrorCodes.FRAME_TOO_MANY_BUFFERS,
  });
});

test('more bytes than maxFrameBytes is refused when the length is announced, without allocating it', () => {
  const d = new FrameDecoder({ maxFrameBytes: 10 });
  assert.equal(d.push(encodeFrame(1, [Buffer.alloc(4), Buffer.alloc(6)])).length, 1);
  // The sum, not only each buffer, is bounded: 6 + 6 > 10.
  assert.throws(() => d.push(hex('00000002 00000002 00000006 000000000000 00000006')), {
    code: AvroErrorCodes.FRAME_TOO_LARGE,
  });

  // A 2 GiB buffer announced with the default limits: refused from its 12 header bytes.
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(() => new FrameDecoder().push(hex('00000001 00000001 7fffffff')), { code: AvroErrorCodes.FRAME_TOO_LARGE });
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
});

test('a negative buffer length is refused', () => {
  assert.throws(() => new FrameDecoder().push(hex('00000001 00000001 fffffff0')), {
    code: AvroErrorCodes.FRAME_NEGATIVE_LENGTH,
  });
});

test('splitPayload cuts like Java: 8 KiB pieces, and an empty payload stays one empty buffer', () => {
  assert.deepEqual(
    splitPayload(Buffer.alloc(0)).map((b) => b.length),
    [0],
  );
  assert.deepEqual(
    splitPayload(Buffer.alloc(8192)).map((b) => b.length),
    [8192],
  );
  assert.deepEqual(
    splitPayload(Buffer.alloc(20000)).map((b) => b.length),
    [8192, 8192, 3616],
  );
  assert.deepEqual(
    splitPayload(Buffer.alloc(7), 3).map((b) => b.length),
    [3, 3, 1],
  );
});
