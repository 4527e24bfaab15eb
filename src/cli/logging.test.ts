import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger, loggingSettings } from './logging.js';

test('a log line is in the log file when log() returns, and close() waits for no timer or I/O callback', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-ts-log-'));
  try {
    const logger = createLogger(loggingSettings(undefined, { 'flume.log.dir': dir, 'flume.root.logger': 'INFO,LOGFILE' }));
    logger.info('first line');
    logger.warn('last line before the exit');
    const text = fs.readFileSync(path.join(dir, 'flume.log'), 'utf8');
    assert.match(text, /\[INFO - org\.apache\.flume\.node\.Application\] first line\n.*\[WARN - org\.apache\.flume\.node\.Application\] last line before the exit\n$/);
    // close() settles before the event loop gets to run anything else: an exit right after it loses nothing and waits for nothing.
    let turned = false;
    setImmediate(() => (turned = true));
    await logger.close();
    assert.equal(turned, false);
    logger.info('after close: dropped, not an error');
    assert.equal(fs.readFileSync(path.join(dir, 'flume.log'), 'utf8'), text);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
