import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Context } from '../core/context.js';
import { resolveOptions } from '../core/options.js';
import { withTransaction } from '../core/transaction.js';
import { createEvent } from '../core/event.js';
import { silentLogger } from '../core/logger.js';
import { SpillableMemoryChannel, options } from './spillable-memory.js';

function channel(base: string, props: Record<string, string> = {}): SpillableMemoryChannel {
  const { options: o, problems } = resolveOptions(
    options,
    new Context({
      checkpointDir: path.join(base, 'cp'),
      dataDirs: path.join(base, 'data'),
      minimumRequiredSpace: '1048576',
      ...props,
    }),
  );
  assert.deepEqual(problems, []);
  return new SpillableMemoryChannel('c1', o, silentLogger);
}

async function takeAll(ch: SpillableMemoryChannel, batch = 37): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const got = await withTransaction(ch, (tx) => tx.take(batch));
    if (got.length === 0) return out;
    for (const e of got) out.push(e.body.toString());
  }
}

const nums = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => String(from + i));

test('SPILLABLEMEMORY: a burst of ten times memoryCapacity spills, keeps arrival order and loses nothing', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'spill-'));
  try {
    const ch = channel(base, { memoryCapacity: '100', overflowTimeout: '0', transactionCapacity: '100' });
    await ch.start();
    let next = 0;
    const taken: string[] = [];
    for (let i = 0; i < 20; i++) {
      await withTransaction(ch, (tx) => tx.put(nums(next, 50).map((b) => createEvent(b))));
      next += 50;
      // a slow sink: takes a little now and then, sometimes rolling back
      if (i % 3 === 0) {
        await assert.rejects(
          withTransaction(ch, async (tx) => {
            await tx.take(30);
            throw new Error('sink failed');
          }),
        );
        const got = await withTransaction(ch, (tx) => tx.take(30));
        for (const e of got) taken.push(e.body.toString());
      }
    }
    assert.ok(ch.overflow!.size > 0, 'nothing spilled');
    assert.ok(ch.memory.length <= 100);
    taken.push(...(await takeAll(ch)));
    assert.deepEqual(taken, nums(0, 1000));
    await ch.stop();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('SPILLABLEMEMORY: what spilled survives a restart, what was in memory does not (as in Flume)', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'spill-'));
  try {
    const ch = channel(base, { memoryCapacity: '10', overflowTimeout: '0' });
    await ch.start();
    await withTransaction(ch, (tx) => tx.put(nums(0, 10).map((b) => createEvent(b))));
    await withTransaction(ch, (tx) => tx.put(nums(10, 15).map((b) => createEvent(b))));
    assert.equal(ch.size, 25);
    await ch.stop();
    const again = channel(base, { memoryCapacity: '10', overflowTimeout: '0' });
    await again.start();
    assert.deepEqual(await takeAll(again), nums(10, 15));
    await again.stop();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('SPILLABLEMEMORY without overflow is a memory channel: full means a channel-full error', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'spill-'));
  try {
    const ch = channel(base, { memoryCapacity: '5', overflowCapacity: '0', transactionCapacity: '10' });
    await ch.start();
    await withTransaction(ch, (tx) => tx.put(nums(0, 5).map((b) => createEvent(b))));
    assert.equal(fs.existsSync(path.join(base, 'data')), false);
    const started = Date.now();
    await assert.rejects(
      withTransaction(ch, (tx) => tx.put([createEvent('x')])),
      /Space for commit to queue couldn't be acquired/,
    );
    assert.ok(Date.now() - started >= 2900);
    await ch.stop();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});
