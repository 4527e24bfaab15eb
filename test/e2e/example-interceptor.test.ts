// examples/timestamp-interceptor: a Flume-style interceptor plugin named by its Builder class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, eventually, freePort, startAgent, tcpExchange, tempDir, netcatJob } from '../support/agent.js';

const PLUGIN = path.join(ROOT, 'examples', 'timestamp-interceptor');

for (const type of ['com.atguigu.interceptor.TimeStampInterceptor$Builder', 'com.atguigu.interceptor.TimeStampInterceptor']) {
  test(`timestamp-prefix interceptor plugin (${type}) puts "<millis>:" before every body`, async () => {
    const port = await freePort();
    const t = tempDir();
    const out = path.join(t.dir, 'out');
    fs.mkdirSync(out);
    const job = netcatJob(
      port,
      { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0 },
      { source: { interceptors: 'i1', 'interceptors.i1.type': type, 'interceptors.i1.separator': ':' } },
    );
    const agent = await startAgent(job, { dir: t.dir, extraArgs: ['--plugins-path', PLUGIN] });
    try {
      const before = Date.now();
      for (const line of ['a', 'bb', 'c c']) assert.equal(await tcpExchange(port, line + '\n', { expectBytes: 3 }), 'OK\n');
      const after = Date.now();
      const lines = (await eventually(
        () => {
          const files = fs.readdirSync(out);
          const text = files.map((f) => fs.readFileSync(path.join(out, f), 'utf8')).join('');
          const ls = text.split('\n').filter(Boolean);
          return ls.length >= 3 ? ls : undefined;
        },
        10000,
        'three lines written',
      )) as string[];
      assert.equal(lines.length, 3);
      const bodies = lines.map((l) => {
        const m = /^(\d+):(.*)$/.exec(l);
        assert.ok(m, l);
        const ts = Number(m[1]);
        assert.ok(ts >= before && ts <= after, `${ts} within [${before}, ${after}]`);
        return m[2];
      });
      assert.deepEqual(bodies, ['a', 'bb', 'c c']);
    } finally {
      assert.equal(await agent.stop(), 0);
      t.cleanup();
    }
  });
}
