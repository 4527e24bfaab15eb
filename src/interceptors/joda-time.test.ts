import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileJodaPattern } from './joda-time.js';

const local = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number => {
  const dt = new Date(0);
  dt.setFullYear(y, mo - 1, d);
  dt.setHours(h, mi, s, ms);
  return dt.getTime();
};

test("the guide's pattern parses to local epoch millis", () => {
  assert.equal(compileJodaPattern('yyyy-MM-dd HH:mm')('2012-10-17 14:34'), local(2012, 10, 17, 14, 34));
});

test('seconds, fractions, adjacent numbers and single digits', () => {
  assert.equal(compileJodaPattern('yyyy-MM-dd HH:mm:ss.SSS')('2024-02-29 23:59:58.123'), local(2024, 2, 29, 23, 59, 58, 123));
  assert.equal(compileJodaPattern('yyyyMMddHHmmss')('20240105070809'), local(2024, 1, 5, 7, 8, 9));
  assert.equal(compileJodaPattern('d/M/yyyy')('5/1/2024'), local(2024, 1, 5));
  assert.equal(compileJodaPattern('ss.S')('01.5'), local(1970, 1, 1, 0, 0, 1, 500));
});

test('month names, 12-hour clock, quoted text and offsets', () => {
  assert.equal(compileJodaPattern('dd MMM yyyy hh:mm a')('07 Mar 2023 02:15 PM'), local(2023, 3, 7, 14, 15));
  assert.equal(compileJodaPattern('MMMM d, yyyy')('september 9, 2021'), local(2021, 9, 9));
  assert.equal(compileJodaPattern("yyyy-MM-dd'T'HH:mm:ssZZ")('2020-01-01T00:00:00+01:00'), Date.UTC(2019, 11, 31, 23));
  assert.equal(compileJodaPattern("yyyy-MM-dd'T'HH:mmZ")('2020-01-01T00:00-0130'), Date.UTC(2020, 0, 1, 1, 30));
  assert.equal(compileJodaPattern("yyyy-MM-dd'T'HH:mmZ")('2020-01-01T00:00Z'), Date.UTC(2020, 0, 1));
  assert.equal(compileJodaPattern("'at' HH 'o''clock'")("AT 05 o'clock"), local(1970, 1, 1, 5));
});

test('two-digit years pivot around the current year', () => {
  const yy = (new Date().getFullYear() + 5) % 100;
  assert.equal(new Date(compileJodaPattern('yy')(String(yy).padStart(2, '0'))).getFullYear(), new Date().getFullYear() + 5);
});

test('bad values and unsupported letters are refused', () => {
  const p = compileJodaPattern('yyyy-MM-dd');
  assert.throws(() => p('2024-13-01'), /month 13/);
  assert.throws(() => p('2023-02-29'), /does not exist/);
  assert.throws(() => p('2024-01-01x'), /malformed/);
  assert.throws(() => p('nope'), /expects a number/);
  assert.throws(() => compileJodaPattern('EEE yyyy'), /letter "E" is not supported/);
  assert.throws(() => compileJodaPattern('HH z'), /letter "z"/);
  assert.throws(() => compileJodaPattern("'open"), /unterminated quote/);
});
