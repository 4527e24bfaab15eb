// The seed notes' spooldir jobs (jobs/spooldir/) run as written, with their directories
// swapped for temporary ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, eventually, loggedBodies, startAgent, tempDir } from '../support/agent.js';
import { names, numbered, outLines, writeLines } from './spooldir-support.js';

function seedJob(file: string, replace: Record<string, string>): string {
  let text = fs.readFileSync(path.join(ROOT, 'jobs', 'spooldir', file), 'utf8');
  for (const [from, to] of Object.entries(replace)) {
    assert.ok(text.includes(from), `${file} contains ${from}`);
    text = text.replaceAll(from, to);
  }
  return text;
}

test('jobs/spooldir/spooldir-logger.conf: a file moved into the directory is logged line by line and renamed .COMPLETED', async () => {
  const t = tempDir('flume-spool-');
  const spool = path.join(t.dir, 'spool');
  fs.mkdirSync(spool);
  const agent = await startAgent(seedJob('spooldir-logger.conf', { '/tmp/flume-ts/spool': spool }), { dir: t.dir });
  try {
    writeLines(path.join(t.dir, 'c.txt'), numbered('c', 3));
    fs.renameSync(path.join(t.dir, 'c.txt'), path.join(spool, 'c.txt'));
    await eventually(() => fs.existsSync(path.join(spool, 'c.txt.COMPLETED')), 10000, 'c.txt completed');
    await eventually(() => loggedBodies(agent.stderr() + agent.stdout()).length === 3, 5000, 'three events logged');
    assert.deepEqual(loggedBodies(agent.stderr() + agent.stdout()), ['c-0', 'c-1', 'c-2']);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('jobs/spooldir/spooldir-hdfs.conf (file_roll standing in for hdfs): finished files arrive and become .COMPLETED, .tmp files are left alone', async () => {
  const t = tempDir('flume-spool-');
  const spool = path.join(t.dir, 'upload');
  const out = path.join(t.dir, 'upload-out');
  fs.mkdirSync(spool);
  fs.mkdirSync(out);
  const agent = await startAgent(seedJob('spooldir-hdfs.conf', { '/tmp/flume-ts/upload-out': out, '/tmp/flume-ts/upload': spool }), { dir: t.dir, name: 'a3' });
  try {
    writeLines(path.join(spool, 'part.tmp'), numbered('tmp', 5));
    writeLines(path.join(spool, 'a.log'), numbered('a', 250));
    writeLines(path.join(spool, 'b.log'), numbered('b', 250));
    await eventually(() => names(spool).join() === '.flumespool,a.log.COMPLETED,b.log.COMPLETED,part.tmp', 15000, 'a and b completed');
    await eventually(() => outLines(out).length === 500, 10000, '500 lines');
    assert.deepEqual(outLines(out).sort(), [...numbered('a', 250), ...numbered('b', 250)].sort());
  } finally {
    await agent.stop();
    t.cleanup();
  }
});
