import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Context } from '../core/context.js';
import { resolveOptions } from '../core/options.js';
import { withTransaction } from '../core/transaction.js';
import { createEvent } from '../core/event.js';
import { SinkCounter } from '../core/counters.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { MemoryChannel, options as memoryOptions } from '../channels/memory.js';
import textSerializer from '../serializers/text.js';
import { RollingFileSink, options } from './file-roll.js';

function recordingLogger(lines: string[]): Logger {
  const log = (m: string): void => void lines.push(m);
  return { ...silentLogger, info: log, warn: log, error: log, child: () => recordingLogger(lines) };
}

async function put(ch: MemoryChannel, bodies: string[]): Promise<void> {
  await withTransaction(ch, (tx) => tx.put(bodies.map((b) => createEvent(b))));
}

/**
 * The sink writes from the event loop while writes are fast, and through the thread
 * pool after a slow one. A threshold of -1 ms makes every write "slow", so the first
 * batch is written the first way and the rest the second way.
 */
for (const [label, slowWriteMs, switches] of [
  ['fast writes', 60_000, false],
  ['after a slow write', -1, true],
] as const) {
  test(`file_roll writes every batch in order (${label})`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-ts-roll-'));
    try {
      const ch = new MemoryChannel('c1', resolveOptions(memoryOptions, new Context({ capacity: '1000', transactionCapacity: '100' })).options);
      const o = resolveOptions(options, new Context({ 'sink.directory': dir, 'sink.rollInterval': '0', 'sink.batchSize': '10' }));
      assert.deepEqual(o.problems, []);
      const logs: string[] = [];
      const make = () => textSerializer.create({ name: 'k1', options: { appendNewline: true }, context: new Context({}), logger: silentLogger, registry: undefined as never });
      const sink = new RollingFileSink('k1', ch, o.options, make, recordingLogger(logs), new SinkCounter('k1'), slowWriteMs);
      await sink.start();
      const want: string[] = [];
      for (let b = 0; b < 5; b++) {
        const bodies = Array.from({ length: 10 }, (_, i) => `batch ${b} line ${i}`);
        want.push(...bodies);
        await put(ch, bodies);
        assert.equal(await sink.process(), 'READY');
      }
      assert.equal(await sink.process(), 'BACKOFF');
      await sink.stop();
      const files = fs.readdirSync(dir);
      assert.equal(files.length, 1);
      assert.equal(fs.readFileSync(path.join(dir, files[0]!), 'utf8'), want.map((l) => l + '\n').join(''));
      assert.equal(
        logs.some((l) => /writing from the thread pool for the next 60 s/.test(l)),
        switches,
        logs.join('\n'),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
