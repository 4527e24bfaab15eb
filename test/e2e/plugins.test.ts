import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, freePort, tempDir, startAgent, spawnFlume, tcpExchange, loggedBodies, writeJob, netcatJob, eventually } from '../support/agent.js';
import http from 'node:http';

const PLUGINS = path.join(ROOT, 'examples', 'plugins');

test("the seed notes' custom source runs as an npm plugin package", async () => {
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

test("the seed notes' custom sink runs as an npm plugin package, by its class name", async () => {
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
    // A class-like name is most likely a plugin: say where plugins are looked for.
    assert.match(p.stderr(), /"com\.atguigu\.MySink" looks like a class name: custom components are npm packages/);
    assert.match(p.stderr(), /plugins\.d beside -c <conf>; add directories with --plugins-path/);
    assert.ok(p.stderr().includes(path.join(ROOT, 'plugins.d')), p.stderr());
  } finally {
    t.cleanup();
  }
});

test('a broken plugin is a clear error naming the plugin and the file, when a job names it; unused, it costs nothing', async () => {
  const t = tempDir();
  try {
    const dir = path.join(t.dir, 'broken');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'broken', type: 'module', flume: { sinks: { 'com.example.Broken': './nope.js' } } }));
    // Not named by the job: its module is never imported, so the job runs.
    const port = await freePort();
    const ok = await startAgent(netcatJob(port, { type: 'logger' }), { dir: t.dir, extraArgs: ['--plugins-path', dir] });
    assert.equal(await tcpExchange(port, 'x\n', { expectBytes: 3 }), 'OK\n');
    assert.equal(await ok.stop(), 0);
    // Named: a clear error.
    const job = writeJob(t.dir, netcatJob(port, { type: 'com.example.Broken' }), 'named.conf');
    const p = spawnFlume(['agent', '-n', 'a1', '-f', job, '--plugins-path', dir]);
    assert.equal(await p.exited, 1);
    assert.match(p.stderr(), /flume-ng: plugin broken: cannot load sink "com\.example\.Broken" from .*nope\.js/);
  } finally {
    t.cleanup();
  }
});

/** Writes a plugin package: package.json (with its `flume` field) and the given files. */
function writePlugin(dir: string, pkg: object, files: Record<string, string>): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  return dir;
}

// A sink logging "<tag> <body>" for each event, as CommonJS compiled by tsc from `export default`.
const CJS_TSC_SINK = (tag: string): string => `"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
const plugin_1 = require("flume-ts/plugin");
exports.default = (0, plugin_1.defineSink)({ type: 'com.example.Cjs${tag}', description: 'cjs sink', options: {}, create({ name, channel, logger }) {
  return { name, channel, async start() {}, async stop() {}, async process() {
    const n = await (0, plugin_1.withTransaction)(channel, async (tx) => { const ev = await tx.take(10); for (const e of ev) logger.info('${tag} ' + e.body.toString()); return ev.length; });
    return n ? 'READY' : 'BACKOFF'; } }; } });
`;
// The same written by hand: module.exports = defineSink(...).
const CJS_PLAIN_SINK = (tag: string): string => `const { defineSink, withTransaction } = require('flume-ts/plugin');
module.exports = defineSink({ type: 'com.example.Cjs${tag}', description: 'cjs sink', options: {}, create({ name, channel, logger }) {
  return { name, channel, async start() {}, async stop() {}, async process() {
    const n = await withTransaction(channel, async (tx) => { const ev = await tx.take(10); for (const e of ev) logger.info('${tag} ' + e.body.toString()); return ev.length; });
    return n ? 'READY' : 'BACKOFF'; } }; } });
`;

test('CommonJS plugins load (exports.default as tsc writes it, and module.exports) and require("flume-ts/plugin") works from plugins.d', async () => {
  const port = await freePort();
  const t = tempDir();
  try {
    // plugins.d beside the -c directory, as in Flume.
    const conf = path.join(t.dir, 'conf');
    fs.mkdirSync(conf);
    fs.copyFileSync(path.join(ROOT, 'conf', 'log4j.properties'), path.join(conf, 'log4j.properties'));
    writePlugin(
      path.join(t.dir, 'plugins.d', 'cjs-sinks'),
      { name: 'cjs-sinks', flume: { sinks: { 'com.example.CjsTsc': './tsc.js', 'com.example.CjsPlain': './plain.js' } } },
      { 'tsc.js': CJS_TSC_SINK('Tsc'), 'plain.js': CJS_PLAIN_SINK('Plain') },
    );
    const job = writeJob(
      t.dir,
      [
        'a1.sources = r1',
        'a1.channels = c1 c2',
        'a1.sinks = k1 k2',
        `a1.sources.r1.type = netcat`,
        'a1.sources.r1.bind = 127.0.0.1',
        `a1.sources.r1.port = ${port}`,
        'a1.sources.r1.channels = c1 c2',
        'a1.channels.c1.type = memory',
        'a1.channels.c2.type = memory',
        'a1.sinks.k1.type = com.example.CjsTsc',
        'a1.sinks.k1.channel = c1',
        'a1.sinks.k2.type = com.example.CjsPlain',
        'a1.sinks.k2.channel = c2',
      ].join('\n') + '\n',
    );
    const agent = spawnFlume(['agent', '-n', 'a1', '-f', job, '-c', conf, '-Dflume.root.logger=INFO,console']);
    try {
      await agent.waitFor(/Agent a1 started/);
      assert.equal(await tcpExchange(port, 'hello\n', { expectBytes: 3 }), 'OK\n');
      await agent.waitFor(/Tsc hello/);
      await agent.waitFor(/Plain hello/);
    } finally {
      assert.equal(await agent.stop(), 0);
    }
  } finally {
    t.cleanup();
  }
});

test('a plugin may replace a built-in only when its manifest says so ("replaces"), and the replacement is logged', async () => {
  const port = await freePort();
  const t = tempDir();
  try {
    const sink = `import { defineSink, withTransaction } from 'flume-ts/plugin';
export default defineSink({ type: 'logger', description: 'my logger', options: {}, create({ name, channel, logger }) {
  return { name, channel, async start() {}, async stop() {}, async process() {
    const n = await withTransaction(channel, async (tx) => { const ev = await tx.take(10); for (const e of ev) logger.info('MINE ' + e.body.toString()); return ev.length; });
    return n ? 'READY' : 'BACKOFF'; } }; } });
`;
    const without = writePlugin(path.join(t.dir, 'without', 'my-logger'), { name: 'my-logger', type: 'module', flume: { sinks: { logger: './sink.js' } } }, { 'sink.js': sink });
    const refused = spawnFlume(['agent', '-n', 'a1', '-f', writeJob(t.dir, netcatJob(port, { type: 'logger' })), '--plugins-path', without]);
    assert.equal(await refused.exited, 1);
    assert.match(
      refused.stderr(),
      /plugin my-logger: sink type "logger" from .*sink\.js is already the type of the built-in sink "logger"; to replace it, add "replaces": \["logger"\] to the "flume" field of .*package\.json/,
    );

    const withOptIn = writePlugin(path.join(t.dir, 'with', 'my-logger'), { name: 'my-logger', type: 'module', flume: { sinks: { logger: './sink.js' }, replaces: ['logger'] } }, { 'sink.js': sink });
    const agent = await startAgent(netcatJob(port, { type: 'logger' }), { dir: t.dir, extraArgs: ['--plugins-path', withOptIn] });
    try {
      await agent.waitFor(/plugin my-logger: sink "logger" replaces the built-in sink "logger"/);
      assert.equal(await tcpExchange(port, 'abc\n', { expectBytes: 3 }), 'OK\n');
      await agent.waitFor(/MINE abc/);
    } finally {
      assert.equal(await agent.stop(), 0);
    }
    // The known-types list names the type once; the built-in's class name now means the plugin too.
    const check = spawnFlume([
      'validate',
      '-f',
      writeJob(t.dir, netcatJob(port, { type: 'logger' }) + 'a1.sinks = k1 k2\na1.sinks.k2.type = nope\na1.sinks.k2.channel = c1\n', 'v.conf'),
      '--plugins-path',
      withOptIn,
    ]);
    assert.equal(await check.exited, 1);
    const known = /unknown sink type "nope".*known types: (.*)/.exec(check.stdout())?.[1] ?? '';
    assert.equal(known.split(', ').filter((x) => x === 'logger').length, 1, check.stdout());
  } finally {
    t.cleanup();
  }
});

test('flume-ng plugins lists every component found, its kind, names and where it comes from', async () => {
  const t = tempDir();
  try {
    writePlugin(path.join(t.dir, 'extra', 'cjs-one'), { name: 'cjs-one', flume: { sinks: { 'com.example.CjsOne': './s.js' } } }, { 's.js': CJS_PLAIN_SINK('One') });
    writePlugin(path.join(t.dir, 'extra', 'broken'), { name: 'broken', flume: { sources: { 'com.example.Nope': './nope.js' } } }, {});
    const p = spawnFlume(['plugins', '--plugins-path', `${PLUGINS}:${path.join(t.dir, 'extra')}`]);
    assert.equal(await p.exited, 1, p.stdout() + p.stderr()); // one plugin cannot load
    const out = p.stdout();
    assert.match(out, new RegExp(`^atguigu-flume \\(--plugins-path: ${path.join(PLUGINS, 'atguigu-flume').replace(/[.\\/]/g, '\\$&')}\\)$`, 'm'));
    assert.match(out, /^ {2}source com\.atguigu\.MySource, atguigu-flume: Emits/m);
    assert.match(out, /^ {2}sink com\.atguigu\.MySink, atguigu-flume: Logs/m);
    assert.match(out, /^cjs-one \(--plugins-path: .*cjs-one\)$/m);
    assert.match(out, /^ {2}sink com\.example\.CjsOne, cjs-one: cjs sink$/m);
    assert.match(out, /^ {2}source com\.example\.Nope, broken: NOT LOADABLE: plugin broken: cannot load source "com\.example\.Nope"/m);
  } finally {
    t.cleanup();
  }
});

function getJson(port: number, p: string): Promise<Record<string, Record<string, string>>> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p }, (res) => {
        let body = '';
        res
          .setEncoding('utf8')
          .on('data', (d: string) => (body += d))
          .on('end', () => {
            try {
              resolve(JSON.parse(body) as Record<string, Record<string, string>>);
            } catch (err) {
              reject(err as Error);
            }
          });
      })
      .on('error', reject);
  });
}

test('a plugin that throws in process() is counted, logged with its name, backed off and retried; the agent keeps running and loses nothing', async () => {
  const t = tempDir();
  const mport = await freePort();
  try {
    // The source throws on every other call and emits e0, e1, ... on the others; the sink
    // throws after taking each batch the first time (rolled back), and logs it the second.
    const dir = writePlugin(
      path.join(t.dir, 'flaky'),
      { name: 'flaky', type: 'module', flume: { sources: { 'com.example.FlakySource': './source.js' }, sinks: { 'com.example.FlakySink': './sink.js' } } },
      {
        'source.js': `import { defineSource } from 'flume-ts/plugin';
export default defineSource({ type: 'com.example.FlakySource', description: 'flaky', options: {}, create({ processor }) {
  let calls = 0; let n = 0;
  return { kind: 'pollable', backoffSleepIncrement: 10, maxBackoffSleep: 20, async start() {}, async stop() {},
    async process() {
      if (calls++ % 2 === 0) throw new Error('source went wrong');
      if (n >= 20) return 'BACKOFF';
      await processor.processEvent({ headers: {}, body: Buffer.from('e' + n++) });
      return 'READY';
    } }; } });
`,
        'sink.js': `import { defineSink, withTransaction } from 'flume-ts/plugin';
export default defineSink({ type: 'com.example.FlakySink', description: 'flaky', options: {}, create({ name, channel, logger }) {
  let fail = true;
  return { name, channel, async start() {}, async stop() {}, async process() {
    const n = await withTransaction(channel, async (tx) => {
      const ev = await tx.take(5);
      if (ev.length > 0 && fail) { fail = false; throw new TypeError('sink went wrong'); }
      fail = true;
      for (const e of ev) logger.info('GOT ' + e.body.toString());
      return ev.length;
    });
    return n ? 'READY' : 'BACKOFF'; } }; } });
`,
      },
    );
    const job =
      [
        'a1.sources = r1',
        'a1.channels = c1',
        'a1.sinks = k1',
        'a1.sources.r1.type = com.example.FlakySource',
        'a1.sources.r1.channels = c1',
        'a1.channels.c1.type = memory',
        'a1.sinks.k1.type = com.example.FlakySink',
        'a1.sinks.k1.channel = c1',
      ].join('\n') + '\n';
    const agent = await startAgent(job, { dir: t.dir, extraArgs: ['--plugins-path', dir, '-Dflume.monitoring.type=http', `-Dflume.monitoring.port=${mport}`, '-Dflume.monitoring.bind=127.0.0.1'] });
    try {
      await agent.waitFor(/GOT e19\b/, 60000);
      const got = [...agent.stderr().matchAll(/GOT (e\d+)/g)].map((m) => m[1]);
      assert.deepEqual(
        got,
        Array.from({ length: 20 }, (_, i) => `e${i}`),
      );
      assert.match(agent.stderr(), /plugin flaky \(source com\.example\.FlakySource\): source went wrong/);
      assert.match(agent.stderr(), /plugin flaky \(sink com\.example\.FlakySink\): sink went wrong/);
      await eventually(
        async () => {
          const j = await getJson(mport, '/metrics');
          return Number(j['SOURCE.r1']?.GenericProcessingFail) >= 10 && Number(j['SINK.k1']?.EventWriteFail) >= 1 ? j : undefined;
        },
        10000,
        'failure counters',
      );
      assert.equal(agent.proc.exitCode, null); // still running
    } finally {
      assert.equal(await agent.stop(), 0);
    }
  } finally {
    t.cleanup();
  }
});

test('the example source emits nothing after SIGTERM', async () => {
  const t = tempDir();
  const job = fs.readFileSync(path.join(ROOT, 'jobs', 'seeds', 'mysource.conf'), 'utf8').replace('delay = 1000', 'delay = 300');
  const agent = await startAgent(job, { dir: t.dir, extraArgs: ['--plugins-path', PLUGINS] });
  try {
    await agent.waitFor(/hello1 \}/);
    agent.proc.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
    const out = agent.stderr();
    const after = out.slice(out.indexOf('Received SIGTERM'));
    assert.ok(out.includes('Received SIGTERM'), out);
    // The last event logged before the stop may still be drained; none is created after it.
    const bodies = loggedBodies(out);
    const before = loggedBodies(out.slice(0, out.indexOf('Received SIGTERM')));
    assert.deepEqual(bodies, before, `events after SIGTERM:\n${after}`);
  } finally {
    t.cleanup();
  }
});

test("flume-ng help <type> prints a component's keys, defaults, ranges and descriptions, built-in or plugin", async () => {
  const builtin = spawnFlume(['help', 'org.apache.flume.channel.MemoryChannel']);
  assert.equal(await builtin.exited, 0, builtin.stderr());
  assert.match(builtin.stdout(), /^memory \(channel, built-in\)$/m);
  assert.match(builtin.stdout(), /^ {2}capacity {2}integer, default 100, 1\.\.2147483647\n {6}The maximum number of events stored in the channel\.$/m);
  assert.match(builtin.stdout(), /^ {2}keep-alive {2}duration \(s\), default 3 s, 0\.\.86400 s$/m);
  const plugin = spawnFlume(['help', 'com.atguigu.MySource', '--plugins-path', PLUGINS]);
  assert.equal(await plugin.exited, 0, plugin.stderr());
  assert.match(plugin.stdout(), /^com\.atguigu\.MySource \(source, plugin\)$/m);
  assert.match(plugin.stdout(), /^ {2}delay {2}duration \(ms\), default 1000 ms/m);
  const cmd = spawnFlume(['help', 'agent']);
  assert.equal(await cmd.exited, 0);
  assert.match(cmd.stdout(), /Usage: flume-ng agent/);
  const none = spawnFlume(['help', 'nope']);
  assert.equal(await none.exited, 1);
  assert.match(none.stderr(), /no command or component type "nope"/);
});
