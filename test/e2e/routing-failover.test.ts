import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, tempDir, startAgent, tcpExchange, eventually } from '../support/agent.js';
import { PLUGIN_ARGS, bodies, jobFile, recordingSink } from '../support/plugins/recorder.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('failover (jobs/routing/failover.conf): work moves to the backup sink at once and back after the 2 s penalty', async () => {
  const port = await freePort();
  const t = tempDir();
  const [o1, o2, down] = [path.join(t.dir, 'k1.jsonl'), path.join(t.dir, 'k2.jsonl'), path.join(t.dir, 'k1.down')];
  const agent = await startAgent(jobFile('routing/failover.conf', port) + recordingSink('k1', o1, { failFile: down }) + recordingSink('k2', o2), { dir: t.dir, extraArgs: PLUGIN_ARGS });
  try {
    // k1 has the higher priority: it does the work.
    assert.equal(await tcpExchange(port, '1\n', { expectBytes: 3 }), 'OK\n');
    await eventually(() => bodies(o1).length === 1, 5000, 'k1');

    // k1 fails: the same batch goes to k2 in the same call (no back-off wait in between).
    fs.writeFileSync(down, '');
    const failedAt = Date.now();
    assert.equal(await tcpExchange(port, '2\n3\n', { expectBytes: 6 }), 'OK\nOK\n');
    await eventually(() => bodies(o2).length === 2, 15000, 'k2 to take over');
    assert.deepEqual(bodies(o2), ['2', '3']);
    await agent.waitFor(/Sink k1 failed and has been sent to failover list/);
    assert.doesNotMatch(agent.stderr(), /Unable to deliver event/, "the failover happened inside one call, without the runner's back-off");

    // k1 is healthy again but penalised for 2 s: work sent now goes to k2, unless this
    // machine was so slow that the penalty is already over; either way k1 gets no work
    // before the penalty ends (lateness only makes the check easier, never flaky).
    fs.rmSync(down);
    assert.equal(await tcpExchange(port, '4\n', { expectBytes: 3 }), 'OK\n');
    await eventually(() => bodies(o1).length + bodies(o2).length === 4, 15000, 'event 4 delivered');
    const fourToK1 = bodies(o1).includes('4');
    if (fourToK1) assert.ok(Date.now() - failedAt >= 2000, 'k1 got work inside its penalty');
    else assert.doesNotMatch(agent.stderr(), /Sink k1 was recovered from the fail list/);

    // After the penalty (a lower bound: waiting longer changes nothing) the next batch goes to k1, which is back in charge.
    await sleep(Math.max(0, failedAt + 2300 - Date.now()));
    assert.equal(await tcpExchange(port, '5\n', { expectBytes: 3 }), 'OK\n');
    await eventually(() => bodies(o1).includes('5'), 15000, 'k1 to get the work back');
    await agent.waitFor(/Sink k1 was recovered from the fail list/);
    assert.equal(await tcpExchange(port, '6\n', { expectBytes: 3 }), 'OK\n');
    await eventually(() => bodies(o1).includes('6'), 15000, 'k1');
    assert.deepEqual(bodies(o1), fourToK1 ? ['1', '4', '5', '6'] : ['1', '5', '6']);
    assert.deepEqual(bodies(o2), fourToK1 ? ['2', '3'] : ['2', '3', '4']);
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});

test('failover: when every sink fails the events stay in the channel and are delivered after recovery', async () => {
  const port = await freePort();
  const t = tempDir();
  const [o1, o2, down] = [path.join(t.dir, 'k1.jsonl'), path.join(t.dir, 'k2.jsonl'), path.join(t.dir, 'all.down')];
  fs.writeFileSync(down, '');
  const agent = await startAgent(jobFile('routing/failover.conf', port) + recordingSink('k1', o1, { failFile: down }) + recordingSink('k2', o2, { failFile: down }), {
    dir: t.dir,
    extraArgs: PLUGIN_ARGS,
  });
  try {
    assert.equal(await tcpExchange(port, 'a\nb\nc\n', { expectBytes: 9 }), 'OK\nOK\nOK\n');
    await agent.waitFor(/All sinks failed to process, nothing left to failover to/);
    assert.deepEqual([...bodies(o1), ...bodies(o2)], []);
    fs.rmSync(down);
    await eventually(() => bodies(o1).length + bodies(o2).length === 3, 15000, 'delivery after recovery');
    assert.deepEqual([...bodies(o1), ...bodies(o2)].sort(), ['a', 'b', 'c']);
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});
