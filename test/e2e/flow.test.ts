// `flume-ng graph` and the /flow page, checked as a user sees them: the graph's text
// from the command line, and the page rendered by a real browser (Debian's Chromium,
// driven by playwright-core) with a counter moving while events flow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BIN, ROOT, eventually, freePort, netcatJob, startAgent, tcpExchange, tempDir, writeJob } from '../support/agent.js';

test('flume-ng graph prints the routing job as mermaid, dot and json with each component and its settings', () => {
  const file = path.join(ROOT, 'jobs', 'routing', 'multiplexing.conf');
  const run = (format: string) => spawnSync(process.execPath, [BIN, 'graph', '-n', 'a1', '-f', file, '--format', format], { encoding: 'utf8' });
  const json = run('json');
  assert.equal(json.status, 0, json.stderr);
  const g = JSON.parse(json.stdout) as { nodes: { id: string; type: string; settings: Record<string, string> }[]; edges: { from: string; to: string }[] };
  assert.deepEqual(g.nodes.map((n) => n.id).sort(), ['channel:c1', 'channel:c2', 'interceptor:r1:i1', 'interceptor:r1:i2', 'selector:r1', 'sink:k1', 'sink:k2', 'source:r1']);
  assert.equal(g.nodes.find((n) => n.id === 'selector:r1')!.type, 'multiplexing');
  assert.equal(g.nodes.find((n) => n.id === 'selector:r1')!.settings.header, 'validation');
  assert.deepEqual(g.edges.map((e) => `${e.from}>${e.to}`).sort(), [
    'channel:c1>sink:k1',
    'channel:c2>sink:k2',
    'interceptor:r1:i1>interceptor:r1:i2',
    'interceptor:r1:i2>selector:r1',
    'selector:r1>channel:c1',
    'selector:r1>channel:c2',
    'source:r1>interceptor:r1:i1',
  ]);
  const mermaid = run('mermaid');
  assert.equal(mermaid.status, 0);
  assert.match(mermaid.stdout, /^flowchart LR$/m);
  assert.match(mermaid.stdout, /selector_r1\{\{"r1 \(multiplexing\)<br\/>header = validation/);
  assert.match(mermaid.stdout, /^ {2}interceptor_r1_i2 --> selector_r1$/m);
  const dot = run('dot');
  assert.equal(dot.status, 0);
  assert.match(dot.stdout, /^ {2}"channel:c2" -> "sink:k2";$/m);
  assert.equal(run('svg').status, 1);
});

test('flume-ng graph: sink groups, and secrets never shown', () => {
  const t = tempDir();
  try {
    const file = writeJob(
      t.dir,
      `a1.sources = r1
a1.channels = c1
a1.sinks = k1 k2
a1.sinkgroups = g1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = 4444
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = avro
a1.sinks.k1.hostname = 127.0.0.1
a1.sinks.k1.port = 4545
a1.sinks.k1.ssl = true
a1.sinks.k1.truststore-password = hunter2-very-secret
a1.sinks.k1.channel = c1
a1.sinks.k2.type = logger
a1.sinks.k2.channel = c1
a1.sinkgroups.g1.sinks = k1 k2
a1.sinkgroups.g1.processor.type = failover
`,
    );
    for (const format of ['mermaid', 'dot', 'json']) {
      const r = spawnSync(process.execPath, [BIN, 'graph', '-n', 'a1', '-f', file, '--format', format], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
      assert.match(r.stdout, /truststore-password(": "| = )\*\*\*/);
    }
    const m = spawnSync(process.execPath, [BIN, 'graph', '-n', 'a1', '-f', file], { encoding: 'utf8' });
    assert.match(m.stdout, /subgraph group_g1\["g1 \(failover\)/);
  } finally {
    t.cleanup();
  }
});

test('/flow draws the running job in Chromium and its edge counter moves while events flow', async () => {
  const t = tempDir();
  const port = await freePort();
  const mport = await freePort();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(netcatJob(port, { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0 }), {
    dir: t.dir,
    extraArgs: ['-Dflume.monitoring.type=http', `-Dflume.monitoring.port=${mport}`, '-Dflume.monitoring.bind=127.0.0.1'],
  });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${mport}/flow`);
    await page.waitForSelector('[data-id="source:r1"]');
    for (const id of ['channel:c1', 'sink:k1']) assert.equal(await page.locator(`[data-id="${id}"]`).count(), 1, id);
    assert.match((await page.locator('[data-id="source:r1"]').textContent()) ?? '', /r1 \(netcat\)/);
    const total = async (): Promise<number> => Number(await page.locator('text.rate').last().getAttribute('data-total'));
    await eventually(async () => (await total()) === 0, 10_000, 'the page to show the first figures');
    let sent = 0;
    for (let round = 0; round < 3; round++) {
      const lines = Array.from({ length: 50 }, (_, i) => `round ${round} line ${i}\n`).join('');
      assert.equal(await tcpExchange(port, lines, { expectBytes: 150 }), 'OK\n'.repeat(50));
      sent += 50;
      await eventually(async () => (await total()) === sent, 10_000, `the sink edge to count ${sent}`);
    }
    assert.match((await page.locator('[data-id="sink:k1"]').textContent()) ?? '', new RegExp(`${sent} delivered, 0 failed`));
    assert.match((await page.locator('#status').textContent()) ?? '', /health UP/);
    const shot = path.join(t.dir, 'flow.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(fs.statSync(shot).size > 1000);
    if (process.env.FLOW_SCREENSHOT) fs.copyFileSync(shot, process.env.FLOW_SCREENSHOT);
  } finally {
    await browser.close();
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});
