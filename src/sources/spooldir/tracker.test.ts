import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { META_NAME, Tracker, type Meta } from './tracker.js';

const meta = (offset: number): Meta => ({ file: '/spool/a.log', ino: 7, dev: 1, size: 1000, mtimeMs: 1700000000000.5, offset, skip: 0 });

test('position file: the newest record wins; a torn newest record falls back to the one before; both torn is reported', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-tracker-'));
  try {
    const t = new Tracker(dir);
    for (const off of [10, 20, 30]) t.save(meta(off));
    t.close();
    assert.deepEqual(new Tracker(dir).load().meta, meta(30));
    // Tear the newest record (seq 3, odd: the second slot) as a crash mid-write would.
    const file = path.join(dir, META_NAME);
    const raw = fs.readFileSync(file);
    raw[8192 + 30] ^= 0xff;
    fs.writeFileSync(file, raw);
    const t2 = new Tracker(dir);
    assert.deepEqual(t2.load().meta, meta(20));
    // Writing again after the fallback goes on with a higher sequence number.
    t2.save(meta(40));
    t2.close();
    assert.deepEqual(new Tracker(dir).load().meta, meta(40));
    // No file in progress.
    const t3 = new Tracker(dir);
    t3.load();
    t3.clear();
    t3.close();
    assert.deepEqual(new Tracker(dir).load(), {});
    fs.writeFileSync(file, Buffer.alloc(16384, 0x41));
    assert.match(String(new Tracker(dir).load().corrupt), /neither of its two records passes its checksum/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
