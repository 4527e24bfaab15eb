import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ROOT, jobText, spawnFlume, tempDir, writeJob } from '../support/agent.js';

test('a SIGTERM the moment the agent says it started still stops it in order (exit 0)', async () => {
  const t = tempDir();
  try {
    const file = writeJob(
      t.dir,
      jobText({
        sources: { r1: { type: 'seq', totalEvents: 10, channels: 'c1' } },
        channels: { c1: { type: 'memory' } },
        sinks: { k1: { type: 'null', channel: 'c1' } },
      }),
    );
    for (let i = 0; i < 3; i++) {
      const agent = spawnFlume(['agent', '-n', 'a1', '-f', file, '-c', path.join(ROOT, 'conf'), '-Dflume.root.logger=INFO,console']);
      await agent.waitFor(/Agent a1 started/);
      agent.proc.kill('SIGTERM');
      assert.equal(await agent.exited, 0, agent.stderr());
      assert.match(agent.stderr(), /Agent a1 stopped/);
    }
  } finally {
    t.cleanup();
  }
});
