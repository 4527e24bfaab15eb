// The http source end to end: requests from Node's HTTP client to an agent whose
// file_roll sink writes each event as "{headers} body"; what the sink wrote is checked.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { eventually, freePort, jobText, startAgent, tempDir, type RunningAgent } from '../support/agent.js';
import { writeServerCerts } from './rpc-support.js';

const t = tempDir('flume-ts-http-');
after(() => t.cleanup());
let seq = 0;

interface Reply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One request; `body` may be a list of pieces, sent chunked (no Content-Length). */
function request(port: number, o: { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer | Buffer[]; tls?: { ca: Buffer } }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const mod = o.tls ? https : http;
    // Node's client frames a GET or DELETE body only with an explicit Content-Length.
    const headers = { ...o.headers };
    if (o.body !== undefined && !Array.isArray(o.body)) headers['Content-Length'] = Buffer.byteLength(o.body);
    const req = mod.request({ host: '127.0.0.1', port, method: o.method ?? 'POST', path: o.path ?? '/', headers, agent: false, ...(o.tls ? { ca: o.tls.ca, servername: 'localhost' } : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(o.body)) {
      for (const b of o.body) req.write(b);
      req.end();
    } else req.end(o.body);
  });
}

/** Each event file_roll wrote with header_and_text. */
function readEvents(dir: string): { headers: Record<string, string>; body: Buffer }[] {
  const out: { headers: Record<string, string>; body: Buffer }[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    const data = fs.readFileSync(path.join(dir, f));
    let at = 0;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, at)) {
      const line = data.subarray(at, nl);
      at = nl + 1;
      const close = line.indexOf('} ');
      const headers: Record<string, string> = {};
      const inner = line.subarray(1, close).toString('utf8');
      if (inner) for (const kv of inner.split(', ')) headers[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
      out.push({ headers, body: line.subarray(close + 2) });
    }
  }
  return out;
}

async function httpAgent(source: Record<string, string | number | boolean> = {}, channel: Record<string, string | number> = {}): Promise<{ agent: RunningAgent; port: number; out: string }> {
  const port = await freePort();
  const dir = path.join(t.dir, `a${seq++}`);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out, { recursive: true });
  const job = jobText({
    sources: { r1: { type: 'http', bind: '127.0.0.1', port, channels: 'c1', ...source } },
    channels: { c1: { type: 'memory', capacity: 10000, transactionCapacity: 1000, ...channel } },
    sinks: { k1: { channel: 'c1', type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.serializer': 'header_and_text' } },
  });
  const agent = await startAgent(job, { dir });
  return { agent, port, out };
}

/** Waits until `n` events are in `out`, then a moment for any extra one. */
async function settled(out: string, n: number): Promise<ReturnType<typeof readEvents>> {
  await eventually(() => readEvents(out).length >= n, 15_000, `${n} events`);
  await new Promise((r) => setTimeout(r, 300));
  return readEvents(out);
}

test('a JSON batch of 1,000 events: 200 after it is stored, every event once with its headers and body', { timeout: 60_000 }, async () => {
  const a = await httpAgent();
  try {
    const batch = Array.from({ length: 1000 }, (_, i) => ({ headers: { n: String(i), kind: 'json' }, body: `event ${i} \u00e9` }));
    const r = await request(a.port, { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(batch) });
    assert.equal(r.status, 200, r.body);
    const events = await settled(a.out, 1000);
    assert.equal(events.length, 1000);
    events.forEach((e, i) => {
      assert.deepEqual(e.headers, { n: String(i), kind: 'json' });
      assert.equal(e.body.toString('utf8'), `event ${i} \u00e9`);
    });
    // GET is served as POST, as in Flume; numbers become strings as Gson reads them.
    const g = await request(a.port, { method: 'GET', body: '[{"headers": {"n": 1000, "ok": true}, "body": 42}, {"body": null}]' });
    assert.equal(g.status, 200, g.body);
    const more = await settled(a.out, 1002);
    assert.deepEqual(more[1000], { headers: { n: '1000', ok: 'true' }, body: Buffer.from('42') });
    assert.deepEqual(more[1001], { headers: {}, body: Buffer.alloc(0) });
  } finally {
    await a.agent.stop();
  }
});

test('a body the handler refuses is answered 400 and nothing of it is stored', { timeout: 60_000 }, async () => {
  const a = await httpAgent();
  try {
    for (const body of ['[{"headers": {}, "body": "bad-1"}, {"body": "bad-2"', '[{"body": "bad-3"}, 5]', '{"body": "bad-4"}', '[{"body": "bad-5", "headers": {"h": {"nested": 1}}}]', '']) {
      const r = await request(a.port, { body });
      assert.equal(r.status, 400, body);
      assert.match(r.body, /^Bad request from client\. /);
    }
    const bad16 = await request(a.port, { headers: { 'Content-Type': 'application/json; charset=ISO-8859-1' }, body: '[{"body": "bad-6"}]' });
    assert.equal(bad16.status, 400);
    const ok = await request(a.port, { body: '[{"body": "good"}]' });
    assert.equal(ok.status, 200);
    const events = await settled(a.out, 1);
    assert.deepEqual(
      events.map((e) => e.body.toString()),
      ['good'],
    );
    await a.agent.waitFor(/bad request from 127\.0\.0\.1/);
  } finally {
    await a.agent.stop();
  }
});

test('UTF-16 requests: the body is read in the request charset and stored in it, as Flume does', { timeout: 60_000 }, async () => {
  const a = await httpAgent();
  try {
    const text = '[{"headers": {"h": "\u00e9t\u00e9"}, "body": "ab"}]';
    const be = Buffer.from(text, 'utf16le').swap16();
    const r = await request(a.port, { headers: { 'Content-Type': 'application/json; charset=UTF-16' }, body: be });
    assert.equal(r.status, 200);
    const [e] = await settled(a.out, 1);
    assert.deepEqual(e!.headers, { h: '\u00e9t\u00e9' });
    assert.deepEqual(e!.body, Buffer.from([0xfe, 0xff, 0x00, 0x61, 0x00, 0x62]));
  } finally {
    await a.agent.stop();
  }
});

test('bodies over the limit are refused with 413 without being read whole (Content-Length and chunked); nothing is stored', { timeout: 60_000 }, async () => {
  const a = await httpAgent({ maxRequestBytes: 1000 });
  try {
    const big = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ body: `big-${i}` })));
    assert.ok(big.length > 1000);
    const r1 = await request(a.port, { body: big });
    assert.equal(r1.status, 413);
    assert.equal(r1.headers.connection, 'close');
    const pieces = Array.from({ length: 20 }, () => Buffer.from(big.slice(0, 100)));
    const r2 = await request(a.port, { body: pieces }).catch((err: Error) => ({ status: -1, body: err.message, headers: {} }));
    // The server answers and closes as soon as it counted too much; the client may still be writing.
    assert.ok(r2.status === 413 || /EPIPE|ECONNRESET/.test(r2.body), `${r2.status} ${r2.body}`);
    const ok = await request(a.port, { body: '[{"body": "small"}]' });
    assert.equal(ok.status, 200);
    const events = await settled(a.out, 1);
    assert.deepEqual(
      events.map((e) => e.body.toString()),
      ['small'],
    );
    await a.agent.waitFor(/larger than 1000 bytes refused \(413\)/);
  } finally {
    await a.agent.stop();
  }
});

test('methods other than POST and GET are answered 405 with Allow', { timeout: 30_000 }, async () => {
  const a = await httpAgent();
  try {
    for (const method of ['PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH']) {
      const r = await request(a.port, { method, body: method === 'TRACE' ? undefined : '[{"body": "no"}]' }).catch((err: Error) => {
        throw new Error(`${method}: ${err.message}`);
      });
      assert.equal(r.status, 405, `${method}: ${r.body}`);
      assert.equal(r.headers.allow, 'GET, POST');
    }
    assert.equal((await request(a.port, { body: '[]' })).status, 200);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(readEvents(a.out).length, 0);
  } finally {
    await a.agent.stop();
  }
});

test('BlobHandler: the whole body is one event with the query parameters and Content-Type as headers; over maxBlobLength it is 413', { timeout: 30_000 }, async () => {
  const a = await httpAgent({ handler: 'org.apache.flume.sink.solr.morphline.BlobHandler', 'handler.maxBlobLength': 5000 });
  try {
    const blob = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i % 250) + 11));
    const r = await request(a.port, { path: '/?a=1&b=two&a=3', headers: { 'Content-Type': 'application/octet-stream' }, body: blob });
    assert.equal(r.status, 200);
    const [e] = await settled(a.out, 1);
    assert.deepEqual(e!.headers, { 'Content-Type': 'application/octet-stream', a: '1', b: 'two' });
    assert.deepEqual(e!.body, blob);
    const over = await request(a.port, { body: Buffer.alloc(5001, 0x41) });
    assert.equal(over.status, 413);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(readEvents(a.out).length, 1);
  } finally {
    await a.agent.stop();
  }
});

test('a full channel: 503 and nothing stored; the same request succeeds once the sink drained the channel', { timeout: 90_000 }, async () => {
  // The sink sends to an avro source that is not there yet, so the channel fills.
  const avroPort = await freePort();
  const port = await freePort();
  const dir = path.join(t.dir, `full${seq++}`);
  fs.mkdirSync(dir, { recursive: true });
  const sender = await startAgent(
    jobText({
      sources: { r1: { type: 'http', bind: '127.0.0.1', port, channels: 'c1' } },
      channels: { c1: { type: 'memory', capacity: 100, transactionCapacity: 100, 'keep-alive': 1 } },
      sinks: { k1: { channel: 'c1', type: 'avro', hostname: '127.0.0.1', port: avroPort, 'connect-timeout': 1000, 'request-timeout': 2000 } },
    }),
    { dir },
  );
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  let receiver: RunningAgent | undefined;
  try {
    const batch = (from: number, n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ headers: { n: String(from + i) }, body: `e${from + i}` })));
    assert.equal((await request(port, { body: batch(0, 100) })).status, 200);
    const full = await request(port, { body: batch(100, 50) });
    assert.equal(full.status, 503);
    assert.match(full.body, /Channel might be full/);
    const rdir = path.join(dir, 'receiver');
    fs.mkdirSync(rdir);
    receiver = await startAgent(
      jobText({
        sources: { r1: { type: 'avro', bind: '127.0.0.1', port: avroPort, channels: 'c1' } },
        channels: { c1: { type: 'memory' } },
        sinks: { k1: { channel: 'c1', type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.serializer': 'header_and_text' } },
      }),
      { dir: rdir },
    );
    // The client retries as a Flume client would; the 503s before the drain stored nothing.
    await eventually(async () => (await request(port, { body: batch(100, 50) })).status === 200, 30_000, 'the retried request accepted');
    const events = await settled(out, 150);
    assert.deepEqual(
      events.map((e) => e.headers.n).sort((x, y) => Number(x) - Number(y)),
      Array.from({ length: 150 }, (_, i) => String(i)),
    );
  } finally {
    await sender.stop();
    await receiver?.stop();
  }
});

test("TLS with a PKCS12 keystore made by openssl: https works, the certificate is the keystore's", { timeout: 60_000 }, async () => {
  const dir = path.join(t.dir, `tls${seq++}`);
  fs.mkdirSync(dir, { recursive: true });
  const { cert } = writeServerCerts(dir, 'pa55word');
  const a = await httpAgent({ ssl: true, keystore: path.join(dir, 'server.p12'), 'keystore-password': 'pa55word', 'keystore-type': 'PKCS12', 'exclude-protocols': 'SSLv3 TLSv1 TLSv1.1' });
  try {
    const r = await request(a.port, { body: '[{"headers": {"tls": "yes"}, "body": "secret"}]', tls: { ca: cert } });
    assert.equal(r.status, 200);
    const [e] = await settled(a.out, 1);
    assert.deepEqual(e, { headers: { tls: 'yes' }, body: Buffer.from('secret') });
    // Plain HTTP to the TLS port gets no answer from the event path.
    const plain = await request(a.port, { body: '[{"body": "plain"}]' }).catch((err: Error) => err);
    assert.ok(plain instanceof Error || plain.status !== 200);
    assert.doesNotMatch(a.agent.stderr(), /pa55word/);
  } finally {
    await a.agent.stop();
  }
  // The deprecated enableSSL spelling still works, with a warning.
  const b = await httpAgent({ enableSSL: true, keystore: path.join(dir, 'server.p12'), 'keystore-password': 'pa55word' });
  try {
    assert.equal((await request(b.port, { body: '[{"body": "x"}]', tls: { ca: cert } })).status, 200);
    assert.match(b.agent.stderr(), /enableSSL is deprecated; use .*ssl/);
  } finally {
    await b.agent.stop();
  }
});

test('an unknown handler or a bad handler.maxBlobLength is refused before start', { timeout: 30_000 }, async () => {
  const { spawnFlume, writeJob } = await import('../support/agent.js');
  const dir = path.join(t.dir, `conf${seq++}`);
  fs.mkdirSync(dir);
  const file = writeJob(
    dir,
    jobText({
      sources: {
        r1: { type: 'http', port: 1, handler: 'com.example.NoSuchHandler', channels: 'c1' },
        r2: { type: 'http', port: 2, handler: 'org.apache.flume.sink.solr.morphline.BlobHandler', 'handler.maxBlobLength': 0, 'handler.colour': 'red', channels: 'c1' },
      },
      channels: { c1: { type: 'memory' } },
      sinks: { k1: { type: 'null', channel: 'c1' } },
    }),
  );
  const p = spawnFlume(['validate', '-f', file]);
  assert.notEqual(await p.exited, 0);
  const err = p.stdout() + p.stderr();
  assert.match(err, /a1\.sources\.r1\.handler: unknown handler "com\.example\.NoSuchHandler"/);
  assert.match(err, /a1\.sources\.r2\.handler\.maxBlobLength: expected an integer greater than zero, got "0"/);
  assert.match(err, /a1\.sources\.r2\.handler\.colour: unknown key for handler/);
});

test('the example job jobs/http/http-logger.conf logs a posted event; oversized headers get 431', { timeout: 60_000 }, async () => {
  const { ROOT, loggedBodies } = await import('../support/agent.js');
  const port = await freePort();
  const dir = path.join(t.dir, `job${seq++}`);
  fs.mkdirSync(dir);
  const job = fs.readFileSync(path.join(ROOT, 'jobs', 'http', 'http-logger.conf'), 'utf8').replace('port = 8080', `port = ${port}`);
  const agent = await startAgent(job, { dir });
  try {
    const r = await request(port, { headers: { 'Content-Type': 'application/json' }, body: '[{"headers": {"host": "web1"}, "body": "hello"}]' });
    assert.equal(r.status, 200);
    await eventually(() => loggedBodies(agent.stderr()).length >= 1, 10_000, 'logged event');
    assert.deepEqual(loggedBodies(agent.stderr()), ['hello']);
    assert.match(agent.stderr(), /headers:\{host=web1\}/);
    const big = await request(port, { headers: { 'X-Big': 'x'.repeat(20_000) }, body: '[]' }).catch((err: Error) => ({ status: -1, body: err.message, headers: {} }));
    assert.equal(big.status, 431, big.body);
  } finally {
    await agent.stop();
  }
});
