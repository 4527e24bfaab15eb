import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, freePort, tempDir, startAgent, spawnFlume, tcpExchange, loggedBodies, writeJob } from '../support/agent.js';

const PLUGINS = path.join(ROOT, 'examples', 'plugins');

test('the seed notes\' custom source runs as an npm plugin package', async () => {
  const t = tempDir();
  const job = fs.readFileSync(path.join(ROOT, 'jobs', 'seeds', 'mysource.conf'), 'utf8').replace('delay = 1000', 'delay = 10');
  const agent = await startAgent(job, { dir: t.dir, extraArgs: ['--plugins-path', PLUGINS] });
  try {
    await agent.waitFor(/hello4 \}/);
    assert.deepEqual(loggedBodies(agent.stderr()).slice(0, 5), ['hello0', 'hello1', 'hello2', 'hello3', 'hello4']);
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});

test('the seed notes\' custom sink runs as an npm plugin package, by its class name', async () => {
  const port = await freePort();
  const t = tempDir();
  const job = fs.readFileSync(path.join(ROOT, 'jobs', 'seeds', 'mysink.conf'), 'utf8').replace('port = 44444', `port = ${port}`);
  const agent = await startAgent(job, { dir: t.dir, extraArgs: ['--plugins-path', PLUGINS] });
  try {
    assert.equal(await tcpExchange(port, 'flume\n', { expectBytes: 3 }), 'OK\n');
    await agent.waitFor(/\[INFO - com\.atguigu\.MySink\] flume:bigdata/);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('a plugin type without its plugin path is an unknown type, not a crash', async () => {
  const t = tempDir();
  try {
    const file = writeJob(t.dir, fs.readFileSync(path.join(ROOT, 'jobs', 'seeds', 'mysink.conf'), 'utf8'));
    const p = spawnFlume(['agent', '-n', 'a1', '-f', file]);
    assert.equal(await p.exited, 1);
    assert.match(p.stderr(), /a1\.sinks\.k1\.type: unknown sink type "com\.atguigu\.MySink"/);
  } finally {
    t.cleanup();
  }
});

test('a broken plugin is a clear error naming the plugin and the file', async () => {
  const t = tempDir();
  try {
    const dir = path.join(t.dir, 'broken');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'broken', type: 'module', flume: { sinks: { 'com.example.Broken': './nope.js' } } }));
    const p = spawnFlume(['agent', '-n', 'a1', '-f', path.join(ROOT, 'jobs', 'flume-netcat-logger.conf'), '--plugins-path', dir]);
    assert.equal(await p.exited, 1);
    assert.match(p.stderr(), /flume-ng: plugin broken: cannot load sink "com\.example\.Broken" from .*nope\.js/);
  } finally {
    t.cleanup();
  }
});
