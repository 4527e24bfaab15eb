import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlicedEvent, bodyLength, compactSlices, createEvent, type FlumeEvent } from './event.js';

test('a sliced event reads as its slice, with empty headers of its own', () => {
  const read = Buffer.from('first\nsecond\n');
  const a = new SlicedEvent(read, 0, 5);
  const b = new SlicedEvent(read, 6, 12);
  assert.equal(bodyLength(b), 6);
  assert.equal(b.body.toString(), 'second');
  assert.equal(b.body, b.body, 'the view is made once');
  assert.deepEqual(a.headers, {});
  a.headers.host = 'h1';
  assert.deepEqual(a.headers, { host: 'h1' });
  assert.deepEqual(b.headers, {}, 'headers are not shared');
});

test('assigning the body or the headers of a sliced event replaces them', () => {
  const e = new SlicedEvent(Buffer.from('abc\ndef\n'), 4, 7);
  e.body = Buffer.from('longer body');
  assert.equal(e.body.toString(), 'longer body');
  assert.equal(bodyLength(e), 11);
  assert.equal(e.source, e.body);
  assert.deepEqual([e.start, e.end], [0, 11]);
  e.headers = { a: '1' };
  assert.deepEqual(e.headers, { a: '1' });
});

test('bodyLength of a plain event is its body length', () => {
  assert.equal(bodyLength(createEvent('héllo')), 6);
});

test('compactSlices copies sliced bodies into one buffer of their own and keeps the headers', () => {
  const read = Buffer.from('keep me\ndrop\nkeep too\n');
  const a = new SlicedEvent(read, 0, 7);
  const b = new SlicedEvent(read, 13, 21);
  a.headers.k = 'v';
  const plain = createEvent('plain');
  const out = compactSlices([a, plain, b]);
  assert.equal(out[1], plain);
  const [ca, , cb] = out as [SlicedEvent, FlumeEvent, SlicedEvent];
  assert.deepEqual([ca.body.toString(), cb.body.toString()], ['keep me', 'keep too']);
  assert.equal(ca.source, cb.source);
  assert.equal(ca.source.length, 15, 'only the kept bytes');
  assert.deepEqual(ca.headers, { k: 'v' });
  assert.deepEqual(compactSlices([plain]), [plain]);
});
