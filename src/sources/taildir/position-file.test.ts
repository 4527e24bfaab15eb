import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatPositions, readPositions, writeAtomically } from './position-file.js';

test("position file: Java Flume's compact Gson array, no trailing newline, Gson's HTML escapes; empty when nothing is followed", () => {
  assert.equal(
    formatPositions([
      { inode: '2496272', pos: 12, file: '/var/log/test1/example.log' },
      { inode: '2496275', pos: 0, file: '/var/log/test2/app.log' },
    ]),
    '[{"inode":2496272,"pos":12,"file":"/var/log/test1/example.log"},{"inode":2496275,"pos":0,"file":"/var/log/test2/app.log"}]',
  );
  assert.equal(formatPositions([{ inode: '1', pos: 1, file: '/l/a=b<c>&\'d"e\\f' }]), '[{"inode":1,"pos":1,"file":"/l/a\\u003db\\u003cc\\u003e\\u0026\\u0027d\\"e\\\\f"}]');
  assert.equal(formatPositions([]), '');
});

test('position file: read back exactly, inodes beyond 2^53 kept as digits, whitespace tolerated, missing or empty files have no entries', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-pos-'));
  try {
    const f = path.join(dir, 'p.json');
    assert.deepEqual(readPositions(f), []);
    await writeAtomically(f, '');
    assert.deepEqual(readPositions(f), []);
    await writeAtomically(f, '[ {"inode": 18446744073709551615, "pos": 7, "file": "/x/a\\u003db.log"} ]');
    assert.deepEqual(readPositions(f), [{ inode: '18446744073709551615', pos: 7, file: '/x/a=b.log' }]);
    await writeAtomically(f, '[{"inode":1,"file":"/x"}]');
    assert.throws(() => readPositions(f), /integer inode and pos/);
    assert.deepEqual(fs.readdirSync(dir), ['p.json'], 'no temporary file left behind');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
