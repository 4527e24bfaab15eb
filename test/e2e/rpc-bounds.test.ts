// Hostile avro and thrift calls against a running agent (a process of its own, so its
// memory can be measured): calls announcing millions of empty events, deflate bombs and
// many connections each holding a large inflated frame. The agent's peak RSS (VmHWM)
// must stay bounded, the hostile calls answered FAILED or their connections closed
// with a logged reason, and a normal client served afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import zlib from 'node:zlib';
import { AvroRpcClient } from '../../src/rpc/avro/client.js';
import { BinaryReader } from '../../src/rpc/avro/binary.js';
import { FrameDecoder, encodeFrame } from '../../src/rpc/avro/framing.js';
import { CALL_HEADERS, decodeCallResponse, decodeHandshakeResponse, encodeHandshakeRequest } from '../../src/rpc/avro/protocol.js';
import { ThriftRpcClient } from '../../src/rpc/thrift/client.js';
import { ThriftFrameDecoder, decodeReply, encodeCall } from '../../src/rpc/thrift/protocol.js';
import type { FlumeEvent } from '../../src/core/event.js';
import { eventually, freePort, startAgent, tempDir, type RunningAgent } from '../support/agent.js';
import { fileRollSink, inProcessAgent, rolledFiles, rpcSourceJob } from './rpc-support.js';

/** The agent's peak resident set so far, in MB. */
function peakRssMb(agent: RunningAgent): number {
  const status = fs.readFileSync(`/proc/${agent.proc.pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  assert.ok(m, 'VmHWM in /proc/<pid>/status');
  return Number(m[1]) / 1024;
}

/** A zig-zag varint (Avro long). */
function avroLong(n: number): Buffer {
  const out: number[] = [];
  let v = n * 2;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** A whole appendBatch frame (handshake included) carrying `n` empty events: 2 bytes each on the wire. */
function emptyEventsFrame(n: number): Buffer {
  const params = Buffer.alloc(avroLong(n).length + 2 * n + 1);
  avroLong(n).copy(params, 0);
  return encodeFrame(1, [Buffer.concat([encodeHandshakeRequest(null), CALL_HEADERS.appendBatch]), params]);
}

/**
 * One raw connection that sends `bytes` (deflated when `deflate`) and resolves with
 * the call's status ('OK', 'FAILED', ...) or 'closed' when the agent closes the
 * connection without answering.
 */
function rawAvroCall(port: number, bytes: Buffer, deflate: boolean): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const decoder = new FrameDecoder();
    let done = false;
    const finish = (v: string): void => {
      if (done) return;
      done = true;
      s.destroy();
      resolve(v);
    };
    const onData = (chunk: Buffer): void => {
      for (const pack of decoder.push(chunk)) {
        const r = new BinaryReader(Buffer.concat(pack.buffers));
        decodeHandshakeResponse(r);
        const out = decodeCallResponse(r);
        finish(out.status ?? `error: ${out.error}`);
      }
    };
    s.on('error', () => finish('closed'));
    s.on('close', () => finish('closed'));
    if (deflate) {
      const z = zlib.createDeflate();
      const inflate = zlib.createInflate({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
      inflate.on('error', () => finish('closed'));
      s.pipe(inflate).on('data', onData);
      z.pipe(s);
      z.write(bytes);
      z.flush(zlib.constants.Z_SYNC_FLUSH);
    } else {
      s.on('data', onData);
      s.write(bytes);
    }
  });
}

/**
 * A compact-protocol appendBatch frame of `n` empty events, spliced from the encoding
 * of 20 events (encoding millions through the thrift library takes a minute).
 */
function emptyThriftBatch(n: number): Buffer {
  const empty: FlumeEvent = { headers: {}, body: Buffer.alloc(0) };
  const enc = (k: number): Buffer => encodeCall('compact', 'appendBatch', 7, new Array<FlumeEvent>(k).fill(empty)).subarray(4);
  const e20 = enc(20);
  const eventLen = enc(21).length - e20.length;
  // A list of 15 or more structs: 0xFC, then the size as a varint (20 = 0x14).
  const at = e20.indexOf(Buffer.from([0xfc, 20]));
  const eventBytes = e20.subarray(at + 2, at + 2 + eventLen);
  const size: number[] = [];
  for (let v = n; ; v >>>= 7) {
    if (v < 0x80) {
      size.push(v);
      break;
    }
    size.push((v & 0x7f) | 0x80);
  }
  const events = Buffer.alloc(eventLen * n);
  for (let i = 0; i < n; i++) eventBytes.copy(events, i * eventLen);
  const body = Buffer.concat([e20.subarray(0, at), Buffer.from([0xfc, ...size]), events, e20.subarray(at + 2 + 20 * eventLen)]);
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length);
  return Buffer.concat([len, body]);
}

const ev = (body: string): FlumeEvent => ({ headers: { h: 'v' }, body: Buffer.from(body) });

test('avro: calls announcing millions of empty events are answered FAILED before they are decoded; memory stays bounded; others are served', { timeout: 120_000 }, async () => {
  const port = await freePort();
  const { dir, cleanup } = tempDir();
  const out = `${dir}/out`;
  fs.mkdirSync(out);
  const agent = await startAgent(rpcSourceJob('a1', 'avro', port, `a1.channels.c1.capacity = 1000000\na1.channels.c1.transactionCapacity = 1000000\n${fileRollSink('a1', out)}`), { dir });
  try {
    const base = peakRssMb(agent);
    // 2 M events (a 4 MB frame): more than transactionCapacity, refused by count.
    assert.equal(await rawAvroCall(port, emptyEventsFrame(2_000_000), false), 'FAILED');
    // 700,000 events (1.4 MB): within transactionCapacity, but about 140 MB once decoded.
    assert.equal(await rawAvroCall(port, emptyEventsFrame(700_000), false), 'FAILED');
    let peak = peakRssMb(agent);
    assert.ok(peak - base < 80, `peak RSS grew by ${Math.round(peak - base)} MB (from ${Math.round(base)} MB)`);
    // 33 M events: a 66 MB frame, under the 64 MiB frame limit. Receiving the frame
    // costs about twice its size (its socket reads, then the frame in one piece);
    // decoding it would cost 7 GB.
    assert.equal(await rawAvroCall(port, emptyEventsFrame(33_000_000), false), 'FAILED');
    peak = peakRssMb(agent);
    assert.ok(peak - base < 260, `peak RSS grew by ${Math.round(peak - base)} MB (from ${Math.round(base)} MB)`);
    await agent.waitFor(/unable to process event batch of 2000000 or more, answering FAILED: the batch of 2000000 events exceeds the channels' transactionCapacity 1000000/);
    await agent.waitFor(/unable to process event batch of 700000, answering FAILED: the call would take about 1\d\d\.\d MiB once decoded, more than 128\.0 MiB \(max-call-bytes\)/);

    const c = new AvroRpcClient({ host: '127.0.0.1', port, connectTimeout: 5000, requestTimeout: 10_000 });
    await c.connect();
    await c.appendBatch([ev('after-1'), ev('after-2'), ev('after-3')]);
    await c.close();
    await eventually(() => rolledFiles(out).toString() === 'after-1\nafter-2\nafter-3\n', 10_000, "the normal client's events written");
  } finally {
    await agent.stop();
    cleanup();
  }
});

test('avro with deflate: a deflate bomb and many connections holding large inflated frames are cut off; memory stays bounded; others are served', { timeout: 120_000 }, async () => {
  const port = await freePort();
  const { dir, cleanup } = tempDir();
  const out = `${dir}/out`;
  fs.mkdirSync(out);
  const agent = await startAgent(rpcSourceJob('a1', 'avro', port, `a1.sources.r1.compression-type = deflate\na1.channels.c1.capacity = 1000\n${fileRollSink('a1', out)}`), { dir });
  try {
    const base = peakRssMb(agent);
    // 5 M empty events: 10 MB inflated, about 25 KB on the wire; refused by count.
    assert.equal(await rawAvroCall(port, emptyEventsFrame(5_000_000), true), 'FAILED');
    // 33 M empty events: 66 MB inflated from about 80 KB; beyond max-inflated-bytes.
    assert.equal(await rawAvroCall(port, emptyEventsFrame(33_000_000), true), 'closed');
    await agent.waitFor(/closing Avro RPC connection from 127\.0\.0\.1:\d+: frame 1 exceeds 16777216 bytes/);

    // 24 connections each announce a 16 MB buffer and send all but its last byte
    // (a few kilobytes deflated), then wait: together more than max-total-inflated-bytes.
    const header = Buffer.alloc(12);
    header.writeInt32BE(1, 0);
    header.writeInt32BE(1, 4);
    header.writeInt32BE(16 * 1024 * 1024 - 16, 8);
    const partial = Buffer.concat([header, Buffer.alloc(16 * 1024 * 1024 - 17)]);
    const holders: net.Socket[] = [];
    let closedHolders = 0;
    for (let i = 0; i < 24; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => closedHolders++);
      const z = zlib.createDeflate();
      z.pipe(s);
      z.write(partial);
      z.flush(zlib.constants.Z_SYNC_FLUSH);
      holders.push(s);
    }
    await eventually(() => closedHolders >= 20, 30_000, 'the connections beyond the shared budget closed');
    await agent.waitFor(/closing Avro RPC connection from 127\.0\.0\.1:\d+: unfinished frames of all connections inflate to more than 67108864 bytes \(max-total-inflated-bytes\)/);
    const peak = peakRssMb(agent);
    assert.ok(peak - base < 180, `peak RSS grew by ${Math.round(peak - base)} MB (from ${Math.round(base)} MB)`);

    // A normal deflate client is served while the surviving holders still wait.
    const c = new AvroRpcClient({ host: '127.0.0.1', port, connectTimeout: 5000, requestTimeout: 10_000, compression: 'deflate' });
    await c.connect();
    await c.appendBatch([ev('after-1'), ev('after-2')]);
    await c.close();
    await eventually(() => rolledFiles(out).toString() === 'after-1\nafter-2\n', 10_000, "the normal client's events written");
    for (const s of holders) s.destroy();
  } finally {
    await agent.stop();
    cleanup();
  }
});

test('thrift: a 16 MB frame of 3.2 M empty events is answered FAILED before it is decoded; memory stays bounded; others are served', { timeout: 120_000 }, async () => {
  const port = await freePort();
  const { dir, cleanup } = tempDir();
  const out = `${dir}/out`;
  fs.mkdirSync(out);
  const agent = await startAgent(rpcSourceJob('a1', 'thrift', port, `a1.channels.c1.capacity = 1000\n${fileRollSink('a1', out)}`), { dir });
  try {
    const base = peakRssMb(agent);
    const frame = emptyThriftBatch(3_200_000);
    assert.ok(frame.length > 15_000_000 && frame.length < 16_384_000, `frame of ${frame.length} bytes`);
    // Four connections at once.
    const replies = await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<string>((resolve) => {
            const s = net.connect(port, '127.0.0.1');
            const decoder = new ThriftFrameDecoder();
            s.on('error', () => resolve('closed'));
            s.on('close', () => resolve('closed'));
            s.on('data', (chunk: Buffer) => {
              for (const body of decoder.push(chunk)) {
                resolve(decodeReply('compact', body).status ?? 'error');
                s.destroy();
              }
            });
            s.write(frame);
          }),
      ),
    );
    assert.deepEqual(replies, ['FAILED', 'FAILED', 'FAILED', 'FAILED']);
    const peak = peakRssMb(agent);
    assert.ok(peak - base < 180, `peak RSS grew by ${Math.round(peak - base)} MB (from ${Math.round(base)} MB)`);
    await agent.waitFor(/Thrift source r1: unable to process event batch of 3200000 or more, answering FAILED: the batch of 3200000 events exceeds the channels' transactionCapacity 100/);

    const c = new ThriftRpcClient({ host: '127.0.0.1', port, connectTimeout: 5000, requestTimeout: 10_000 });
    await c.connect();
    await c.appendBatch([ev('after-1'), ev('after-2')]);
    await c.close();
    await eventually(() => rolledFiles(out).toString() === 'after-1\nafter-2\n', 10_000, "the normal client's events written");
  } finally {
    await agent.stop();
    cleanup();
  }
});

test('avro and thrift: many connections each holding most of a large frame are cut off beyond max-total-frame-bytes; memory stays bounded; others are served', { timeout: 120_000 }, async () => {
  const avroPort = await freePort();
  const thriftPort = await freePort();
  const { dir, cleanup } = tempDir();
  const out = `${dir}/out`;
  fs.mkdirSync(out);
  const job = `a1.sources = r1 r2
a1.channels = c1
a1.sources.r1.type = avro
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${avroPort}
a1.sources.r1.max-total-frame-bytes = 67108864
a1.sources.r1.channels = c1
a1.sources.r2.type = thrift
a1.sources.r2.bind = 127.0.0.1
a1.sources.r2.port = ${thriftPort}
a1.sources.r2.max-total-frame-bytes = 67108864
a1.sources.r2.channels = c1
a1.channels.c1.type = memory
${fileRollSink('a1', out)}`;
  const agent = await startAgent(job, { dir });
  const holders: net.Socket[] = [];
  try {
    const base = peakRssMb(agent);
    // 12 connections to each source announce a 15 MB frame, send all but its last
    // kilobyte, and wait: 180 MB per source without a shared bound.
    const size = 15_000_000;
    const avroHead = Buffer.alloc(12);
    avroHead.writeInt32BE(1, 0);
    avroHead.writeInt32BE(1, 4);
    avroHead.writeInt32BE(size, 8);
    const thriftHead = Buffer.alloc(4);
    thriftHead.writeInt32BE(size, 0);
    const body = Buffer.alloc(size - 1024, 0x41);
    let closed = 0;
    for (const [port, head] of [
      [avroPort, avroHead],
      [thriftPort, thriftHead],
    ] as const) {
      for (let i = 0; i < 12; i++) {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => {});
        s.on('close', () => closed++);
        s.write(head);
        s.write(body);
        holders.push(s);
      }
    }
    await eventually(() => closed >= 16, 60_000, 'the connections beyond the shared budgets closed');
    await agent.waitFor(/closing Avro RPC connection from 127\.0\.0\.1:\d+: unfinished frames of all connections hold more than 67108864 bytes \(max-total-frame-bytes\)/);
    await agent.waitFor(/closing Thrift connection from 127\.0\.0\.1:\d+: unfinished frames of all connections hold more than 67108864 bytes \(max-total-frame-bytes\)/);
    const peak = peakRssMb(agent);
    assert.ok(peak - base < 220, `peak RSS grew by ${Math.round(peak - base)} MB (from ${Math.round(base)} MB)`);

    // Normal clients of both are served while the surviving holders still wait.
    const a = new AvroRpcClient({ host: '127.0.0.1', port: avroPort, connectTimeout: 5000, requestTimeout: 10_000 });
    await a.connect();
    await a.appendBatch([ev('avro-1'), ev('avro-2')]);
    await a.close();
    const t = new ThriftRpcClient({ host: '127.0.0.1', port: thriftPort, connectTimeout: 5000, requestTimeout: 10_000 });
    await t.connect();
    await t.appendBatch([ev('thrift-1')]);
    await t.close();
    await eventually(() => rolledFiles(out).toString() === 'avro-1\navro-2\nthrift-1\n', 10_000, "the normal clients' events written");
  } finally {
    for (const s of holders) s.destroy();
    await agent.stop();
    cleanup();
  }
});

test('thrift: a client that sends calls and never reads the replies is no longer read from; others are served', { timeout: 120_000 }, async () => {
  const port = await freePort();
  // In this process, so the source's counters can be read.
  const a = await inProcessAgent(rpcSourceJob('a1', 'thrift', port, 'a1.channels.c1.capacity = 1000000\na1.channels.c1.transactionCapacity = 1000\n'));
  const hostile = net.connect(port, '127.0.0.1');
  hostile.on('error', () => {});
  try {
    await new Promise<void>((r) => hostile.once('connect', () => r()));
    hostile.pause(); // never read the replies
    // 1.2 M small append calls (about 30 MB; 24 MB of replies), written at once; the
    // socket buffers of both ends take a few MB of replies before the source stops.
    const one = encodeCall('compact', 'append', 1, [{ headers: {}, body: Buffer.from('x') }]);
    const total = 1_200_000;
    hostile.write(Buffer.concat(new Array<Buffer>(total).fill(one)));
    // Wait until the source takes no more calls for a second.
    const received = (): number => Number(a.counter('SOURCE', 'r1').AppendReceivedCount);
    let last = -1;
    let since = Date.now();
    await eventually(
      () => {
        const now = received();
        if (now !== last) {
          last = now;
          since = Date.now();
        }
        return now === total || Date.now() - since > 1000;
      },
      60_000,
      'the source to stop taking calls',
    );
    assert.ok(last > 0 && last < total / 3, `the source took ${last} of ${total} calls from a client that never reads its replies`);
    // Another client is served meanwhile.
    const c = new ThriftRpcClient({ host: '127.0.0.1', port, connectTimeout: 5000, requestTimeout: 10_000 });
    await c.connect();
    await c.appendBatch([ev('after')]);
    await c.close();
  } finally {
    hostile.destroy();
    await a.stop();
  }
});
