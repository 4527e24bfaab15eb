import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlicedEvent, createEvent, type FlumeEvent } from '../core/event.js';
import { encodeBodies } from './text.js';

/** The events of a read, cut at its newlines as netcat cuts them. */
function lines(read: Buffer): SlicedEvent[] {
  const out: SlicedEvent[] = [];
  let s = 0;
  for (let nl = read.indexOf(0x0a); nl >= 0; nl = read.indexOf(0x0a, s)) {
    out.push(new SlicedEvent(read, s, nl));
    s = nl + 1;
  }
  return out;
}

/** What the text serializer must write: each body, then a newline. */
const expected = (events: FlumeEvent[], newline = true): string => events.map((e) => e.body.toString('latin1') + (newline ? '\n' : '')).join('');

test('consecutive lines of one read are written exactly as they were read', () => {
  const read = Buffer.from('one\ntwo\r\n\nfour with ünïcödé\n');
  const events = lines(read);
  assert.equal(encodeBodies(events, true).toString(), read.toString());
});

test('slices that are not next to each other are each followed by one newline', () => {
  const buf = Buffer.from('abXcd\nef\n\ngh');
  const events: FlumeEvent[] = [
    new SlicedEvent(buf, 0, 2), // "ab", followed by X, not a newline
    new SlicedEvent(buf, 3, 5), // "cd"
    new SlicedEvent(buf, 6, 8), // "ef": one newline after "cd": a run
    new SlicedEvent(buf, 3, 5), // "cd" again: out of order
    new SlicedEvent(buf, 10, 12), // "gh": two bytes after the last one
    new SlicedEvent(buf, 12, 12), // empty, at the very end of the buffer
  ];
  assert.equal(encodeBodies(events, true).toString('latin1'), expected(events));
  assert.equal(encodeBodies(events, true).toString('latin1'), 'ab\ncd\nef\ncd\ngh\n\n');
});

test('plain, sliced and replaced bodies mix in one batch', () => {
  const read = Buffer.from('a1\na2\na3\n');
  const [a1, a2, a3] = lines(read) as [SlicedEvent, SlicedEvent, SlicedEvent];
  a2.body = Buffer.from('replaced');
  const shared = Buffer.from('same');
  const events: FlumeEvent[] = [createEvent('plain'), a1, a2, a3, { headers: {}, body: shared }, { headers: {}, body: shared }, lines(read)[0]!];
  assert.equal(encodeBodies(events, true).toString(), 'plain\na1\nreplaced\na3\nsame\nsame\na1\n');
});

test('without appendNewline the bodies are concatenated, newlines of the read left out', () => {
  const events = lines(Buffer.from('x\ny\nz\n'));
  assert.equal(encodeBodies(events, false).toString(), 'xyz');
});

test('an empty batch is an empty buffer', () => {
  assert.equal(encodeBodies([], true).length, 0);
});
