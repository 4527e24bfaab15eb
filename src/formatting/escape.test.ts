import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EscapedString } from './escape.js';
import { createEvent } from '../core/event.js';

// 2024-03-05 11:54:34.567 UTC
const TS = String(Date.UTC(2024, 2, 5, 11, 54, 34, 567));
const ev = (headers: Record<string, string> = {}) => createEvent('x', headers);

test('header escapes; a missing header is empty', () => {
  const e = new EscapedString('/logs/%{app}/%{host.name}-%{missing}.log');
  assert.equal(e.format(ev({ app: 'web', 'host.name': 'h1' })), '/logs/web/h1-.log');
  assert.equal(e.needsTime, false);
});

test('time escapes from the timestamp header, in a given zone', () => {
  const e = new EscapedString('%Y-%m-%d/%H%M/%S %y %D %j %e %k %n %a %A %b %B %p %I %l %s %t %z %%', { timeZone: 'UTC' });
  assert.equal(e.format(ev({ timestamp: TS })), `2024-03-05/1154/34 24 03/05/24 065 5 11 3 Tue Tuesday Mar March AM 11 11 ${Math.floor(Number(TS) / 1000)} ${TS} +0000 %`);
  const sh = new EscapedString('%H:%M %z', { timeZone: 'Asia/Shanghai' });
  assert.equal(sh.format(ev({ timestamp: TS })), '19:54 +0800');
});

test('rounding down to 10 minutes and to the hour, as hdfs.round does', () => {
  const m = new EscapedString('%H:%M:%S', { timeZone: 'UTC', round: { value: 10, unit: 'minute' } });
  assert.equal(m.format(ev({ timestamp: TS })), '11:50:00');
  const h = new EscapedString('%H:%M:%S', { timeZone: 'UTC', round: { value: 1, unit: 'hour' } });
  assert.equal(h.format(ev({ timestamp: TS })), '11:00:00');
});

test('a time escape without a timestamp header fails, unless useLocalTimeStamp', () => {
  assert.throws(() => new EscapedString('%Y').format(ev()), /Expected timestamp in the Flume event headers/);
  const e = new EscapedString('%Y', { useLocalTimeStamp: true, timeZone: 'UTC' });
  assert.equal(e.format(ev(), Date.UTC(2030, 0, 1)), '2030');
});

test('a pattern with no escapes is returned as is', () => {
  const e = new EscapedString('plain-topic');
  assert.equal(e.hasEscapes, false);
  assert.equal(e.format(ev()), 'plain-topic');
});

test('%c, %l, unknown letters and the host escapes; every time escape (even %%) needs the timestamp', async () => {
  const os = await import('node:os');
  const e = new EscapedString('%c|%l|%q|%[localhost]|%[LOCALHOST]|%[FQDN]', { timeZone: 'UTC' });
  assert.equal(e.format(ev({ timestamp: TS })), `Tue Mar 5 11:54:34 2024|11||${os.hostname()}|${os.hostname()}|${os.hostname()}`);
  assert.throws(() => new EscapedString('100%%').format(ev()), /Expected timestamp/);
  assert.throws(() => new EscapedString('%[nope]'), /unknown escape %\[nope\]/);
  assert.throws(() => new EscapedString('%H').format(ev({ timestamp: 'soon' })), /timestamp header "soon" is not a number/);
  assert.match(new EscapedString('%[IP]').format(ev()), /^\d+\.\d+\.\d+\.\d+$/);
});

test('what a pattern tells apart: header escapes, the finest time unit', () => {
  assert.equal(new EscapedString('/f/%Y%m%d/%H').onlyTimeEscapes, true);
  assert.equal(new EscapedString('/f/%Y%m%d/%H').finestTimeUnitMs, 3_600_000);
  assert.equal(new EscapedString('/f/%D/%H%M').finestTimeUnitMs, 60_000);
  assert.equal(new EscapedString('/f/%{app}/%Y').onlyTimeEscapes, false);
  assert.equal(new EscapedString('/f/plain').onlyTimeEscapes, false);
});
