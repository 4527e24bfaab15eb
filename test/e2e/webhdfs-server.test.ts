import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebHdfsServer } from '../support/webhdfs/server.js';
import { WebHdfsClient, WebHdfsError } from '../../src/sinks/hdfs/webhdfs.js';

// The stand-in must reject what HDFS rejects, or a sloppy sink would pass against it.
test("the WebHDFS test server rejects what HDFS rejects, with HDFS's exception classes", async () => {
  const server = await WebHdfsServer.start();
  const c = new WebHdfsClient({ baseUrl: server.url, user: 'flume', timeoutMs: 2000 });
  const exceptionOf = async (p: Promise<unknown>): Promise<string | undefined> => {
    try {
      await p;
      return 'no error';
    } catch (e) {
      assert.ok(e instanceof WebHdfsError, String(e));
      return e.exception;
    }
  };
  try {
    assert.equal(await exceptionOf(c.append('/d/missing', Buffer.from('x'))), 'FileNotFoundException');
    await c.create('/d/f', Buffer.from('one\n'));
    assert.equal(await exceptionOf(c.create('/d/f', Buffer.from('again'))), 'FileAlreadyExistsException');
    await c.append('/d/f', Buffer.from('two\n'));
    assert.equal(server.read('/d/f').toString(), 'one\ntwo\n');
    await c.create('/d/g', Buffer.from('g'));
    assert.equal(await c.rename('/d/f', '/d/g'), false, 'RENAME onto an existing file is refused');
    assert.equal(await c.rename('/d/nothing', '/d/h'), false);
    assert.equal(await c.rename('/d/f', '/d/h'), true);
    assert.deepEqual(
      (await c.list('/d'))!.map((s) => `${s.pathSuffix}:${s.type}:${s.length}`),
      ['g:FILE:1', 'h:FILE:8'],
    );
    assert.equal((await c.status('/d/h'))!.length, 8);
    assert.equal(await c.status('/d/f'), undefined);
    assert.equal(await c.list('/nowhere'), undefined);
    assert.equal(await c.mkdirs('/e/f'), true);
    assert.equal(await c.delete('/d/h'), true);
    // Two steps: the namenode redirects to a datanode on another port.
    const created = server.requests.filter((r) => (r.op === 'CREATE' && r.status === 307) || (r.op === 'CREATE' && r.status === 201));
    assert.ok(created.some((r) => r.on === 'namenode' && r.status === 307) && created.some((r) => r.on === 'datanode' && r.status === 201));
    // Failures on command, with the class asked for.
    server.fail({ op: 'MKDIRS', exception: 'SafeModeException', status: 403, message: 'Name node is in safe mode.' });
    assert.equal(await exceptionOf(c.mkdirs('/z')), 'SafeModeException');
    assert.equal(await c.mkdirs('/z'), true);
  } finally {
    await c.close();
    await server.stop();
  }
});
