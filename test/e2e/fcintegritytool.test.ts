import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnFlume, tempDir } from '../support/agent.js';
import { FileChannel, DEFAULT_CACHE_BYTES } from '../../src/channels/file/channel.js';
import { listLogs, scanLog } from '../../src/channels/file/scan.js';
import { withTransaction } from '../../src/core/transaction.js';
import { createEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/logger.js';

function channel(base: string): FileChannel {
  return new FileChannel(
    'c1',
    {
      checkpointDir: path.join(base, 'cp'),
      backupCheckpointDir: undefined,
      dataDirs: [path.join(base, 'data')],
      capacity: 10000,
      transactionCapacity: 100,
      checkpointIntervalMs: 3600_000,
      maxFileSize: 1 << 30,
      minimumRequiredSpace: 1 << 20,
      keepAliveMs: 0,
      checkpointOnClose: true,
      fsyncPerTransaction: true,
      fsyncIntervalMs: 5000,
      cacheBytes: DEFAULT_CACHE_BYTES,
    },
    silentLogger,
  );
}

test('fcintegritytool lists damaged records with file and offset, and --remove lets the channel start clean', async () => {
  const t = tempDir('flume-fcit-');
  try {
    const ch = channel(t.dir);
    await ch.start();
    for (let i = 0; i < 3; i++) await withTransaction(ch, (tx) => tx.put(Array.from({ length: 10 }, (_, k) => createEvent(`e${i * 10 + k}`))));
    await ch.stop();
    const [log] = listLogs(path.join(t.dir, 'data'));
    const offsets: number[] = [];
    scanLog(log!.path, log!.id, (r) => offsets.push(r.offset));
    const b = fs.readFileSync(log!.path);
    b[offsets[1]! + 40] ^= 0xff;
    fs.writeFileSync(log!.path, Buffer.concat([b, Buffer.from('torn tail')]));

    const check = spawnFlume(['tool', 'fcintegritytool', '-l', path.join(t.dir, 'data')]);
    assert.equal(await check.exited, 1);
    const out = check.stdout();
    assert.match(out, new RegExp(`log-${log!.id}: damaged bytes at offset ${offsets[1]}, length ${offsets[2]! - offsets[1]!}: checksum mismatch`));
    assert.match(out, new RegExp(`damaged bytes at offset ${b.length}, length 9 \\(to the end of the file\\)`));
    assert.match(out, /2 damaged range\(s\); run again with --remove/);

    const fix = spawnFlume(['tool', 'fcintegritytool', '-l', path.join(t.dir, 'data'), '--remove']);
    assert.equal(await fix.exited, 0, fix.stdout() + fix.stderr());
    const again = spawnFlume(['tool', 'FCINTEGRITYTOOL', '--dataDirs', path.join(t.dir, 'data')]);
    assert.equal(await again.exited, 0, again.stdout());
    assert.match(again.stdout(), /no damage/);

    const c2 = channel(t.dir);
    await c2.start();
    assert.equal(c2.counter.ReplayDamageCount, 0);
    const got = await withTransaction(c2, (tx) => tx.take(100));
    assert.deepEqual(
      got.map((e) => e.body.toString()),
      [...Array.from({ length: 10 }, (_, k) => `e${k}`), ...Array.from({ length: 10 }, (_, k) => `e${20 + k}`)],
    );
    await c2.stop();
  } finally {
    t.cleanup();
  }
});

test('fcintegritytool refuses data directories an agent is using', async () => {
  const t = tempDir('flume-fcit-');
  const ch = channel(t.dir);
  await ch.start();
  try {
    // The lock names this process; a tool run from another process sees it alive.
    const run = spawnFlume(['tool', 'fcintegritytool', '-l', path.join(t.dir, 'data')]);
    assert.equal(await run.exited, 1);
    assert.match(run.stderr(), new RegExp(`locked by process ${process.pid}`));
  } finally {
    await ch.stop();
    t.cleanup();
  }
});
