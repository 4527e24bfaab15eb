import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { setLongTimeout, MAX_TIMER_MS } from './timers.js';
import { sleep } from './lifecycle.js';

test('setLongTimeout waits the whole delay beyond 2^31 ms, never firing early', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let fired = 0;
    const thirtyDays = 30 * 24 * 3600 * 1000;
    setLongTimeout(() => fired++, thirtyDays);
    mock.timers.tick(MAX_TIMER_MS);
    assert.equal(fired, 0);
    mock.timers.tick(thirtyDays - MAX_TIMER_MS - 1);
    assert.equal(fired, 0);
    mock.timers.tick(1);
    assert.equal(fired, 1);
  } finally {
    mock.timers.reset();
  }
});

test('setLongTimeout can be cleared in any leg of the chain', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let fired = 0;
    const t = setLongTimeout(() => fired++, MAX_TIMER_MS * 2);
    mock.timers.tick(MAX_TIMER_MS + 10);
    t.clear();
    mock.timers.tick(MAX_TIMER_MS * 2);
    assert.equal(fired, 0);
  } finally {
    mock.timers.reset();
  }
});

test('sleep of a huge delay resolves at once when its signal aborts', async () => {
  const ac = new AbortController();
  const p = sleep(99_999_999_999, ac.signal);
  ac.abort();
  await p;
});
