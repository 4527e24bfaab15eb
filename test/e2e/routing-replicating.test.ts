import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, tempDir, startAgent, tcpExchange, eventually } from '../support/agent.js';
import { PLUGIN_ARGS, bodies, jobFile, recordingSink } from '../support/plugins/recorder.js';

test('replicating (jobs/routing/replicating.conf): every event reaches both channels and both sinks, in order', async () => {
  const port = await freePort();
  const t = tempDir();
  const [o1, o2] = [path.join(t.dir, 'k1.jsonl'), path.join(t.dir, 'k2.jsonl')];
  const agent = await startAgent(jobFile('routing/replicating.conf', port) + recordingSink('k1', o1) + recordingSink('k2', o2), { dir: t.dir, extraArgs: PLUGIN_ARGS });
  try {
    assert.equal(await tcpExchange(port, 'alpha\nbeta\ngamma\n', { expectBytes: 9 }), 'OK\nOK\nOK\n');
    assert.equal(await tcpExchange(port, 'delta\n', { expectBytes: 3 }), 'OK\n');
    const all = ['alpha', 'beta', 'gamma', 'delta'];
    await eventually(() => bodies(o1).length === 4 && bodies(o2).length === 4, 10000, 'both sinks');
    assert.deepEqual(bodies(o1), all);
    assert.deepEqual(bodies(o2), all);
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});

test('replicating with selector.optional: a failing optional channel is logged and does not fail the put', async () => {
  const port = await freePort();
  const t = tempDir();
  const [o1, o2, fail] = [path.join(t.dir, 'k1.jsonl'), path.join(t.dir, 'k2.jsonl'), path.join(t.dir, 'k2.down')];
  fs.writeFileSync(fail, '');
  const job =
    jobFile('routing/replicating.conf', port) +
    recordingSink('k1', o1) +
    recordingSink('k2', o2, { failFile: fail }) +
    `
a1.sources.r1.selector.optional = c2
a1.channels.c2.capacity = 2
a1.channels.c2.transactionCapacity = 2
a1.channels.c2.keep-alive = 0
`;
  const agent = await startAgent(job, { dir: t.dir, extraArgs: PLUGIN_ARGS });
  try {
    for (const line of ['1', '2', '3', '4', '5']) assert.equal(await tcpExchange(port, `${line}\n`, { expectBytes: 3 }), 'OK\n');
    await eventually(() => bodies(o1).length === 5, 10000, 'k1 to get everything');
    assert.deepEqual(bodies(o1), ['1', '2', '3', '4', '5']);
    await agent.waitFor(/Unable to put batch on optional channel c2/);
    fs.rmSync(fail);
    await eventually(() => bodies(o2).length === 2, 10000, 'k2 to deliver what c2 held');
    assert.deepEqual(bodies(o2), ['1', '2']);
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});

test('a required channel that cannot take the batch fails it; channels committed before keep it (at-least-once)', async () => {
  const port = await freePort();
  const t = tempDir();
  const [o1, o2, fail] = [path.join(t.dir, 'k1.jsonl'), path.join(t.dir, 'k2.jsonl'), path.join(t.dir, 'k2.down')];
  fs.writeFileSync(fail, '');
  const job =
    jobFile('routing/replicating.conf', port) +
    recordingSink('k1', o1) +
    recordingSink('k2', o2, { failFile: fail }) +
    `
a1.channels.c2.capacity = 3
a1.channels.c2.transactionCapacity = 3
a1.channels.c2.keep-alive = 0
`;
  const agent = await startAgent(job, { dir: t.dir, extraArgs: PLUGIN_ARGS });
  try {
    for (const line of ['1', '2', '3']) assert.equal(await tcpExchange(port, `${line}\n`, { expectBytes: 3 }), 'OK\n');
    const refused = await tcpExchange(port, '4\n', { end: true, timeoutMs: 5000 });
    assert.match(refused, /^FAILED: /, 'c2 is full: the source refuses the line');
    await eventually(() => bodies(o1).length === 4, 10000, 'k1');
    assert.deepEqual(bodies(o1), ['1', '2', '3', '4'], 'c1 committed before c2 failed and keeps the event');
    fs.rmSync(fail);
    await eventually(() => bodies(o2).length === 3, 10000, 'k2 to recover');
    assert.equal(await tcpExchange(port, '4\n', { expectBytes: 3 }), 'OK\n', 'the client resends');
    await eventually(() => bodies(o2).length === 4 && bodies(o1).length === 5, 10000, 'the resend');
    assert.deepEqual(bodies(o2), ['1', '2', '3', '4']);
    assert.deepEqual(bodies(o1), ['1', '2', '3', '4', '4'], 'the resend duplicates the event in c1');
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});
