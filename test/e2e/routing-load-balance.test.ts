import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, tempDir, startAgent, tcpExchange, eventually } from '../support/agent.js';
import { PLUGIN_ARGS, bodies, jobFile, recordingSink } from '../support/plugins/recorder.js';

/** Sends lines "0".."n-1" in exchanges of 50, each acknowledged line by line. */
async function send(port: number, n: number, from = 0): Promise<string[]> {
  const all = [...Array(n).keys()].map((i) => String(from + i));
  for (let i = 0; i < n; i += 50) {
    const chunk = all.slice(i, i + 50);
    assert.equal(await tcpExchange(port, chunk.join('\n') + '\n', { expectBytes: 3 * chunk.length }), 'OK\n'.repeat(chunk.length));
  }
  return all;
}

function job(port: number, o1: string, o2: string, opts: { down1?: string; down2?: string; batchSize: number }, extra: string): string {
  return (
    jobFile('routing/load-balance.conf', port) +
    recordingSink('k1', o1, { failFile: opts.down1, batchSize: opts.batchSize }) +
    recordingSink('k2', o2, { failFile: opts.down2, batchSize: opts.batchSize }) +
    extra
  );
}

test('load_balance round_robin: while every sink fails the events stay in the channel; then batches alternate exactly, nothing lost', async () => {
  const port = await freePort();
  const t = tempDir();
  const [o1, o2, down] = [path.join(t.dir, 'k1.jsonl'), path.join(t.dir, 'k2.jsonl'), path.join(t.dir, 'all.down')];
  fs.writeFileSync(down, '');
  const agent = await startAgent(job(port, o1, o2, { down1: down, down2: down, batchSize: 10 }, 'a1.sinkgroups.g1.processor.selector = round_robin\n'), { dir: t.dir, extraArgs: PLUGIN_ARGS });
  try {
    const sent = await send(port, 200);
    await agent.waitFor(/All configured sinks have failed/);
    assert.equal(bodies(o1).length + bodies(o2).length, 0);
    fs.rmSync(down);
    await eventually(() => bodies(o1).length + bodies(o2).length === 200, 20000, 'all 200 delivered');
    assert.equal(bodies(o1).length, 100);
    assert.equal(bodies(o2).length, 100);
    assert.deepEqual([...bodies(o1), ...bodies(o2)].sort(), [...sent].sort(), 'every event once');
    // Each sink's share is whole batches of 10 consecutive events, every other batch.
    const first = bodies(o1)[0] === '0' ? bodies(o1) : bodies(o2);
    for (let b = 0; b < 10; b++) assert.deepEqual(first.slice(b * 10, b * 10 + 10), sent.slice(b * 20, b * 20 + 10));
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});

test('load_balance random (jobs/routing/load-balance.conf): 1000 single-event batches split within 400..600 each, nothing lost', async () => {
  // Each call picks its first sink uniformly: the share of k1 is Binomial(1000, 0.5),
  // standard deviation 15.8, so 400..600 is more than six deviations each way.
  const port = await freePort();
  const t = tempDir();
  const [o1, o2, down] = [path.join(t.dir, 'k1.jsonl'), path.join(t.dir, 'k2.jsonl'), path.join(t.dir, 'all.down')];
  fs.writeFileSync(down, '');
  const agent = await startAgent(job(port, o1, o2, { down1: down, down2: down, batchSize: 1 }, ''), { dir: t.dir, extraArgs: PLUGIN_ARGS });
  try {
    const sent = await send(port, 1000);
    fs.rmSync(down);
    await eventually(() => bodies(o1).length + bodies(o2).length === 1000, 30000, 'all 1000 delivered');
    const [n1, n2] = [bodies(o1).length, bodies(o2).length];
    assert.ok(n1 >= 400 && n1 <= 600 && n2 >= 400 && n2 <= 600, `k1 ${n1}, k2 ${n2}`);
    assert.deepEqual([...bodies(o1), ...bodies(o2)].sort(), [...sent].sort(), 'every event once');
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});

test('load_balance with backoff: a failing sink is skipped while the other carries the load, and used again after its back-off', async () => {
  const port = await freePort();
  const t = tempDir();
  const [o1, o2, down] = [path.join(t.dir, 'k1.jsonl'), path.join(t.dir, 'k2.jsonl'), path.join(t.dir, 'k1.down')];
  fs.writeFileSync(down, '');
  const agent = await startAgent(job(port, o1, o2, { down1: down, batchSize: 100 }, 'a1.sinkgroups.g1.processor.selector = round_robin\n'), { dir: t.dir, extraArgs: PLUGIN_ARGS });
  try {
    for (let i = 0; i < 6; i++) {
      assert.equal(await tcpExchange(port, `${i}\n`, { expectBytes: 3 }), 'OK\n');
      await eventually(() => bodies(o2).length === i + 1, 5000, `event ${i} at k2`);
    }
    assert.deepEqual(bodies(o2), ['0', '1', '2', '3', '4', '5']);
    assert.deepEqual(bodies(o1), []);
    await agent.waitFor(/Sink k1 failed to consume event/);
    fs.rmSync(down);
    // Once its back-off (2 s, or 4 s after a second failure) is over, k1 takes turns again.
    let sent = 6;
    const deadline = Date.now() + 12000;
    while (bodies(o1).length < 2 && Date.now() < deadline) {
      assert.equal(await tcpExchange(port, `${sent}\n`, { expectBytes: 3 }), 'OK\n');
      const want = sent + 1;
      await eventually(() => bodies(o1).length + bodies(o2).length === want, 5000, `event ${sent}`);
      sent++;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(bodies(o1).length >= 2, `k1 is used again: ${JSON.stringify(bodies(o1))}`);
    assert.deepEqual(
      [...bodies(o1), ...bodies(o2)].map(Number).sort((a, b) => a - b),
      [...Array(sent).keys()],
    );
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});
