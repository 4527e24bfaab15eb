import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, freePort, netcatJob, startAgent, tcpExchange, tempDir, type RunningAgent } from '../support/agent.js';

interface Got {
  body: string;
  headers: http.IncomingHttpHeaders;
  status: number;
}

/** An HTTP server answering each POST with `statusFor(body, n)`; records what it got. */
async function endpoint(statusFor: (body: string, n: number) => number, port = 0): Promise<{ url: string; got: Got[]; close(): Promise<void> }> {
  const got: Got[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString();
      const status = statusFor(body, got.length);
      got.push({ body, headers: req.headers, status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('answer');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    got,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function withAgent(job: string, fn: (a: RunningAgent) => Promise<void>): Promise<void> {
  const t = tempDir();
  const a = await startAgent(job, { dir: t.dir });
  try {
    await fn(a);
  } finally {
    await a.stop();
    t.cleanup();
  }
}

test("one POST per event with Flume's headers; a 200 commits, a 503 rolls back and the event is sent again", async () => {
  let failed = false;
  const ep = await endpoint((body) => {
    if (body === 'two' && !failed) {
      failed = true;
      return 503;
    }
    return 200;
  });
  const port = await freePort();
  await withAgent(netcatJob(port, { type: 'http', endpoint: ep.url, 'backoff.503': 'false' }), async () => {
    assert.equal(await tcpExchange(port, 'one\ntwo\nthree\n', { expectBytes: 9 }), 'OK\nOK\nOK\n');
    await eventually(() => ep.got.filter((g) => g.status === 200).length === 3, 10000, 'three delivered');
    assert.deepEqual(
      ep.got.map((g) => `${g.body}:${g.status}`),
      ['one:200', 'two:503', 'two:200', 'three:200'],
    );
    assert.equal(ep.got[0]!.headers['content-type'], 'text/plain');
    assert.equal(ep.got[0]!.headers.accept, 'text/plain');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ep.got.length, 4, 'nothing sent twice after its 200');
  });
  await ep.close();
});

test('per-status rules: rollback.4XX = false drops a refused event; a specific code wins over its class', async () => {
  const ep = await endpoint((body) => (body.startsWith('bad') ? 400 : body === 'teapot' ? 418 : 200));
  const port = await freePort();
  await withAgent(
    netcatJob(port, {
      type: 'http',
      endpoint: ep.url,
      'rollback.4XX': 'false',
      'backoff.4XX': 'false',
      'rollback.418': 'true',
      'backoff.418': 'false',
      contentTypeHeader: 'application/x-log',
      acceptHeader: '*/*',
    }),
    async (agent) => {
      await tcpExchange(port, 'bad1\ngood\n', { expectBytes: 6 });
      await eventually(() => ep.got.some((g) => g.body === 'good'), 10000, 'good delivered');
      assert.equal(ep.got.filter((g) => g.body === 'bad1').length, 1, 'the 400 was committed, not resent');
      assert.equal(ep.got[0]!.headers['content-type'], 'application/x-log');
      assert.equal(ep.got[0]!.headers.accept, '*/*');
      await tcpExchange(port, 'teapot\n', { expectBytes: 3 });
      // 418 has its own rollback rule: resent again and again.
      await eventually(() => ep.got.filter((g) => g.body === 'teapot').length >= 3, 10000, 'teapot resent');
      await agent.waitFor(/got status code 418; rolled back for retry/);
    },
  );
  await ep.close();
});

test('connection refused: rolled back, logged with the endpoint, delivered once the endpoint is up', async () => {
  const port = await freePort();
  const epPort = await freePort();
  await withAgent(netcatJob(port, { type: 'http', endpoint: `http://127.0.0.1:${epPort}/x`, connectTimeout: 500, requestTimeout: 500 }), async (agent) => {
    await tcpExchange(port, 'later\n', { expectBytes: 3 });
    await agent.waitFor(new RegExp(`POST http://127.0.0.1:${epPort}/x failed: ECONNREFUSED`), 10000);
    const ep = await endpoint(() => 200, epPort);
    await eventually(() => ep.got.length === 1, 15000, 'delivered after the endpoint came up');
    assert.equal(ep.got[0]!.body, 'later');
    await ep.close();
  });
});

test('batch extension: one JSON array of {headers, body} per transaction', async () => {
  const ep = await endpoint(() => 200);
  const port = await freePort();
  await withAgent(
    netcatJob(
      port,
      { type: 'http', endpoint: ep.url, batch: 50 },
      {
        source: { interceptors: 'i1', 'interceptors.i1.type': 'static', 'interceptors.i1.key': 'app', 'interceptors.i1.value': 'web' },
      },
    ),
    async () => {
      const input = Array.from({ length: 120 }, (_, i) => `event ${i} ünï`);
      await tcpExchange(port, input.join('\n') + '\n', { expectBytes: 360 });
      await eventually(() => ep.got.flatMap((g) => JSON.parse(g.body) as unknown[]).length === 120, 10000, 'all events');
      const all = ep.got.flatMap((g) => JSON.parse(g.body) as { headers: Record<string, string>; body: string }[]);
      assert.deepEqual(
        all.map((e) => e.body),
        input,
      );
      assert.ok(all.every((e) => e.headers.app === 'web'));
      assert.ok(ep.got.every((g) => g.headers['content-type'] === 'application/json; charset=UTF-8'));
      assert.ok(ep.got.length < 120);
    },
  );
  await ep.close();
});
