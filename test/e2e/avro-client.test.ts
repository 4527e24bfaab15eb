// `flume-ng avro-client` as a user runs it, against an Avro RPC server in this process.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { FlumeEvent } from '../../src/core/event.js';
import type { MessageName } from '../../src/rpc/avro/protocol.js';
import { AvroRpcServer } from '../../src/rpc/avro/server.js';
import { BIN, ROOT, freePort, tempDir } from '../support/agent.js';

const t = tempDir('flume-ts-avro-client-');
const servers: AvroRpcServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
  t.cleanup();
});

interface Received {
  kind: MessageName;
  events: Array<{ headers: Record<string, string>; body: Buffer }>;
}

async function server(answer: (events: FlumeEvent[]) => boolean = () => true, compression: 'none' | 'deflate' = 'none') {
  const calls: Received[] = [];
  const s = new AvroRpcServer({ host: '127.0.0.1', port: 0, compression, closeTimeout: 200 }, async (events, kind) => {
    calls.push({ kind, events: events.map((e) => ({ headers: { ...e.headers }, body: Buffer.from(e.body) })) });
    return answer(events);
  });
  const { port } = await s.listen();
  servers.push(s);
  return { port, calls, bodies: () => calls.flatMap((c) => c.events.map((e) => e.body)) };
}

/** Runs the client to completion. */
function client(args: string[], input?: Buffer | string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, 'avro-client', ...args], { cwd: t.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
  });
}

const file = (name: string, content: string | Buffer): string => {
  const p = path.join(t.dir, name);
  fs.writeFileSync(p, content);
  return p;
};

test('-F: one event per line (\\n, \\r\\n, \\r), bytes as written, -R headers on every event, appendBatch of 5', { timeout: 30_000 }, async () => {
  const s = await server();
  const input = Buffer.concat([Buffer.from('one\ntwo\r\nthree\rfour\n\n'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\nsix\r\nseven\neight')]);
  const headers = file('headers.properties', '# headers for every event\nhost = web-1\nenv: prod\nempty=\nuni = h\\u00e9llo\n');
  const r = await client(['-H', '127.0.0.1', '-p', String(s.port), '-F', file('lines.txt', input), '-R', headers]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.deepEqual(
    s.bodies().map((b) => b.toString('latin1')),
    ['one', 'two', 'three', 'four', '', '\xff\xfeA', 'six', 'seven', 'eight'],
  );
  assert.deepEqual(
    s.calls.map((c) => [c.kind, c.events.length]),
    [
      ['appendBatch', 5],
      ['appendBatch', 4],
    ],
  );
  for (const c of s.calls) for (const e of c.events) assert.deepEqual(e.headers, { host: 'web-1', env: 'prod', empty: '', uni: 'héllo' });
});

test('standard input when -F is absent; --batch-size changes the calls; an empty input sends nothing', { timeout: 30_000 }, async () => {
  const s = await server();
  const r = await client(['--host', '127.0.0.1', '--port', String(s.port), '--batch-size', '3'], 'a\nb\nc\nd\n');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(s.bodies().map(String), ['a', 'b', 'c', 'd']);
  assert.deepEqual(
    s.calls.map((c) => c.events.length),
    [3, 1],
  );
  const empty = await client(['-H', '127.0.0.1', '-p', String(s.port)], '');
  assert.equal(empty.code, 0, empty.stderr);
  assert.equal(s.calls.length, 2);
});

test('exits non-zero with one line when the server answers FAILED or cannot be reached', { timeout: 30_000 }, async () => {
  let n = 0;
  const s = await server(() => ++n === 1); // the second call fails
  const lines = file('twelve.txt', Array.from({ length: 12 }, (_, i) => `l${i}`).join('\n') + '\n');
  const r = await client(['-H', '127.0.0.1', '-p', String(s.port), '-F', lines]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^flume-ng avro-client: events not delivered to 127\.0\.0\.1:\d+: appendBatch answered FAILED \(5 events delivered before the failure\)\n$/m);
  assert.equal(s.calls.length, 2, 'nothing is sent after a failure');

  const dead = await freePort();
  const d = await client(['-H', '127.0.0.1', '-p', String(dead), '-F', lines]);
  assert.equal(d.code, 1);
  assert.match(d.stderr, /flume-ng avro-client: events not delivered to 127\.0\.0\.1:\d+: cannot connect to 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
});

test('usage errors: no host or port, -F with --dirname, a missing file', { timeout: 30_000 }, async () => {
  const noPort = await client(['-H', '127.0.0.1'], '');
  assert.equal(noPort.code, 1);
  assert.match(noPort.stderr, /Either --rpcProps or both --host and --port must be specified\./);
  const both = await client(['-H', 'h', '-p', '1', '-F', 'x', '--dirname', 'y']);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /--filename and --dirname options cannot be used simultaneously/);
  const missing = await client(['-H', '127.0.0.1', '-p', '4141', '-F', path.join(t.dir, 'nope.txt')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read .*nope\.txt: ENOENT/);
  const help = spawnSync(process.execPath, [BIN, 'avro-client', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /-H, --host <host>[\s\S]*-p, --port <port>[\s\S]*-F, --filename <file>[\s\S]*--dirname <dir>[\s\S]*-R, --headerFile <file>/);
});

test('--dirname: sends every file oldest first, renames each to .COMPLETED, skips hidden and completed files', { timeout: 30_000 }, async () => {
  const s = await server();
  const dir = path.join(t.dir, 'spool');
  fs.mkdirSync(dir);
  const write = (name: string, content: string, mtime: number): void => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    fs.utimesSync(p, mtime, mtime);
  };
  write('b.log', 'b1\nb2\n', 1000);
  write('a.log', 'a1\n', 2000);
  write('.hidden', 'h\n', 500);
  write('old.log.COMPLETED', 'old\n', 100);
  const r = await client(['-H', '127.0.0.1', '-p', String(s.port), '--dirname', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(s.bodies().map(String), ['b1', 'b2', 'a1']);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['.hidden', 'a.log.COMPLETED', 'b.log.COMPLETED', 'old.log.COMPLETED']);
});

test('-P: an RPC properties file with failover over two hosts, its batch-size and compression', { timeout: 30_000 }, async () => {
  const s = await server(() => true, 'deflate');
  const dead = await freePort();
  const props = file('rpc.properties', `client.type = default_failover\nhosts = h1 h2\nhosts.h1 = 127.0.0.1:${dead}\nhosts.h2 = 127.0.0.1:${s.port}\nbatch-size = 2\ncompression-type = deflate\n`);
  const r = await client(['-P', props], 'x\ny\nz\n');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(s.bodies().map(String), ['x', 'y', 'z']);
  assert.deepEqual(
    s.calls.map((c) => c.events.length),
    [2, 1],
  );
  const bad = await client(['-P', file('bad.properties', 'hosts = h1\n')], '');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /hosts\.h1 must be host:port/);
});

test('a large file: no progress bar when stderr is not a terminal; a bar on a terminal', { timeout: 60_000 }, async () => {
  const s = await server();
  const line = 'x'.repeat(99) + '\n';
  const big = file('big.txt', line.repeat(50_000)); // 5 MB
  const r = await client(['-H', '127.0.0.1', '-p', String(s.port), '-F', big, '--batch-size', '1000']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(s.bodies().length, 50_000);

  // script(1) gives the client a pseudo-terminal (spawned asynchronously: the server runs in this process).
  const cmd = `${process.execPath} ${BIN} avro-client -H 127.0.0.1 -p ${s.port} -F ${big} --batch-size 1000`;
  const tty = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('exit', (code) => resolve({ code, out }));
  });
  assert.equal(tty.code, 0, tty.out);
  assert.match(tty.out, /avro-client \[.*\] 100% \| 4\.8\/4\.8 MB/);
  assert.equal(s.bodies().length, 100_000);
});
