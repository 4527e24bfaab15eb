import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, freePort, tempDir, startAgent, spawnFlume, tcpExchange, eventually, loggedBodies, netcatJob } from '../support/agent.js';

test('the seed job: lines sent to netcat are acknowledged OK and logged by the logger sink', async () => {
  const port = await freePort();
  const t = tempDir();
  const job = fs.readFileSync(path.join(ROOT, 'jobs', 'flume-netcat-logger.conf'), 'utf8').replace('port = 44444', `port = ${port}`);
  const agent = await startAgent(job, { dir: t.dir });
  try {
    const replies = await tcpExchange(port, 'hello\nworld\r\n', { expectBytes: 6 });
    assert.equal(replies, 'OK\nOK\n');
    await agent.waitFor(/body: 77 6F 72 6C 64 0D/);
    assert.deepEqual(loggedBodies(agent.stderr()), ['hello', 'world.']);
    assert.match(agent.stderr(), /\[INFO - org\.apache\.flume\.sink\.LoggerSink\] Event: \{ headers:\{\} body: 68 65 6C 6C 6F {34}hello \}/);
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});

test('the seed command line works unchanged, JVM flags included', async () => {
  const port = await freePort();
  const t = tempDir();
  const file = path.join(t.dir, 'flume-netcat-logger.conf');
  fs.writeFileSync(file, fs.readFileSync(path.join(ROOT, 'jobs', 'flume-netcat-logger.conf'), 'utf8').replace('port = 44444', `port = ${port}`));
  const agent = spawnFlume(['agent', '-c', 'conf/', '-n', 'a1', '-f', file, '-Dflume.root.logger=INFO,console', '-Xmx512m', '-Dflume.monitoring.type=none']);
  try {
    await agent.waitFor(/Agent a1 started/);
    assert.equal(await tcpExchange(port, 'x\n', { expectBytes: 3 }), 'OK\n');
    await agent.waitFor(/body: 78 /);
  } finally {
    assert.equal(await agent.stop('SIGINT'), 0);
    t.cleanup();
  }
});

test('logger sink maxBytesToLog is honoured', async () => {
  const port = await freePort();
  const t = tempDir();
  const agent = await startAgent(netcatJob(port, { type: 'logger', maxBytesToLog: 4 }), { dir: t.dir });
  try {
    await tcpExchange(port, 'abcdefgh\n', { expectBytes: 3 });
    await agent.waitFor(/Event: /);
    assert.match(agent.stderr(), /Event: \{ headers:\{\} body: 61 62 63 64 {37}abcd \}/);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test("a line longer than max-line-length is refused with Flume's text, counted, and the source keeps serving", async () => {
  const port = await freePort();
  const t = tempDir();
  const agent = await startAgent(netcatJob(port, { type: 'logger' }, { source: { 'max-line-length': 10 } }), { dir: t.dir });
  try {
    // The first line fits (9 chars + newline); the second does not: it is refused and the connection closed.
    const reply = await tcpExchange(port, '123456789\n' + 'x'.repeat(30) + '\nnever\n');
    assert.equal(reply, 'OK\nFAILED: Event exceeds the maximum length (10 chars, including newline)\n');
    assert.match(agent.stderr(), /Client sent event exceeding the maximum length/);
    assert.equal(await tcpExchange(port, 'again\n', { expectBytes: 3 }), 'OK\n');
    await agent.waitFor(/body: 61 67 61 69 6E/);
    assert.deepEqual(loggedBodies(agent.stderr()), ['123456789', 'again']);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('many concurrent clients each get their own acks, every line arrives', async () => {
  const port = await freePort();
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(netcatJob(port, { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0 }, { channel: { capacity: 10000, transactionCapacity: 1000 } }), { dir: t.dir });
  try {
    const clients = 25;
    const perClient = 80;
    const replies = await Promise.all(
      Array.from({ length: clients }, (_, c) => {
        const lines = Array.from({ length: perClient }, (_, i) => `client${c}-line${i}\n`).join('');
        return tcpExchange(port, lines, { expectBytes: 3 * perClient });
      }),
    );
    for (const r of replies) assert.equal(r, 'OK\n'.repeat(perClient));
    const expected = new Set<string>();
    for (let c = 0; c < clients; c++) for (let i = 0; i < perClient; i++) expected.add(`client${c}-line${i}`);
    await eventually(() => readLines(out).length === expected.size, 10000, 'all lines in the file');
    const got = readLines(out);
    assert.equal(new Set(got).size, got.length, 'no line twice');
    assert.deepEqual(new Set(got), expected);
    // Per client, order is kept.
    for (let c = 0; c < clients; c++) {
      const mine = got.filter((l) => l.startsWith(`client${c}-`));
      assert.deepEqual(
        mine,
        Array.from({ length: perClient }, (_, i) => `client${c}-line${i}`),
      );
    }
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('a full channel makes netcat answer FAILED, and every line acknowledged OK is delivered', async () => {
  const port = await freePort();
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(
    netcatJob(port, { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.batchSize': 3 }, { channel: { capacity: 3, transactionCapacity: 3, 'keep-alive': 0 } }),
    { dir: t.dir },
  );
  try {
    // The sink cannot write while its directory is gone, so the channel fills up.
    fs.rmSync(out, { recursive: true });
    const sock = net.connect(port, '127.0.0.1');
    sock.setEncoding('utf8');
    const replies: string[] = [];
    let buf = '';
    sock.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        replies.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    await new Promise((r) => sock.once('connect', r));
    for (let i = 0; i < 6; i++) {
      sock.write(`line${i}\n`);
      await eventually(() => replies.length === i + 1, 5000, `reply ${i}`);
    }
    sock.end();
    const ok = replies.map((r, i) => (r === 'OK' ? `line${i}` : undefined)).filter(Boolean);
    assert.deepEqual(replies.slice(0, 3), ['OK', 'OK', 'OK']);
    for (const r of replies.slice(3)) {
      assert.equal(r, "FAILED: Space for commit to queue couldn't be acquired. Sinks are likely not keeping up with sources, or the buffer size is too tight");
    }
    // The sink recovers once the directory is back (after Flume's 5 s back-off) and delivers exactly the accepted lines.
    fs.mkdirSync(out);
    await eventually(() => readLines(out).length >= ok.length, 15000, 'accepted lines delivered');
    assert.deepEqual(readLines(out), ok);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

function readLines(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const files = fs.readdirSync(dir).sort();
  return files.flatMap((f) =>
    fs
      .readFileSync(path.join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l !== ''),
  );
}
