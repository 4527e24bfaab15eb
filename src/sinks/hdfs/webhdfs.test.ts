import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebHdfsClient, WebHdfsError, resolveEndpoint } from './webhdfs.js';

test('hdfs.path schemes map to the WebHDFS endpoint; hdfs.webhdfs.url wins', () => {
  assert.deepEqual(resolveEndpoint('hdfs://hadoop102:9000/flume/%D/%H', undefined), { baseUrl: 'http://hadoop102:9870', path: '/flume/%D/%H', authority: 'hadoop102:9000' });
  assert.equal(resolveEndpoint('webhdfs://nn:50070/x', undefined).baseUrl, 'http://nn:50070');
  assert.equal(resolveEndpoint('swebhdfs://nn/x', undefined).baseUrl, 'https://nn:9871');
  assert.equal(resolveEndpoint('hdfs://nn:8020/x', 'http://gw:14000').baseUrl, 'http://gw:14000');
  assert.deepEqual(resolveEndpoint('/bare/path', 'http://nn:9870'), { baseUrl: 'http://nn:9870', path: '/bare/path', authority: '' });
  assert.equal(resolveEndpoint('/bare/path', undefined).baseUrl, undefined);
  assert.throws(() => resolveEndpoint('s3a://bucket/x', undefined), /scheme "s3a:\/\/" is not supported/);
});

/** A namenode that answers CREATE with the given redirect, counting what it got. */
async function fakeNamenode(location: string): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const s = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    req.resume();
    if (req.url?.includes('op=CREATE')) {
      res.writeHead(307, { Location: location.replace('SELF', `127.0.0.1:${(s.address() as AddressInfo).port}`), 'Content-Length': '0' });
      res.end();
    } else {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ RemoteException: { exception: 'AccessControlException', javaClassName: 'org.apache.hadoop.security.AccessControlException', message: 'Permission denied: user=x' } }));
    }
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, hits, close: () => new Promise((r) => s.close(() => r())) };
}

test('a redirect to anything but http(s) is refused, and a redirect is followed once only', async () => {
  const nn = await fakeNamenode('file:///etc/passwd');
  const c = new WebHdfsClient({ baseUrl: nn.url, user: 'flume', timeoutMs: 2000 });
  await assert.rejects(c.create('/x', Buffer.from('a')), /only http and https are followed/);
  await c.close();
  await nn.close();
  // A datanode that redirects again: the second 307 is an error, not followed.
  const loop = await fakeNamenode('http://SELF/webhdfs/v1/x?op=CREATE&again=1');
  const c2 = new WebHdfsClient({ baseUrl: loop.url, timeoutMs: 2000 });
  await assert.rejects(c2.create('/x', Buffer.from('a')), (e: Error) => e instanceof WebHdfsError && /CREATE \/x failed.*HTTP 307/.test(e.message));
  assert.equal(loop.hits.length, 2);
  await c2.close();
  await loop.close();
});

test('RemoteException answers become errors with the exception class; user.name and doas are sent', async () => {
  const nn = await fakeNamenode('');
  const c = new WebHdfsClient({ baseUrl: nn.url, user: 'flume', doAs: 'etl', timeoutMs: 2000 });
  await assert.rejects(
    c.rename('/a', '/b'),
    (e: Error) => e instanceof WebHdfsError && e.exception === 'AccessControlException' && /RENAME \/a failed: AccessControlException: Permission denied: user=x \(HTTP 403\)/.test(e.message),
  );
  assert.match(nn.hits[0]!, /op=RENAME&user.name=flume&doas=etl&destination=%2Fb/);
  await c.close();
  await nn.close();
});

test('a call with no answer fails after the timeout, naming hdfs.callTimeout', async () => {
  const s = http.createServer(() => {});
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const c = new WebHdfsClient({ baseUrl: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, timeoutMs: 300 });
  await assert.rejects(c.mkdirs('/x'), /no answer within 300 ms \(hdfs.callTimeout\)/);
  c.destroy();
  s.closeAllConnections();
  await new Promise((r) => s.close(r));
});
