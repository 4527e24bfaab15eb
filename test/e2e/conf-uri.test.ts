// Job files from a URI (Flume 1.10+'s --conf-uri), served by an HTTP server in the test:
// the agent starts from it, polls with conditional requests (304 when unchanged),
// applies a change, keeps its graph when the server fails, and starts from the backup
// of the last good configuration when the server is down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ROOT, eventually, freePort, jobText, spawnFlume, tcpExchange, tempDir } from '../support/agent.js';

test('conf-uri: start from a URI, 304 while unchanged, a change applied, a 500 keeps the graph, the backup starts a later agent', async () => {
  const t = tempDir();
  const [p1, p2] = [await freePort(), await freePort()];
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const job = (port: number): string =>
    jobText({
      sources: { r1: { type: 'netcat', bind: '127.0.0.1', port, channels: 'c1' } },
      channels: { c1: { type: 'memory' } },
      sinks: { k1: { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, channel: 'c1' } },
    });
  let body = job(p1);
  let etag = '"v1"';
  let status = 200;
  const seen: number[] = [];
  let auth: string | undefined;
  const server = http.createServer((req, res) => {
    auth = req.headers.authorization;
    if (status !== 200) {
      seen.push(status);
      res.writeHead(status).end('down');
    } else if (req.headers['if-none-match'] === etag) {
      seen.push(304);
      res.writeHead(304).end();
    } else {
      seen.push(200);
      res.writeHead(200, { ETag: etag, 'Content-Type': 'text/plain' }).end(body);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/a1.conf`;
  const backup = path.join(t.dir, 'backup');
  const args = (u: string) => [
    'agent',
    '-n',
    'a1',
    '-u',
    u,
    '-i',
    '1',
    '-b',
    backup,
    '--conf-user',
    'flume',
    '--conf-password',
    'n0t-Sh0wn-pw',
    '-c',
    path.join(ROOT, 'conf'),
    '-Dflume.root.logger=INFO,console',
  ];
  const agent = spawnFlume(args(url));
  try {
    await agent.waitFor(/Agent a1 started/, 20_000);
    assert.equal(auth, `Basic ${Buffer.from('flume:n0t-Sh0wn-pw').toString('base64')}`);
    assert.equal(await tcpExchange(p1, 'one\n', { expectBytes: 3 }), 'OK\n');
    await eventually(() => seen.filter((s) => s === 304).length >= 2, 10_000, 'polls answered 304');
    assert.ok(fs.existsSync(path.join(backup, '.a1.properties')), 'the last good configuration is backed up');

    status = 500;
    await agent.waitFor(/Configuration not reloaded: .*answered HTTP 500; the running configuration stays/, 10_000);
    assert.equal(await tcpExchange(p1, 'two\n', { expectBytes: 3 }), 'OK\n');
    status = 200;
    body = job(p2);
    etag = '"v2"';
    await agent.waitFor(/reconfigured: restarted source r1/, 10_000);
    assert.equal(await tcpExchange(p2, 'three\n', { expectBytes: 3 }), 'OK\n');
    assert.equal(await agent.stop(), 0);
    assert.equal((agent.stderr().match(/answered HTTP 500/g) ?? []).length, 1, 'one line per outage, not per poll');
    assert.doesNotMatch(agent.stdout() + agent.stderr(), /n0t-Sh0wn-pw/);

    // The server is down: a new agent starts from the backup of the last good configuration.
    await new Promise<void>((r) => server.close(() => r()));
    const again = spawnFlume(args(url));
    await again.waitFor(/starting from the backup of the last good configuration/, 20_000);
    await again.waitFor(/Agent a1 started/, 20_000);
    assert.equal(await tcpExchange(p2, 'four\n', { expectBytes: 3 }), 'OK\n');
    assert.equal(await again.stop(), 0);
    const lines = fs
      .readdirSync(out)
      .sort()
      .flatMap((f) => fs.readFileSync(path.join(out, f), 'utf8').split('\n').filter(Boolean));
    assert.deepEqual(lines, ['one', 'two', 'three', 'four']);
  } finally {
    await agent.stop();
    server.close();
    t.cleanup();
  }
});
