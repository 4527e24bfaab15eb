import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimitedLog } from './rate-limit.js';
import type { Logger } from './logger.js';

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger: Logger = {
    error: (m) => lines.push(`E ${m}`),
    warn: (m) => lines.push(`W ${m}`),
    info: () => {},
    debug: () => {},
    isDebugEnabled: false,
    child: () => logger,
  };
  return { logger, lines };
}

test('RateLimitedLog logs the first of a kind, then one count per interval', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const { logger, lines } = capture();
    const log = new RateLimitedLog(logger, 10_000);
    for (let i = 0; i < 41_000; i++) log.warn('full', `dropped datagram ${i}`);
    log.warn('other', 'a different problem');
    assert.deepEqual(lines, ['W dropped datagram 0', 'W a different problem']);
    mock.timers.tick(10_000);
    assert.deepEqual(lines.slice(2), ['W dropped datagram 40999 (40999 more like this in the last 10 s)']);
    // A quiet interval ends the kind: the next one is logged at once again.
    mock.timers.tick(10_000);
    mock.timers.tick(10_000);
    log.warn('full', 'dropped again');
    assert.equal(lines.at(-1), 'W dropped again');
    log.error('full', 'ignored while limited');
    log.flush();
    assert.equal(lines.at(-1), 'W ignored while limited (1 more like this)');
  } finally {
    mock.timers.reset();
  }
});
