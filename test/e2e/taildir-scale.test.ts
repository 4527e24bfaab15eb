import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { eventually, startAgent, tempDir, type RunningAgent } from '../support/agent.js';
import { countSeqs, fdCount, fdsInto, outLines, rssOf, seqLine, taildirJob } from './taildir-support.js';

const FILES = 10_000;
const MAX_OPEN = 1000;

test('TAILDIR with 10,000 files in a group: descriptors stay under maxOpenFiles, idle files are closed, memory stays flat', { timeout: 300_000 }, async () => {
  const t = tempDir('flume-taildir-scale-');
  const logs = path.join(t.dir, 'logs');
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(logs);
  fs.mkdirSync(out);
  let agent: RunningAgent | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const file = (i: number): string => path.join(logs, `f${String(i).padStart(5, '0')}.log`);
    for (let i = 0; i < FILES; i++) fs.writeFileSync(file(i), seqLine(i));
    agent = await startAgent(
      taildirJob({
        logs,
        regex: 'f\\d+\\.log',
        out,
        posFile: path.join(t.dir, 'pos.json'),
        source: { idleTimeout: 3000, writePosInterval: 1000, maxOpenFiles: MAX_OPEN, backoffSleepIncrement: 200, maxBackoffSleep: 1000 },
      }),
      { dir: t.dir },
    );
    const pid = agent.proc.pid!;
    const baseFds = fdCount(pid) - fdsInto(pid, logs);
    let maxLogFds = 0;
    sampler = setInterval(() => {
      try {
        maxLogFds = Math.max(maxLogFds, fdsInto(pid, logs));
      } catch {
        // the process is gone; the test fails elsewhere
      }
    }, 20);

    const round = async (r: number): Promise<number> => {
      if (r > 0) for (let i = 0; i < FILES; i++) fs.appendFileSync(file(i), seqLine(r * FILES + i));
      const total = (r + 1) * FILES;
      await eventually(() => outLines(out).length >= total, 120_000, `round ${r + 1}: ${total} lines`);
      const c = countSeqs(outLines(out), total);
      assert.deepEqual(c.missing, [], `round ${r + 1}: missing`);
      assert.deepEqual(c.duplicated, [], `round ${r + 1}: duplicated`);
      return rssOf(pid);
    };
    // V8 grows its heap lazily, so single readings are noisy: compare the highest RSS of the
    // first three rounds with the highest of the next three. A leak per file or per line grows.
    const rss: number[] = [];
    for (let r = 0; r < 6; r++) rss.push(await round(r));
    clearInterval(sampler);
    const first = Math.max(...rss.slice(0, 3));
    const last = Math.max(...rss.slice(3));
    console.log(
      `TAILDIR ${FILES} files: RSS after each round: ${rss.map((b) => (b / 1048576).toFixed(1)).join(', ')} MB; most descriptors into the directory at once: ${maxLogFds}; others: ${baseFds}`,
    );
    assert.ok(maxLogFds <= MAX_OPEN, `at most maxOpenFiles (${MAX_OPEN}) descriptors into the directory, saw ${maxLogFds}`);
    assert.ok(last - first < 32 * 1048576, `memory stays flat across rounds: highest RSS ${first} in rounds 1-3, ${last} in rounds 4-6`);
    await eventually(() => fdsInto(pid, logs) === 0, 30_000, 'idle files closed');
    assert.ok(fdCount(pid) <= baseFds + 5, `descriptors back to the base (${baseFds}), now ${fdCount(pid)}`);
  } finally {
    if (sampler) clearInterval(sampler);
    await agent?.stop();
    t.cleanup();
  }
});
