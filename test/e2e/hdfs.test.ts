import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, inflateSync } from 'node:zlib';
import { eventually, freePort, netcatJob, spawnFlume, tcpExchange } from '../support/agent.js';
import { readSequenceFile } from '../support/webhdfs/seqfile-reader.js';
import { selfSignedCert } from '../support/avro/peer.js';
import { WebHdfsServer } from '../support/webhdfs/server.js';
import { concatFiles, dH, filesOf, seedJob, withHdfs, ymdH } from './hdfs-support.js';

const lines = (n: number, tag = 'line'): string => Array.from({ length: n }, (_, i) => `${tag} ${i} ${'x'.repeat(i % 7)}`).join('\n') + '\n';

test('seed job exec tail -F → hdfs: %D/%H paths, logs-.<counter> names, in-use .tmp while open, the exact bytes', async () => {
  await withHdfs(async ({ server, dir, start }) => {
    const log = path.join(dir, 'hive.log');
    fs.writeFileSync(log, '');
    const before = Date.now();
    const agent = await start(
      seedJob('flume-exec-hdfs.conf', {
        'a1.sources.r1.command': `tail -F ${log}`,
        'a1.sinks.s1.hdfs.webhdfs.url': server.url,
      }),
    );
    // tail -F starts with the last 10 lines of the file: write one line, wait until it
    // arrived (so tail is following), then the rest.
    const input = lines(250, 'hive');
    const nl = input.indexOf('\n') + 1;
    fs.appendFileSync(log, input.slice(0, nl));
    await eventually(() => filesOf(server).inUse.length === 1, 15000, 'first line');
    fs.appendFileSync(log, input.slice(nl));
    const open: string = await eventually(
      () => {
        const f = filesOf(server);
        return f.inUse.length === 1 && server.read(f.inUse[0]!).length === Buffer.byteLength(input) ? f.inUse[0]! : '';
      },
      15000,
      'all lines in one in-use file',
    );
    const after = Date.now();
    const dirs = new Set([dH(before), dH(after)]);
    const m = /^\/flume\/(\d\d\/\d\d\/\d\d\/\d\d)\/logs-\.(\d{13})\.tmp$/.exec(open);
    assert.ok(m, `in-use name ${open}`);
    assert.ok(dirs.has(m[1]!), `${m[1]} is the hour of writing (${[...dirs]})`);
    // Flume's counter starts at the bucket's creation time in ms, + 1 for the first file.
    assert.ok(Number(m[2]) > before && Number(m[2]) <= after + 1, 'counter is a timestamp of the run');
    assert.equal(await agent.stop(), 0);
    const f = filesOf(server);
    assert.deepEqual(f.inUse, []);
    assert.deepEqual(f.done, [open.slice(0, -'.tmp'.length)]);
    assert.equal(server.read(f.done[0]!).toString(), input);
    // Every CREATE asked not to overwrite.
    assert.ok(server.requests.filter((r) => r.op === 'CREATE').every((r) => r.query.overwrite === 'false'));
  });
});

test('seed job spooldir → hdfs: upload-.<counter> under upload/%Y%m%d/%H, hour rounded; the file ends .COMPLETED, a .tmp file is left alone', async () => {
  await withHdfs(async ({ server, dir, start }) => {
    const spool = path.join(dir, 'upload');
    fs.mkdirSync(spool);
    const input = lines(120, 'spooled');
    fs.writeFileSync(path.join(spool, 'a.txt'), input);
    fs.writeFileSync(path.join(spool, 'b.txt.tmp'), 'still being written\n');
    const before = Date.now();
    const job = seedJob('flume-dir-hdfs.conf', {
      'a3.sources.r3.spoolDir': spool,
      'a3.sinks.k3.hdfs.webhdfs.url': server.url,
    });
    const agent = await start(job, 'a3');
    await eventually(() => fs.existsSync(path.join(spool, 'a.txt.COMPLETED')), 20000, 'the spooled file to be completed');
    await eventually(() => filesOf(server).inUse.some((f) => server.read(f).length === Buffer.byteLength(input)), 15000, 'file written');
    const after = Date.now();
    assert.equal(await agent.stop(), 0);
    const f = filesOf(server);
    assert.equal(f.inUse.length, 0);
    assert.equal(f.done.length, 1);
    const m = /^\/flume\/upload\/(\d{8}\/\d\d)\/upload-\.\d{13}$/.exec(f.done[0]!);
    assert.ok(m, f.done[0]);
    assert.ok(new Set([ymdH(before), ymdH(after)]).has(m[1]!));
    assert.equal(server.read(f.done[0]!).toString(), input);
    assert.ok(fs.existsSync(path.join(spool, 'b.txt.tmp')), 'the .tmp file is ignored');
  });
});

test('seed job avro → hdfs (second hop): what avro-client sends lands under flume2/upload', async () => {
  await withHdfs(async ({ server, dir, start }) => {
    const port = await freePort();
    const agent = await start(seedJob('flume-avro-hdfs.conf', { 'a2.sources.r1.port': String(port), 'a2.sinks.k1.hdfs.webhdfs.url': server.url }), 'a2');
    const file = path.join(dir, 'events.txt');
    const input = lines(300, 'avro');
    fs.writeFileSync(file, input);
    const client = spawnFlume(['avro-client', '-H', '127.0.0.1', '-p', String(port), '-F', file]);
    assert.equal(await client.exited, 0);
    assert.equal(await agent.stop(), 0);
    const f = filesOf(server);
    assert.equal(f.inUse.length, 0);
    assert.ok(f.done.length >= 1 && f.done.every((p) => /^\/flume2\/upload\/\d{8}\/\d\d\/upload-\.\d{13}$/.test(p)), f.done.join());
    assert.equal(concatFiles(server, f.done).toString(), input);
  });
});

/** netcat → hdfs with the timestamp header fixed by a static interceptor. */
function stampedJob(port: number, url: string, ts: number, sink: Record<string, string | number>): string {
  return netcatJob(
    port,
    { type: 'hdfs', 'hdfs.webhdfs.url': url, 'hdfs.fileType': 'DataStream', 'hdfs.timeZone': 'UTC', ...sink },
    {
      source: { interceptors: 'i1', 'interceptors.i1.type': 'static', 'interceptors.i1.key': 'timestamp', 'interceptors.i1.value': String(ts) },
      channel: { capacity: 10000, transactionCapacity: 1000 },
    },
  );
}

// 2024-03-05 11:54:34.567 UTC
const TS = Date.UTC(2024, 2, 5, 11, 54, 34, 567);

test('escapes from the timestamp header, rounded to 10 minutes in hdfs.timeZone; %{header} and %t in the prefix', async () => {
  await withHdfs(async ({ server, start }) => {
    const port = await freePort();
    await start(
      stampedJob(port, server.url, TS, {
        'hdfs.path': 'hdfs://nn:8020/logs/%Y/%m/%d/%H%M',
        'hdfs.filePrefix': '%{missing}ev-%t-%a',
        'hdfs.round': 'true',
        'hdfs.roundValue': 10,
        'hdfs.roundUnit': 'minute',
        'hdfs.timeZone': 'Asia/Shanghai',
        'hdfs.rollCount': 0,
        'hdfs.rollSize': 0,
        'hdfs.rollInterval': 1,
      }),
    );
    await tcpExchange(port, 'one\ntwo\n', { expectBytes: 6 });
    const done = await eventually<string[] | undefined>(() => (filesOf(server).done.length === 1 ? filesOf(server).done : undefined), 10000, 'file rolled after 1 s');
    assert.match(done![0]!, new RegExp(`^/logs/2024/03/05/1950/ev-${TS}-Tue\\.\\d{13}$`));
    assert.equal(server.read(done![0]!).toString(), 'one\ntwo\n');
  });
});

test('rolling by count and by size: each file holds exactly rollCount events / reaches rollSize body bytes', async () => {
  await withHdfs(async ({ server, start }) => {
    const p1 = await freePort();
    const p2 = await freePort();
    const byCount = await start(stampedJob(p1, server.url, TS, { 'hdfs.path': '/count', 'hdfs.rollCount': 10, 'hdfs.rollSize': 0, 'hdfs.rollInterval': 0, 'hdfs.batchSize': 1000 }));
    const input = lines(95);
    await tcpExchange(p1, input, { expectBytes: 95 * 3 });
    await byCount.stop();
    const c = filesOf(server, '/count');
    assert.equal(c.inUse.length, 0);
    assert.equal(c.done.length, 10);
    assert.deepEqual(
      c.done.map((f) => server.read(f).toString().split('\n').length - 1),
      [10, 10, 10, 10, 10, 10, 10, 10, 10, 5],
    );
    assert.equal(concatFiles(server, c.done).toString(), input);
    // rollSize counts body bytes: 20-byte bodies, rollSize 50 → 3 events a file.
    const bySize = await start(stampedJob(p2, server.url, TS, { 'hdfs.path': '/size', 'hdfs.rollCount': 0, 'hdfs.rollSize': 50, 'hdfs.rollInterval': 0 }));
    const twenty = Array.from({ length: 10 }, (_, i) => `event-${String(i).padStart(14, '0')}`).join('\n') + '\n';
    await tcpExchange(p2, twenty, { expectBytes: 30 });
    await bySize.stop();
    const s = filesOf(server, '/size');
    assert.deepEqual(
      s.done.map((f) => server.read(f).toString().split('\n').length - 1),
      [3, 3, 3, 1],
    );
    assert.equal(concatFiles(server, s.done).toString(), twenty);
  });
});

test('rollInterval and idleTimeout close and rename files while the agent runs', async () => {
  await withHdfs(async ({ server, start }) => {
    const p1 = await freePort();
    await start(stampedJob(p1, server.url, TS, { 'hdfs.path': '/interval', 'hdfs.rollCount': 0, 'hdfs.rollSize': 0, 'hdfs.rollInterval': 1 }));
    await tcpExchange(p1, 'a\n', { expectBytes: 3 });
    await eventually(() => filesOf(server, '/interval').done.length === 1, 8000, 'interval roll');
    await tcpExchange(p1, 'b\n', { expectBytes: 3 });
    await eventually(() => filesOf(server, '/interval').done.length === 2, 8000, 'second interval roll');
    assert.deepEqual(
      filesOf(server, '/interval').done.map((f) => server.read(f).toString()),
      ['a\n', 'b\n'],
    );
    const p2 = await freePort();
    await start(stampedJob(p2, server.url, TS, { 'hdfs.path': '/idle', 'hdfs.rollCount': 0, 'hdfs.rollSize': 0, 'hdfs.rollInterval': 0, 'hdfs.idleTimeout': 1 }));
    await tcpExchange(p2, 'c\n', { expectBytes: 3 });
    await eventually(() => filesOf(server, '/idle').done.length === 1 && filesOf(server, '/idle').inUse.length === 0, 8000, 'idle close');
    assert.equal(server.read(filesOf(server, '/idle').done[0]!).toString(), 'c\n');
  });
});

test('maxOpenFiles: the least recently used bucket is closed when a new one opens', async () => {
  await withHdfs(async ({ server, start }) => {
    const port = await freePort();
    await start(
      netcatJob(
        port,
        {
          type: 'hdfs',
          'hdfs.webhdfs.url': server.url,
          'hdfs.fileType': 'DataStream',
          'hdfs.path': '/multi/%{dir}',
          'hdfs.maxOpenFiles': 2,
          'hdfs.rollCount': 0,
          'hdfs.rollSize': 0,
          'hdfs.rollInterval': 0,
          'hdfs.batchSize': 1,
        },
        {
          source: {
            interceptors: 'i1',
            'interceptors.i1.type': 'regex_extractor',
            'interceptors.i1.regex': '^([a-z]+)',
            'interceptors.i1.serializers': 's1',
            'interceptors.i1.serializers.s1.name': 'dir',
          },
        },
      ),
    );
    for (const l of ['a 1', 'b 1', 'a 2', 'c 1']) await tcpExchange(port, l + '\n', { expectBytes: 3 });
    // a and b open, a used again, c opens: b is the least recently used and is closed.
    await eventually(() => filesOf(server).done.length === 1, 8000, 'one closed');
    assert.match(filesOf(server).done[0]!, /^\/multi\/b\/FlumeData\.\d{13}$/);
    assert.deepEqual(
      filesOf(server)
        .inUse.map((f) => f.split('/')[2])
        .sort(),
      ['a', 'c'],
    );
  });
});

test('CompressedStream: gzip and DefaultCodec files decompress to exactly the input', async () => {
  await withHdfs(async ({ server, start }) => {
    const p1 = await freePort();
    const p2 = await freePort();
    const g = await start(
      stampedJob(p1, server.url, TS, {
        'hdfs.path': '/gz',
        'hdfs.fileType': 'CompressedStream',
        'hdfs.codeC': 'gzip',
        'hdfs.rollCount': 0,
        'hdfs.rollSize': 0,
        'hdfs.rollInterval': 0,
        'hdfs.batchSize': 50,
      }),
    );
    const d = await start(
      stampedJob(p2, server.url, TS, {
        'hdfs.path': '/zz',
        'hdfs.fileType': 'CompressedStream',
        'hdfs.codeC': 'org.apache.hadoop.io.compress.DefaultCodec',
        'hdfs.rollCount': 0,
        'hdfs.rollSize': 0,
        'hdfs.rollInterval': 0,
      }),
    );
    const input = lines(500);
    await Promise.all([tcpExchange(p1, input, { expectBytes: 1500 }), tcpExchange(p2, input, { expectBytes: 1500 })]);
    await Promise.all([g.stop(), d.stop()]);
    const gz = filesOf(server, '/gz').done;
    assert.equal(gz.length, 1);
    assert.match(gz[0]!, /\/FlumeData\.\d{13}\.gz$/);
    assert.equal(gunzipSync(server.read(gz[0]!)).toString(), input);
    const zz = filesOf(server, '/zz').done;
    assert.match(zz[0]!, /\/FlumeData\.\d{13}\.deflate$/);
    // DefaultCodec is zlib; a file is one zlib stream per batch, back to back.
    assert.equal(inflateAll(server.read(zz[0]!)).toString(), input);
  });
});

test('SequenceFile (the default fileType): LongWritable timestamp keys, BytesWritable or Text values, plain and block-compressed', async () => {
  await withHdfs(async ({ server, start }) => {
    const variants: Record<string, string | number>[] = [{}, { 'hdfs.writeFormat': 'Text', 'hdfs.codeC': 'DefaultCodec' }];
    const input = lines(120);
    for (const [i, v] of variants.entries()) {
      const port = await freePort();
      const a = await start(
        netcatJob(
          port,
          { type: 'hdfs', 'hdfs.webhdfs.url': server.url, 'hdfs.path': `/seq${i}`, 'hdfs.rollCount': 0, 'hdfs.rollSize': 0, 'hdfs.rollInterval': 0, ...v },
          {
            source: { interceptors: 'i1', 'interceptors.i1.type': 'static', 'interceptors.i1.key': 'timestamp', 'interceptors.i1.value': String(TS) },
          },
        ),
      );
      await tcpExchange(port, input, { expectBytes: 360 });
      await a.stop();
      const f = filesOf(server, `/seq${i}`);
      assert.equal(f.done.length, 1);
      assert.match(f.done[0]!, i === 0 ? /\/FlumeData\.\d{13}$/ : /\/FlumeData\.\d{13}\.deflate$/);
      const r = readSequenceFile(server.read(f.done[0]!));
      assert.equal(r.valueClass, i === 0 ? 'org.apache.hadoop.io.BytesWritable' : 'org.apache.hadoop.io.Text');
      assert.equal(r.blockCompressed, i === 1);
      assert.deepEqual(r.records.map((x) => x.value.toString() + '\n').join(''), input);
      assert.ok(r.records.every((x) => x.key === BigInt(TS)));
    }
  });
});

test('serializer and serializer.*: header_and_text without newlines; avro_event through gzip', async () => {
  await withHdfs(async ({ server, start }) => {
    const p1 = await freePort();
    const a = await start(
      stampedJob(p1, server.url, TS, { 'hdfs.path': '/hat', serializer: 'header_and_text', 'serializer.appendNewline': 'false', 'hdfs.rollCount': 0, 'hdfs.rollSize': 0, 'hdfs.rollInterval': 0 }),
    );
    await tcpExchange(p1, 'a\nb\n', { expectBytes: 6 });
    await a.stop();
    assert.equal(concatFiles(server, filesOf(server, '/hat').done).toString(), `{timestamp=${TS}} a{timestamp=${TS}} b`);
    const p2 = await freePort();
    const b = await start(
      stampedJob(p2, server.url, TS, {
        'hdfs.path': '/avro',
        'hdfs.fileType': 'CompressedStream',
        'hdfs.codeC': 'gzip',
        serializer: 'avro_event',
        'hdfs.fileSuffix': '.avro.gz',
        'hdfs.rollCount': 0,
        'hdfs.rollSize': 0,
        'hdfs.rollInterval': 0,
      }),
    );
    await tcpExchange(p2, 'x1\nx2\n', { expectBytes: 6 });
    await b.stop();
    const f = filesOf(server, '/avro').done;
    assert.match(f[0]!, /\/FlumeData\.\d{13}\.avro\.gz$/);
    const avro = gunzipSync(server.read(f[0]!));
    assert.equal(avro.subarray(0, 4).toString('latin1'), 'Obj\x01');
    assert.ok(avro.includes(Buffer.from('x1')) && avro.includes(Buffer.from('x2')));
  });
});

/** Inflates concatenated zlib streams. */
function inflateAll(buf: Buffer): Buffer {
  const out: Buffer[] = [];
  let rest = buf;
  while (rest.length > 0) {
    let used = 0;
    const r = inflateSync(rest, { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    out.push(r.buffer);
    used = r.engine.bytesWritten;
    rest = rest.subarray(used);
  }
  return Buffer.concat(out);
}

test('WebHDFS errors and stalls mid-stream lose nothing; the log names the path and the exception class', async () => {
  await withHdfs(async ({ server, start }) => {
    const port = await freePort();
    const agent = await start(
      stampedJob(port, server.url, TS, {
        'hdfs.path': '/flaky',
        'hdfs.rollCount': 0,
        'hdfs.rollSize': 0,
        'hdfs.rollInterval': 0,
        'hdfs.batchSize': 10,
        'hdfs.callTimeout': 1000,
        'hdfs.retryInterval': 1,
      }),
    );
    const first = lines(30, 'first');
    await tcpExchange(port, first, { expectBytes: 90 });
    await eventually(() => filesOf(server, '/flaky').inUse.some((f) => server.read(f).length === Buffer.byteLength(first)), 8000, 'first lines');
    server.fail({ op: 'APPEND', exception: 'AccessControlException', status: 403, message: 'Permission denied: user=flume, access=WRITE' });
    server.fail({ op: 'APPEND', on: 'datanode', exception: 'IOException', status: 500, message: 'datanode disk full' });
    server.stall({ op: 'CREATE' });
    server.fail({ op: 'CREATE', times: 2, exception: 'SafeModeException', status: 403, message: 'Name node is in safe mode.' });
    const second = lines(30, 'second');
    await tcpExchange(port, second, { expectBytes: 90 });
    await agent.waitFor(/\/flaky\/FlumeData\.\d+\.tmp failed: AccessControlException: Permission denied/, 20000);
    await agent.waitFor(/SafeModeException: Name node is in safe mode/, 30000);
    await eventually(() => concatFiles(server, server.listFiles('/flaky')).toString().includes('second 29'), 40000, 'second lines after the failures');
    assert.equal(await agent.stop(), 0);
    const f = filesOf(server, '/flaky');
    assert.deepEqual(f.inUse, []);
    const got = concatFiles(server, f.done).toString();
    // Failed calls wrote nothing, so every line is there exactly once, in order.
    assert.equal(got, first + second);
  });
});

test('namenode down: batches roll back and are written once it is back', async () => {
  await withHdfs(async ({ server, start }) => {
    const port = await freePort();
    const agent = await start(
      stampedJob(port, server.url, TS, {
        'hdfs.path': '/down',
        'hdfs.rollCount': 0,
        'hdfs.rollSize': 0,
        'hdfs.rollInterval': 0,
        'hdfs.batchSize': 10,
        'hdfs.callTimeout': 1000,
        'hdfs.retryInterval': 1,
      }),
    );
    await server.takeDown();
    const input = lines(25, 'while-down');
    await tcpExchange(port, input, { expectBytes: 75 });
    await agent.waitFor(/WebHDFS CREATE \/down\/FlumeData\.\d+\.tmp failed: ECONNREFUSED/, 15000);
    await server.bringUp();
    await eventually(() => concatFiles(server, server.listFiles('/down')).toString() === input, 30000, 'written after the namenode came back');
    assert.equal(await agent.stop(), 0);
    assert.deepEqual(filesOf(server, '/down').inUse, []);
  });
});

test('kill -9 leaves an in-use file; the restarted agent renames it before writing', async () => {
  await withHdfs(async ({ server, start }) => {
    const port = await freePort();
    const job = stampedJob(port, server.url, TS, { 'hdfs.path': '/crash', 'hdfs.filePrefix': 'app', 'hdfs.rollCount': 0, 'hdfs.rollSize': 0, 'hdfs.rollInterval': 0 });
    const a1 = await start(job);
    await tcpExchange(port, 'before crash\n', { expectBytes: 3 });
    const leftover = await eventually(() => filesOf(server, '/crash').inUse[0], 8000, 'in-use file');
    await a1.stop('SIGKILL');
    assert.deepEqual(filesOf(server, '/crash').inUse, [leftover]);
    // Another sink's in-use file in the same directory is not touched.
    fs.writeFileSync(server.local('/crash/other.1.tmp'), 'not ours');
    const a2 = await start(job);
    await eventually(() => filesOf(server, '/crash').done.includes(leftover.slice(0, -4)), 10000, 'leftover renamed at start');
    await tcpExchange(port, 'after restart\n', { expectBytes: 3 });
    await eventually(() => filesOf(server, '/crash').inUse.length === 2, 8000, 'new file');
    assert.equal(await a2.stop(), 0);
    const f = filesOf(server, '/crash');
    assert.deepEqual(f.inUse, ['/crash/other.1.tmp']);
    assert.equal(concatFiles(server, f.done).toString(), 'before crash\nafter restart\n');
  });
});

test('kill -9 with a time-escaped path: the restarted agent finds and renames the leftover without new events', async () => {
  await withHdfs(async ({ server, dir, start }) => {
    const log = path.join(dir, 'hive.log');
    fs.writeFileSync(log, '');
    const job = seedJob('flume-exec-hdfs.conf', { 'a1.sources.r1.command': `tail -F ${log}`, 'a1.sinks.s1.hdfs.webhdfs.url': server.url });
    const a1 = await start(job);
    fs.appendFileSync(log, 'one line\n');
    const leftover = await eventually(() => filesOf(server).inUse[0], 15000, 'in-use file');
    await a1.stop('SIGKILL');
    // tail -F would send the file's last lines again (opening a file in that directory);
    // an empty log means no events at all after the restart.
    fs.writeFileSync(log, '');
    const a2 = await start(job);
    await eventually(() => filesOf(server).inUse.length === 0, 15000, 'leftover renamed at start');
    assert.doesNotMatch(a2.stdout(), /Creating /);
    assert.deepEqual(filesOf(server).done, [leftover.slice(0, -4)]);
    assert.equal(server.read(leftover.slice(0, -4)).toString(), 'one line\n');
  });
});

test('namenode down at start: the leftover check is tried again and renames the file once the namenode is back', async () => {
  await withHdfs(async ({ server, start }) => {
    // What a crash leaves: an in-use file of this sink in this hour's directory.
    const dirPath = `/flume/${dH(Date.now())}`;
    const leftover = `${dirPath}/logs-.1700000000001.tmp`;
    fs.mkdirSync(server.local(dirPath), { recursive: true });
    fs.writeFileSync(server.local(leftover), 'from the crashed run\n');
    await server.takeDown();
    const agent = await start(seedJob('flume-exec-hdfs.conf', { 'a1.sources.r1.command': 'sleep 600', 'a1.sinks.s1.hdfs.webhdfs.url': server.url, 'a1.sinks.s1.hdfs.retryInterval': '1' }));
    await agent.waitFor(/could not check \/flume\/.* for leftover in-use files: .*ECONNREFUSED.*checked again in 1 s/, 10000);
    await server.bringUp();
    await eventually(() => filesOf(server).inUse.length === 0, 15000, 'leftover renamed');
    assert.deepEqual(filesOf(server).done, [leftover.slice(0, -4)]);
  });
});

test('an event without the timestamp header a path needs: the batch rolls back, a clear log line, the agent keeps running', async () => {
  await withHdfs(async ({ server, start }) => {
    const port = await freePort();
    const agent = await start(netcatJob(port, { type: 'hdfs', 'hdfs.webhdfs.url': server.url, 'hdfs.fileType': 'DataStream', 'hdfs.path': '/t/%Y' }));
    assert.equal(await tcpExchange(port, 'no stamp\n', { expectBytes: 3 }), 'OK\n');
    await agent.waitFor(/Expected timestamp in the Flume event headers, but it was null.*useLocalTimeStamp/, 10000);
    assert.equal(agent.proc.exitCode, null);
    assert.deepEqual(server.listFiles('/'), []);
  });
});

test('configuration errors: kerberos, bzip2, DataStream with a codec, CompressedStream without one', async () => {
  await withHdfs(async ({ dir }) => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'hdfs.kerberosPrincipal': 'flume/_HOST@EXAMPLE.COM' }, /Kerberos is not supported/],
      [{ 'hdfs.fileType': 'CompressedStream', 'hdfs.codeC': 'bzip2' }, /codec "bzip2" is not supported.*no well-kept bzip2 encoder/],
      [{ 'hdfs.fileType': 'DataStream', 'hdfs.codeC': 'gzip' }, /DataStream does not support compressed output/],
      [{ 'hdfs.fileType': 'CompressedStream' }, /CompressedStream needs a codec/],
      [{ 'hdfs.path': '/no/namenode' }, /names no namenode/],
    ];
    for (const [props, re] of cases) {
      const file = path.join(dir, 'bad.conf');
      fs.writeFileSync(file, netcatJob(1, { type: 'hdfs', 'hdfs.path': 'hdfs://nn:8020/x', ...props }));
      const v = spawnFlume(['validate', '-f', file]);
      assert.notEqual(await v.exited, 0);
      assert.match(v.stdout() + v.stderr(), re);
    }
  });
});

test('swebhdfs:// writes over HTTPS to the namenode and the datanode, trusting hdfs.webhdfs.caFile', async () => {
  const tls = selfSignedCert();
  const server = await WebHdfsServer.start({ tls });
  await withHdfs(async ({ dir, start }) => {
    const ca = path.join(dir, 'ca.pem');
    fs.writeFileSync(ca, tls.cert);
    const port = await freePort();
    const a = await start(netcatJob(port, { type: 'hdfs', 'hdfs.path': `swebhdfs://127.0.0.1:${server.port}/secure`, 'hdfs.webhdfs.caFile': ca, 'hdfs.fileType': 'DataStream' }));
    await tcpExchange(port, 'over tls\n', { expectBytes: 3 });
    await a.stop();
    const f = filesOf(server, '/secure');
    assert.equal(f.done.length, 1);
    assert.equal(server.read(f.done[0]!).toString(), 'over tls\n');
    assert.ok(server.requests.some((r) => r.on === 'datanode' && r.op === 'CREATE' && r.status === 201));
  }).finally(() => server.stop());
});
