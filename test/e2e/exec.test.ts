import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir, startAgent, eventually, jobText } from '../support/agent.js';

function lines(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .sort()
    .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean));
}

function job(command: string, out: string, source: Record<string, string | number | boolean> = {}, channel: Record<string, string | number> = {}): string {
  return jobText({
    sources: { r1: { type: 'exec', command, channels: 'c1', ...source } },
    channels: { c1: { type: 'memory', ...channel } },
    sinks: { k1: { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, channel: 'c1' } },
  });
}

test('exec with tail -F: lines appended to a file arrive, in order, as they are written', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const log = path.join(t.dir, 'app.log');
  fs.writeFileSync(log, 'first\r\n');
  const agent = await startAgent(job(`tail -F -c +0 ${log}`, out, { shell: '/bin/bash -c', batchTimeout: 200 }), { dir: t.dir });
  try {
    await eventually(() => lines(out).length === 1, 5000, 'first line');
    fs.appendFileSync(log, Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n');
    await eventually(() => lines(out).length === 101, 8000, '101 lines');
    assert.deepEqual(lines(out), ['first', ...Array.from({ length: 100 }, (_, i) => `line ${i}`)]);
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});

test('exec restarts the command after restartThrottle and keeps the last line without a newline', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(job('echo a; printf b', out, { shell: '/bin/sh -c', restart: true, restartThrottle: 300, batchTimeout: 100 }), { dir: t.dir });
  try {
    await eventually(() => lines(out).length >= 6, 8000, 'three runs');
    assert.deepEqual(lines(out).slice(0, 6), ['a', 'b', 'a', 'b', 'a', 'b']);
    assert.match(agent.stderr(), /Command \[echo a; printf b\] exited with 0/);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('exec: when the channel is full the output waits; nothing read is lost (Flume would kill the command and drop the batch)', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(
    job('sleep 1; seq 1 200', out, { shell: '/bin/sh -c', batchSize: 5, batchTimeout: 100 }, { capacity: 5, transactionCapacity: 5, 'keep-alive': 0 }) + 'a1.sinks.k1.sink.batchSize = 5\n',
    { dir: t.dir },
  );
  try {
    // The sink cannot write while its directory is gone, so the 5-event channel fills at once.
    fs.rmSync(out, { recursive: true });
    await agent.waitFor(/channel refused 5 line\(s\)/);
    fs.mkdirSync(out);
    await eventually(() => lines(out).length === 200, 30000, 'all 200 lines');
    assert.deepEqual(
      lines(out),
      Array.from({ length: 200 }, (_, i) => String(i + 1)),
    );
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('exec: lines the command writes in pieces (cut inside a character, \\r\\n endings) arrive byte for byte, once', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const script = path.join(t.dir, 'pieces.py');
  // Writes 3000 lines in pieces of 1..500 bytes, flushing each and pausing now and then, so reads end anywhere.
  fs.writeFileSync(
    script,
    `import sys, time
data = ''.join('line %d %s%s\\n' % (i, 'ünï日本' * (i % 9), '\\r' if i % 7 == 0 else '') for i in range(3000)).encode('utf-8')
out, off, seed = sys.stdout.buffer, 0, 11
while off < len(data):
    seed = (seed * 1103515245 + 12345) % 2147483648
    n = 1 + seed % 500
    out.write(data[off:off + n]); out.flush(); off += n
    if seed % 5 == 0: time.sleep(0.001)
`,
  );
  const agent = await startAgent(job(`python3 ${script}`, out, { batchSize: 50, batchTimeout: 100, restart: false }, { capacity: 10000, transactionCapacity: 100 }), { dir: t.dir });
  try {
    const want = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'ünï日本'.repeat(i % 9)}`);
    await eventually(() => lines(out).length >= 3000, 10000, '3000 lines');
    // Read after the stop: a line written twice, late, would be there too.
    assert.equal(await agent.stop(), 0);
    assert.deepEqual(lines(out), want);
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});
