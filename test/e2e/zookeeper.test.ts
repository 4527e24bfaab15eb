// Job files from a real ZooKeeper (Debian's zookeeper, run standalone by the test):
// publishing with `flume-ng conf put`, an agent started from its znode, a change that
// adds a sink while events flow, an invalid version refused with its line, and a
// server restart and a lost session survived with the running graph kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zookeeper from 'node-zookeeper-client';
import { BIN, ROOT, eventually, freePort, jobText, spawnFlume, tcpExchange, tempDir, writeJob } from '../support/agent.js';
import { startEnsemble, startZooKeeper, type ZooKeeper } from '../support/zookeeper.js';

let zk: ZooKeeper;
before(async () => {
  zk = await startZooKeeper();
});
after(async () => {
  await zk?.cleanup();
});

const conf = (args: string[]) => spawnSync(process.execPath, [BIN, 'conf', ...args], { encoding: 'utf8' });

function written(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .sort()
    .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean));
}

/** Writes raw text into the znode, bypassing conf put's validation (as another tool might). */
function setRaw(znode: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = zookeeper.createClient(zk.connect);
    c.once('connected', () =>
      c.setData(znode, Buffer.from(text), -1, (err) => {
        c.close();
        if (err) reject(err);
        else resolve();
      }),
    );
    c.connect();
  });
}

test('zookeeper: conf put validates before writing; an agent runs from its znode and applies changes while events flow', async () => {
  const t = tempDir();
  const [p1, p2] = [await freePort(), await freePort()];
  const [a, b] = [path.join(t.dir, 'a'), path.join(t.dir, 'b')];
  fs.mkdirSync(a);
  fs.mkdirSync(b);
  const v1 = jobText({
    sources: { r1: { type: 'netcat', bind: '127.0.0.1', port: p1, channels: 'c1' } },
    channels: { c1: { type: 'memory' } },
    sinks: { k1: { type: 'file_roll', 'sink.directory': a, 'sink.rollInterval': 0, channel: 'c1' } },
  });
  const v2 = jobText({
    sources: { r1: { type: 'netcat', bind: '127.0.0.1', port: p1, channels: 'c1' }, r2: { type: 'netcat', bind: '127.0.0.1', port: p2, channels: 'c2' } },
    channels: { c1: { type: 'memory' }, c2: { type: 'memory' } },
    sinks: { k1: { type: 'file_roll', 'sink.directory': a, 'sink.rollInterval': 0, channel: 'c1' }, k2: { type: 'file_roll', 'sink.directory': b, 'sink.rollInterval': 0, channel: 'c2' } },
  });
  const zkArgs = ['-z', zk.connect, '-p', '/flume', '-n', 'a1'];
  const bad = conf(['put', ...zkArgs, '-f', writeJob(t.dir, v1.replace('type = memory', 'type = memroy'), 'bad.conf')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /bad\.conf:\d+: error: a1\.channels\.c1\.type: unknown channel type "memroy"/);
  assert.match(bad.stderr, /nothing written to \/flume\/a1/);
  assert.equal(conf(['get', ...zkArgs]).status, 1, 'the znode was not created');
  const put = conf(['put', ...zkArgs, '-f', writeJob(t.dir, v1, 'v1.conf')]);
  assert.equal(put.status, 0, put.stderr);
  assert.equal(conf(['get', ...zkArgs]).stdout, v1);

  const agent = spawnFlume(['agent', ...zkArgs, '-c', path.join(ROOT, 'conf'), '-Dflume.root.logger=INFO,console']);
  try {
    await agent.waitFor(/Agent a1 started/, 20_000);
    assert.equal(await tcpExchange(p1, 'before\n', { expectBytes: 3 }), 'OK\n');
    assert.equal(conf(['put', ...zkArgs, '-f', writeJob(t.dir, v2, 'v2.conf')]).status, 0);
    await agent.waitFor(/reconfigured: restarted none; added channel c2, sink k2, source r2/, 20_000);
    assert.equal(await tcpExchange(p2, 'new sink\n', { expectBytes: 3 }), 'OK\n');
    assert.equal(await tcpExchange(p1, 'after\n', { expectBytes: 3 }), 'OK\n');

    // An invalid version written behind conf put's back: refused with its line, the graph stays.
    await setRaw('/flume/a1', v2.replace('a1.sinks.k2.sink.rollInterval = 0', 'a1.sinks.k2.sink.rollInterval = often'));
    await agent.waitFor(/zookeeper 127\.0\.0\.1:\d+\/flume\/a1:\d+: error: a1\.sinks\.k2\.sink\.rollInterval: expected an integer/, 20_000);
    await agent.waitFor(/has errors and was not applied/, 5000);
    assert.equal(await tcpExchange(p2, 'still\n', { expectBytes: 3 }), 'OK\n');

    // The server goes away and comes back: the agent keeps running, says so once, and sees a change made after.
    await zk.restart();
    assert.equal(await tcpExchange(p1, 'during\n', { expectBytes: 3 }), 'OK\n');
    await setRaw('/flume/a1', v1);
    await agent.waitFor(/reconfigured: restarted none; added none; removed source r2, sink k2, channel c2/, 30_000);

    // The ensemble loses its state (every session and znode): a new session is opened; the
    // missing znode keeps the running graph, and its return is noticed.
    await zk.wipe();
    await agent.waitFor(/ZooKeeper session (expired|lost)[^\n]*opening a new one/, 40_000);
    await agent.waitFor(/the znode does not exist/, 20_000);
    assert.equal(await tcpExchange(p1, 'orphan\n', { expectBytes: 3 }), 'OK\n');
    assert.equal(conf(['put', ...zkArgs, '-f', writeJob(t.dir, v2, 'v2.conf')]).status, 0);
    await eventually(() => (agent.stderr().match(/added channel c2, sink k2, source r2/g) ?? []).length === 2, 30_000, 'the republished znode to be applied');
    assert.equal(await tcpExchange(p2, 'back\n', { expectBytes: 3 }), 'OK\n');
    assert.equal(await agent.stop(), 0);
    assert.deepEqual(written(a), ['before', 'after', 'during', 'orphan']);
    assert.deepEqual(written(b), ['new sink', 'still', 'back']);
    assert.equal((agent.stderr().match(/Lost the connection to ZooKeeper/g) ?? []).length >= 1, true);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('zookeeper: an ensemble of three loses one node; the agent keeps running and still follows changes', async () => {
  const ensemble = await startEnsemble();
  const t = tempDir();
  const [p1, p2] = [await freePort(), await freePort()];
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const v = (ports: number[]): string =>
    jobText({
      sources: Object.fromEntries(ports.map((p, i) => [`r${i + 1}`, { type: 'netcat', bind: '127.0.0.1', port: p, channels: 'c1' }])),
      channels: { c1: { type: 'memory' } },
      sinks: { k1: { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, channel: 'c1' } },
    });
  const zkArgs = ['-z', ensemble.connect, '-p', '/flume', '-n', 'a1'];
  const agent = (() => {
    assert.equal(conf(['put', ...zkArgs, '-f', writeJob(t.dir, v([p1]), 'v1.conf')]).status, 0);
    return spawnFlume(['agent', ...zkArgs, '-c', path.join(ROOT, 'conf'), '-Dflume.root.logger=INFO,console']);
  })();
  try {
    await agent.waitFor(/Agent a1 started/, 20_000);
    assert.equal(await tcpExchange(p1, 'one\n', { expectBytes: 3 }), 'OK\n');
    // Whichever node the agent talks to, losing one of three leaves a quorum.
    await ensemble.kill(0);
    assert.equal(await tcpExchange(p1, 'two\n', { expectBytes: 3 }), 'OK\n');
    assert.equal(conf(['put', ...zkArgs, '-f', writeJob(t.dir, v([p1, p2]), 'v2.conf')]).status, 0);
    await agent.waitFor(/reconfigured: restarted none; added source r2/, 30_000);
    assert.equal(await tcpExchange(p2, 'three\n', { expectBytes: 3 }), 'OK\n');
    assert.equal(await agent.stop(), 0);
    assert.doesNotMatch(agent.stderr(), /has errors|not reloaded/);
    assert.deepEqual(written(out), ['one', 'two', 'three']);
  } finally {
    await agent.stop();
    await ensemble.cleanup();
    t.cleanup();
  }
});
