import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { eventually, freePort, jobText, netcatJob, spawnFlume, startAgent, tcpExchange, tempDir, writeJob } from '../support/agent.js';

/** Runs bin/flume-ng to its exit; a run that hangs fails the test instead of the suite. */
async function run(args: string[], timeoutMs = 15000): Promise<{ code: number | string; out: string; err: string }> {
  const p = spawnFlume(args);
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), timeoutMs)));
  const code = await Promise.race([p.exited, hung]);
  clearTimeout(timer);
  if (code === 'hung') {
    await p.stop('SIGKILL');
    assert.fail(`flume-ng ${args.join(' ')} did not exit within ${timeoutMs} ms`);
  }
  return { code, out: p.stdout(), err: p.stderr() };
}

function outputFiles(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}
function outputLines(dir: string): string[] {
  return outputFiles(dir).flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean));
}

test('file_roll with sink.rollInterval of 30 days writes one file for 2,000 lines (a 2^31 ms timer used to fire every millisecond)', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const port = await freePort();
  const agent = await startAgent(netcatJob(port, { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 2592000 }, { channel: { capacity: 10000, transactionCapacity: 10000 } }), {
    dir: t.dir,
  });
  try {
    const sent = Array.from({ length: 2000 }, (_, i) => `line ${i}`);
    const replies = await tcpExchange(port, sent.join('\n') + '\n', { expectBytes: 3 * sent.length, timeoutMs: 10000 });
    assert.equal(replies, 'OK\n'.repeat(sent.length));
    await eventually(() => outputLines(out).length === sent.length, 10000, 'every line written');
    assert.deepEqual(outputLines(out), sent);
    assert.equal(outputFiles(out).length, 1, `files: ${outputFiles(out).join(', ')}`);
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
  assert.doesNotMatch(agent.stderr(), /TimeoutOverflowWarning/);
});

test('exec with a restartThrottle of 30 days runs the command once, not every millisecond', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const marker = path.join(t.dir, 'runs');
  const agent = await startAgent(
    jobText({
      sources: { r1: { type: 'exec', shell: '/bin/sh -c', command: `echo run >> ${marker}; echo line`, restart: true, restartThrottle: 2592000000, batchSize: 1, channels: 'c1' } },
      channels: { c1: { type: 'memory' } },
      sinks: { k1: { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, channel: 'c1' } },
    }),
    { dir: t.dir },
  );
  try {
    await agent.waitFor(/Command \[.*\] exited with 0/);
    await eventually(() => outputLines(out).length === 1, 5000, 'the line written');
  } finally {
    assert.equal(await agent.stop(), 0);
  }
  try {
    assert.deepEqual(fs.readFileSync(marker, 'utf8').split('\n').filter(Boolean), ['run']);
    assert.equal(agent.stderr().match(/exited with/g)?.length, 1);
    assert.doesNotMatch(agent.stderr(), /TimeoutOverflowWarning/);
  } finally {
    t.cleanup();
  }
});

test('validate: over-long durations, batches over transactionCapacity and Flume types flume-ts lacks, each with file:line:key', async () => {
  const t = tempDir();
  const file = writeJob(
    t.dir,
    `a1.sources = r1 r2
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = exec
a1.sources.r1.command = cat
a1.sources.r1.restartThrottle = 99999999999
a1.sources.r1.channels = c1
a1.sources.r2.type = seq
a1.sources.r2.batchSize = 500
a1.sources.r2.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.transactionCapacity = 100
a1.sinks.k1.type = org.apache.flume.sink.hbase.HBaseSink
a1.sinks.k1.channel = c1
`,
  );
  try {
    const { code, out } = await run(['validate', '-f', file]);
    assert.equal(code, 1);
    const lines = out.split('\n');
    const has = (re: RegExp): void =>
      assert.ok(
        lines.some((l) => re.test(l)),
        `${re} not in:\n${out}`,
      );
    has(new RegExp(`^${file}:6: error: a1\\.sources\\.r1\\.restartThrottle: expected a value of at most 31536000000 ms \\(365 days\\), got "99999999999"`));
    has(new RegExp(`^${file}:9: error: a1\\.sources\\.r2\\.batchSize \\(500\\) is larger than a1\\.channels\\.c1\\.transactionCapacity \\(100\\)`));
    has(new RegExp(`^${file}:13: error: a1\\.sinks\\.k1\\.type: "org\\.apache\\.flume\\.sink\\.hbase\\.HBaseSink" is a Flume sink type not supported by flume-ts`));
    assert.doesNotMatch(out, /did you mean/);
  } finally {
    t.cleanup();
  }
});

test('job files that are not files: a directory, /dev/zero, a fifo, /proc/self/mem get one line and exit 1, for validate and agent', async () => {
  const t = tempDir();
  const fifo = path.join(t.dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  try {
    for (const [target, why] of [
      [t.dir, 'is a directory'],
      ['/dev/zero', 'is a character device'],
      [fifo, 'is a fifo'],
      ['/proc/self/mem', 'cannot read'],
    ] as const) {
      for (const args of [
        ['validate', '-f', target],
        ['agent', '-n', 'a1', '-f', target],
      ]) {
        const { code, out, err } = await run(args, 10000);
        const all = out + err;
        assert.equal(code, 1, `${args.join(' ')}:\n${all}`);
        assert.ok(all.includes(target) && all.includes(why), `${args.join(' ')}:\n${all}`);
        assert.doesNotMatch(all, /^\s+at /m, 'no stack trace');
        assert.ok(all.length < 1000, `a line or two, not ${all.length} bytes`);
      }
    }
  } finally {
    t.cleanup();
  }
});

test('avro-client: a -R header file or -P properties file that is not a file is one line and exit 1', async () => {
  const t = tempDir();
  const body = writeJob(t.dir, 'x\n', 'body.txt');
  try {
    for (const [args, line] of [
      [['-H', '127.0.0.1', '-p', '1', '-R', '/dev/zero'], 'header file /dev/zero is a character device, not a regular file'],
      [['-P', t.dir], `RPC client properties file ${t.dir} is a directory, not a regular file`],
    ] as const) {
      const { code, err } = await run(['avro-client', ...args, '-F', body], 10000);
      assert.equal(code, 1);
      assert.equal(err.trim(), `flume-ng avro-client: ${line}`);
    }
  } finally {
    t.cleanup();
  }
});

test('a port in use at start: the error names the source, the key and its line, and is logged before "Agent a1 stopped"', async () => {
  const t = tempDir();
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  const file = writeJob(t.dir, netcatJob(port, { type: 'logger' }));
  try {
    const { code, err } = await run(['agent', '-n', 'a1', '-f', file, '-Dflume.root.logger=INFO,console']);
    assert.equal(code, 1);
    const portLine =
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .findIndex((l) => l.startsWith('a1.sources.r1.port')) + 1;
    const failure = new RegExp(`${file}:${portLine}: a1\\.sources\\.r1\\.port: source r1 failed to start: .*EADDRINUSE`);
    assert.match(err, new RegExp(`flume-ng: agent a1 not started: ${failure.source}`));
    const logged = err.search(new RegExp(`ERROR.*${failure.source}`));
    const stopped = err.indexOf('Agent a1 stopped');
    assert.ok(logged >= 0 && stopped > logged, `the error is logged before the stop:\n${err}`);
    // An address this host does not have: the error is about the bind key.
    const other = writeJob(t.dir, netcatJob(port, { type: 'logger' }, { source: { bind: '192.0.2.1' } }), 'other.conf');
    const r = await run(['agent', '-n', 'a1', '-f', other]);
    assert.equal(r.code, 1);
    const bindLine =
      fs
        .readFileSync(other, 'utf8')
        .split('\n')
        .findIndex((l) => l.startsWith('a1.sources.r1.bind')) + 1;
    assert.match(r.err, new RegExp(`flume-ng: agent a1 not started: ${other}:${bindLine}: a1\\.sources\\.r1\\.bind: source r1 failed to start: .*EADDRNOTAVAIL`));
  } finally {
    blocker.close();
    t.cleanup();
  }
});

test('validate: values that used to pass and then misbehave are errors or warnings with file:line:key', async () => {
  const t = tempDir();
  const file = writeJob(
    t.dir,
    `a3.sources = r1 r2 r3 r1
a3.channels = c1
a3.sinks = k1 k2 k3
a3.sources.r1.type = netcat
a3.sources.r1.bind = 127.0.0.1 # x
a3.sources.r1.port = 5140
a3.sources.r1.encoding = nosuch
a3.sources.r1.channels = c1
a3.sources.r2.type = avro
a3.sources.r2.bind = 0.0.0.0
a3.sources.r2.port = 5140
a3.sources.r2.ipFilter = true
a3.sources.r2.ipFilterRules = deny:ip:::1
a3.sources.r2.channels = c1
a3.sources.r3.type = exec
a3.sources.r3.command = tail -F /usr/local/soft/flume/flume_dir/access.log //监控日志命令
a3.sources.r3.batchSize = 10
a3.sources.r3.channels = c1
a3.channels.c1.type = memory
a3.channels.c1.capacity = 1000
a3.channels.c1.capacity = 99999999999999999999
a3.sinks.k1.type = file_roll
a3.sinks.k1.sink.serializer = avro_event
a3.sinks.k1.sink.serializer.compressionCodec = snappy
a3.sinks.k1.channel = c1
a3.sinks.k2.type = org.apache.flume.sink.kafka.KafkaSink
a3.sinks.k2.kafka.bootstrap.servers = localhost
a3.sinks.k2.kafka.topic = t
a3.sinks.k2.channel = c1
a3.sinks.k1.sink.directory = /tmp
a3.sinks.k3.type = file_roll
a3.sinks.k3.channel = c1
`,
  );
  try {
    const { code, out } = await run(['validate', '-f', file, '-n', 'a3']);
    assert.equal(code, 1);
    const lines = out.split('\n');
    const has = (re: RegExp): void =>
      assert.ok(
        lines.some((l) => re.test(l)),
        `${re} not in:\n${out}`,
      );
    const at = (line: number, rest: string): RegExp => new RegExp(`^${file}:${line}: ${rest}`);
    has(at(1, 'warning: a3\\.sources lists "r1" more than once'));
    has(at(5, 'warning: a3\\.sources\\.r1\\.bind: the value ends with what looks like a comment \\("# x"\\)'));
    has(at(7, 'error: a3\\.sources\\.r1\\.encoding: expected a character set'));
    has(at(11, 'error: a3\\.sources\\.r2\\.port: tcp port 5140 on 0\\.0\\.0\\.0 is also where source "r1" listens'));
    has(at(13, 'error: a3\\.sources\\.r2\\.ipFilterRules: bad ipFilterRules entry "deny:ip:::1"'));
    has(at(16, 'warning: a3\\.sources\\.r3\\.command: the value ends with what looks like a comment \\("//监控日志命令"\\)'));
    has(at(21, 'warning: a3\\.channels\\.c1\\.capacity is set again \\(first at line 20\\)'));
    has(at(21, 'error: a3\\.channels\\.c1\\.capacity: expected a value of at most 2147483647'));
    has(at(3, 'error: a3\\.sinks\\.k3\\.sink\\.directory is required'));
    has(at(24, 'error: a3\\.sinks\\.k1\\.sink\\.serializer\\.compressionCodec: expected one of null, deflate, got "snappy"'));
    has(at(27, 'error: a3\\.sinks\\.k2\\.kafka\\.bootstrap\\.servers: expected host:port pairs'));
  } finally {
    t.cleanup();
  }
});
